// The Store contract, held against the memory store and a real redis-server (started here on a free
// loopback port): values, TTLs, leases, sliding windows, and what a Redis outage or stall does.
import { Writable } from 'node:stream'
import { Redis } from 'ioredis'
import t from 'tap'
import { createLogger } from '../../engine/log.js'
import { MemoryStore } from '../../engine/store/memory.js'
import { RedisStore } from '../../engine/store/redis.js'
import type { Store } from '../../engine/store/store.js'
import { startRedis } from '../helpers/redis.js'

const redis = await startRedis()
t.teardown(() => redis.stop())
const raw = new Redis(redis.url)
t.teardown(() => raw.quit())

/** A logger whose lines a test can wait on. */
function listeningLogger() {
  const lines: any[] = []
  let waiters: { msg: string; resolve: (l: any) => void }[] = []
  const sink = new Writable({
    write(chunk, _enc, cb) {
      const l = JSON.parse(String(chunk))
      lines.push(l)
      const hit = waiters.filter((w) => w.msg === l.msg)
      waiters = waiters.filter((w) => w.msg !== l.msg)
      for (const w of hit) w.resolve(l)
      cb()
    },
  })
  return { logger: createLogger('info', sink), lines, next: (msg: string) => new Promise<any>((resolve) => waiters.push({ msg, resolve })) }
}

let n = 0
async function redisStore(opts: Partial<ConstructorParameters<typeof RedisStore>[0]> = {}): Promise<RedisStore> {
  const s = new RedisStore({ url: redis.url, prefix: `test${n++}:`, timeoutMs: 500, logger: createLogger('silent'), ...opts })
  await s.connect()
  return s
}

// Values JSON can carry exactly: key order, unicode (astral and lone surrogates), number edge cases.
const VALUES: unknown[] = [
  null, false, true, 0, 1.5, 0.1 + 0.2, 1e300, -123456789012345, '', 'plain', 'é 漢字 🙂 \u0000 \n "quoted"', '\ud800 lone',
  [], {}, [1, [2, [3]]], { z: 1, a: 2, m: [{ y: null, b: 'x' }] },
  [{ type: 'thinking', thinking: 'The user asks…', signature: 'EqQBCkYIBxgCKkD' + 'A'.repeat(300) }, { type: 'redacted_thinking', data: 'b3BhcXVl' }],
]

for (const kind of ['memory', 'redis'] as const) {
  // 8 MB take a few hundred ms each way on a busy two-core machine: a timeout that leaves room
  const open = async (): Promise<Store> => (kind === 'memory' ? new MemoryStore() : redisStore({ timeoutMs: 10_000 }))

  t.test(`${kind}: values round-trip exactly, absent keys read as undefined`, async (t) => {
    const s = await open()
    t.teardown(() => s.close())
    t.equal(await s.get('missing'), undefined)
    for (const [i, v] of VALUES.entries()) {
      await s.set(`v${i}`, v)
      const got = await s.get(`v${i}`)
      t.equal(JSON.stringify(got), JSON.stringify(v), `value ${i} byte-exact`)
      t.same(got, v)
    }
    await s.set('v0', 'overwritten')
    t.equal(await s.get('v0'), 'overwritten')
  })

  t.test(`${kind}: a large value (8 MB of thinking blocks) round-trips`, async (t) => {
    const s = await open()
    t.teardown(() => s.close())
    const big = Array.from({ length: 2000 }, (_, i) => ({ type: 'thinking', thinking: `step ${i} `.repeat(400), signature: String(i).repeat(100) }))
    await s.set('big', big)
    const got = JSON.stringify(await s.get('big'))
    const want = JSON.stringify(big)
    t.equal(got?.length, want.length, `${want.length} bytes back`)
    t.ok(got === want, 'byte-exact')
    t.ok(s.health().ok, 'within the timeout')
  })

  t.test(`${kind}: leases: at most max held, a release frees one (once)`, async (t) => {
    const s = await open()
    t.teardown(() => s.close())
    const a = await s.lease('up', 2)
    const b = await s.lease('up', 2)
    t.ok(a && b, 'two of two')
    t.equal(await s.lease('up', 2), null, 'a third is refused')
    t.ok(await s.lease('other', 2), 'another name counts apart')
    await a!()
    await a!()
    const c = await s.lease('up', 2)
    t.ok(c, 'a released lease is free again')
    t.equal(await s.lease('up', 2), null, 'released twice counts once')
  })

  t.test(`${kind}: windows: N allowed, then refused with when to retry; all or none`, async (t) => {
    const s = await open()
    t.teardown(() => s.close())
    const w = { key: 'k:requests', limit: 3, need: 1, add: 1, windowMs: 60_000 }
    for (let i = 0; i < 3; i++) t.same(await s.take([w]), { ok: true }, `request ${i + 1}`)
    const refused = await s.take([w])
    t.equal(refused.ok, false)
    if (!refused.ok) {
      t.equal(refused.window, 0)
      t.ok(refused.retryAfterMs > 58_000 && refused.retryAfterMs <= 61_000, `retry after about a minute (${refused.retryAfterMs} ms)`)
    }
    // tokens: checked with need 1 (some left), counted afterwards with need 0
    const tokens = { key: 'k:tokens', limit: 100, need: 1, add: 0, windowMs: 60_000 }
    const other = { key: 'o:requests', limit: 10, need: 1, add: 1, windowMs: 60_000 }
    t.same(await s.take([other, tokens]), { ok: true })
    t.same(await s.take([{ ...tokens, need: 0, add: 150, limit: Number.MAX_SAFE_INTEGER }]), { ok: true }, 'usage counted past the limit')
    const over = await s.take([other, tokens])
    t.match(over, { ok: false, window: 1 }, 'the token window refuses')
    // `other` was counted once (the first take), not by the refused one: 9 more fit, not 8
    for (let i = 0; i < 9; i++) t.same(await s.take([other]), { ok: true })
    t.match(await s.take([other]), { ok: false }, 'the 11th is refused: all or none held')
  })
}

t.test('memory: windows slide: counts leave the window bucket by bucket', async (t) => {
  let now = 1_000_000_000
  const s = new MemoryStore({ now: () => now })
  const w = { key: 'k', limit: 2, need: 1, add: 1, windowMs: 60_000 }
  await s.take([w])
  now += 30_000
  await s.take([w])
  const r = await s.take([w])
  t.match(r, { ok: false, retryAfterMs: 30_000 }, 'the first request leaves the window 60 s after it came')
  now += 30_000
  t.same(await s.take([w]), { ok: true }, 'and then one more fits')
  t.match(await s.take([w]), { ok: false, retryAfterMs: 30_000 })
})

t.test('redis: values get their TTL and expire', async (t) => {
  const s = await redisStore({ prefix: 'ttl:' })
  t.teardown(() => s.close())
  await s.set('default', 1)
  await s.set('own', 2, 120)
  await s.set('short', 3, 0.3)
  const defaultTtl = await raw.pttl('ttl:kv:default')
  t.ok(defaultTtl > 6 * 3600_000 - 5000 && defaultTtl <= 6 * 3600_000, `6 h by default (${defaultTtl} ms)`)
  const own = await raw.pttl('ttl:kv:own')
  t.ok(own > 115_000 && own <= 120_000, `its own TTL (${own} ms)`)
  t.equal(await raw.get('ttl:kv:own'), '2', 'stored as JSON under prefix + kv:')
  // expiry is Redis's own: wait for the key to go
  while (await raw.exists('ttl:kv:short')) await new Promise((r) => setTimeout(r, 50))
  t.equal(await s.get('short'), undefined, 'expired')
  t.equal(await s.get('own'), 2)
})

t.test('redis: leases and windows are shared by every store on the same Redis', async (t) => {
  const a = await redisStore({ prefix: 'shared:' })
  const b = await redisStore({ prefix: 'shared:' })
  t.teardown(async () => { await a.close(); await b.close() })
  t.ok(await a.lease('up', 2))
  t.ok(await b.lease('up', 2))
  t.equal(await a.lease('up', 2), null, 'A sees B’s lease')
  t.equal(await b.lease('up', 2), null)
  const w = { key: 'k', limit: 4, need: 1, add: 1, windowMs: 60_000 }
  const results = await Promise.all([a, b, a, b, a, b].map((s) => s.take([w])))
  t.equal(results.filter((r) => r.ok).length, 4, '4 of 6 concurrent takes across two stores')
  await a.set('x', { from: 'a' })
  t.same(await b.get('x'), { from: 'a' })
})

t.test('redis: a lease whose holder died lapses after its TTL', async (t) => {
  const holder = await redisStore({ prefix: 'lapse:', leaseTtlMs: 600 })
  const other = await redisStore({ prefix: 'lapse:', leaseTtlMs: 600 })
  t.teardown(() => other.close())
  t.ok(await holder.lease('up', 1))
  t.equal(await other.lease('up', 1), null, 'held')
  await holder.close() // the holder is gone: no release, no renewal
  const t0 = Date.now()
  let got: (() => void) | null = null
  while (!(got = await other.lease('up', 1))) await new Promise((r) => setTimeout(r, 50))
  t.ok(Date.now() - t0 < 2000, 'free again within its TTL')
  await got()
})

t.test('redis: a lease is renewed while held', async (t) => {
  const holder = await redisStore({ prefix: 'renew:', leaseTtlMs: 300 })
  const other = await redisStore({ prefix: 'renew:', leaseTtlMs: 300 })
  t.teardown(async () => { await holder.close(); await other.close() })
  const release = await holder.lease('up', 1)
  // three TTLs later it is still held, its score moved forward by the renewals
  const first = Number((await raw.zrange('renew:lease:up', 0, -1, 'WITHSCORES'))[1])
  while (Number((await raw.zrange('renew:lease:up', 0, -1, 'WITHSCORES'))[1]) < first + 600) await new Promise((r) => setTimeout(r, 50))
  t.equal(await other.lease('up', 1), null, 'still held after twice its TTL')
  await release!()
  while (await raw.zcard('renew:lease:up')) await new Promise((r) => setTimeout(r, 20))
  t.ok(await other.lease('up', 1), 'free once released')
})

t.test('redis down: calls answer at once as if empty, limits count in the process, one log line, recovery', async (t) => {
  const log = listeningLogger()
  const errors: string[] = []
  const s = await redisStore({ prefix: 'down:', logger: log.logger, onError: (op, reason) => errors.push(`${op}:${reason}`) })
  t.teardown(() => s.close())
  await s.set('kept', 'before')
  t.equal(s.health().ok, true)

  await redis.kill()
  t.equal(await s.get('kept'), undefined, 'unreachable: absent')
  await s.set('x', 1)
  t.equal(await s.get('x'), undefined)
  const a = await s.lease('up', 1)
  t.ok(a, 'a lease from the process count')
  t.equal(await s.lease('up', 1), null, 'which still holds maxConcurrent in this process')
  await a!()
  const w = { key: 'k', limit: 1, need: 1, add: 1, windowMs: 60_000 }
  t.same(await s.take([w]), { ok: true })
  t.match(await s.take([w]), { ok: false }, 'windows count in the process')
  const h = s.health()
  t.match(h, { kind: 'redis', ok: false, target: `redis://127.0.0.1:${redis.port}/0` })
  t.ok(h.since && h.error, 'since when, and why')
  t.equal(log.lines.filter((l) => l.msg.startsWith('store unavailable')).length, 1, 'logged once for the outage')
  t.ok(errors.length >= 6, `every call counted (${errors.length})`)
  t.ok(errors.some((e) => e.endsWith(':unavailable')), 'skipped calls counted as unavailable')

  const back = log.next('store available again')
  await redis.start()
  const line = await back
  t.ok(line.callsWithoutStore >= 6)
  t.equal(s.health().ok, true)
  await s.set('after', 'yes')
  t.equal(await raw.get('down:kv:after'), '"yes"', 'writes reach Redis again')
})

t.test('redis stalled (SIGSTOP): a call waits one timeout at most, then none; recovery on SIGCONT', async (t) => {
  const log = listeningLogger()
  const s = await redisStore({ prefix: 'stall:', timeoutMs: 200, logger: log.logger })
  t.teardown(() => s.close())
  await s.set('k', 1)
  redis.pause()
  t.teardown(() => redis.resume())
  let t0 = performance.now()
  t.equal(await s.get('k'), undefined)
  const first = performance.now() - t0
  t.ok(first >= 190 && first < 1000, `the first call waits for its timeout (${first.toFixed(0)} ms)`)
  t0 = performance.now()
  for (let i = 0; i < 20; i++) await s.get('k')
  const next = performance.now() - t0
  t.ok(next < 50, `20 more calls while down return at once (${next.toFixed(1)} ms)`)
  t.match(s.health(), { ok: false, error: /no answer in 200 ms/ })
  const back = log.next('store available again')
  redis.resume()
  await back
  t.equal(await s.get('k'), 1, 'the value is there again')
})
