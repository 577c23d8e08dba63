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

t.test('the size bound drops the oldest writes first', async (t) => {
  const s = new MemoryStore({ maxEntries: 3 })
  for (const k of ['a', 'b', 'c']) await s.set(k, k)
  await s.set('a', 'a2') // rewriting makes it the newest
  await s.set('d', 'd')
  t.equal(s.size, 3)
  t.equal(await s.get('b'), undefined, 'b was the oldest')
  t.equal(await s.get('a'), 'a2')
  t.equal(await s.get('d'), 'd')
})
