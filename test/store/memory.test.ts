import t from 'tap'
import { MemoryStore } from '../../engine/store/memory.js'

t.test('entries expire after their TTL', async (t) => {
  let now = 1_000_000
  const s = new MemoryStore({ ttlSeconds: 10, now: () => now })
  await s.set('a', { x: 1 })
  await s.set('b', 2, 100)
  t.same(await s.get('a'), { x: 1 })
  now += 10_001
  t.equal(await s.get('a'), undefined, 'default TTL passed')
  t.equal(await s.get('b'), 2, 'own TTL not yet')
  now += 90_000
  t.equal(await s.get('b'), undefined)
})

t.test('the entry bound drops the least recently used first: a read keeps an entry', async (t) => {
  const s = new MemoryStore({ maxEntries: 3 })
  for (const k of ['a', 'b', 'c']) await s.set(k, k)
  t.equal(await s.get('a'), 'a', 'a read: a is now the most recently used')
  await s.set('d', 'd')
  t.equal(s.size, 3)
  t.equal(await s.get('b'), undefined, 'b was the least recently used')
  t.equal(await s.get('a'), 'a', 'a stayed although it was written first (a FIFO would have dropped it)')
  t.equal(await s.get('c'), 'c')
  t.equal(await s.get('d'), 'd')
})

t.test('the byte bound drops the least recently used values', async (t) => {
  const s = new MemoryStore({ maxBytes: 1000 })
  const big = 'x'.repeat(400)
  await s.set('a', big)
  await s.set('b', big)
  await s.set('c', big)
  t.equal(await s.get('a'), undefined, '3 × 402 bytes do not fit in 1000: the oldest went')
  t.equal(await s.get('b'), big)
  t.equal(await s.get('c'), big)
})

t.test('null, false and 0 are values, not absences', async (t) => {
  const s = new MemoryStore()
  for (const v of [null, false, 0, '']) {
    await s.set('k', v)
    t.equal(await s.get('k'), v)
  }
})

t.test('a TTL of 0 expires at once (as on Redis), not never', async (t) => {
  const s = new MemoryStore()
  await s.set('k', 1, 0)
  t.equal(await s.get('k'), undefined)
})
