// The Store on a Redis server, shared by every instance that names it: values as JSON with their TTL,
// leases in a sorted set per name (scores are expiry times, renewed while held), sliding windows in
// a hash per window (bucket → count). Leases and windows run as Lua scripts on Redis's own clock, so
// instances whose clocks differ still agree. Calls made in the same tick go out in one write
// (ioredis auto-pipelining).
//
// Nothing here fails a request: a call that errs or takes longer than `timeoutMs` turns the store off
// (outage.ts) — values then read as absent and are not written, leases and windows are counted in
// this process — and a probe every second turns it back on. ioredis reconnects by itself.
import { Redis } from 'ioredis'
import type { Logger } from '../log.js'
import { randomId } from '../random-id.js'
import { MemoryStore } from './memory.js'
import { Outage, withTimeout, type StoreErrorReason } from './outage.js'
import type { Release, Store, StoreHealth, Taken, Window } from './store.js'

export interface RedisStoreOptions {
  /** redis://[user:password@]host:port/db or rediss:// (TLS). */
  url: string
  /** Put before every key, so that several deployments can share one Redis. */
  prefix: string
  /** Longest wait for any one call. */
  timeoutMs: number
  ttlSeconds?: number
  /** How long a lease outlives its holder's last renewal (renewed every third of it). */
  leaseTtlMs?: number
  logger: Logger
  onError?: (op: string, reason: StoreErrorReason) => void
}

// KEYS: the windows; ARGV: limit, need, add, windowMs for each. Returns {0, 0}, or {the 1-based
// index of the window that refused, ms until it would allow}. Same arithmetic as windows.ts.
const TAKE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local at = {}
for i, key in ipairs(KEYS) do
  local limit, need, win = tonumber(ARGV[i * 4 - 3]), tonumber(ARGV[i * 4 - 2]), tonumber(ARGV[i * 4])
  local size = win / 60
  local b = math.floor(now / size)
  local flat = redis.call('HGETALL', key)
  local used, live, stale = 0, {}, {}
  for j = 1, #flat, 2 do
    local k, n = tonumber(flat[j]), tonumber(flat[j + 1])
    if k <= b - 60 then stale[#stale + 1] = flat[j] else used = used + n; live[#live + 1] = {k, n} end
  end
  if #stale > 0 then redis.call('HDEL', key, unpack(stale)) end
  if used + need > limit then
    table.sort(live, function(x, y) return x[1] < y[1] end)
    local wait = (b + 61) * size - now
    for _, e in ipairs(live) do
      used = used - e[2]
      if used + need <= limit then wait = (e[1] + 60) * size - now; break end
    end
    return {i, math.max(1, math.ceil(wait))}
  end
  at[i] = b
end
for i, key in ipairs(KEYS) do
  local add = tonumber(ARGV[i * 4 - 1])
  if add > 0 then
    redis.call('HINCRBY', key, at[i], add)
    redis.call('PEXPIRE', key, math.ceil(tonumber(ARGV[i * 4]) * 61 / 60))
  end
end
return {0, 0}
`

// KEYS[1]: the lease set; ARGV: max, ttl ms, id. 1 when taken.
const LEASE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[3])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))
return 1
`

// KEYS[1]: the lease set; ARGV: ttl ms, then the ids held. Put back too if they lapsed (Redis
// restarted, or unreachable for longer than the ttl): the calls they stand for are still running.
const RENEW = `
local t = redis.call('TIME')
local expires = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + tonumber(ARGV[1])
for i = 2, #ARGV do redis.call('ZADD', KEYS[1], expires, ARGV[i]) end
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[1]))
return 1
`

type Scripted = Redis & {
  reTake(keys: number, ...args: (string | number)[]): Promise<[number, number]>
  reLease(key: string, max: number, ttlMs: number, id: string): Promise<number>
  reRenew(key: string, ttlMs: number, ...ids: string[]): Promise<number>
}

const ID_CHARS = 'abcdefghijklmnopqrstuvwxyz0123456789'
const PROBE_MS = 1000
const NO_LIMIT = Number.MAX_SAFE_INTEGER

export class RedisStore implements Store {
  readonly #client: Scripted
  readonly #o: Required<Omit<RedisStoreOptions, 'onError'>> & Pick<RedisStoreOptions, 'onError'>
  readonly #outage: Outage
  /** Leases and windows while Redis is unreachable. */
  readonly #local = new MemoryStore({ maxEntries: 1 })
  /** Lease set key → the ids this process holds there. */
  readonly #held = new Map<string, Set<string>>()
  readonly #timers: NodeJS.Timeout[] = []
  readonly target: string

  constructor(opts: RedisStoreOptions) {
    this.#o = { ttlSeconds: 6 * 3600, leaseTtlMs: 30_000, ...opts }
    this.target = describe(opts.url)
    this.#outage = new Outage(this.target, opts.logger, opts.onError)
    this.#client = new Redis(opts.url, {
      enableAutoPipelining: true,
      // A call made while disconnected fails at once instead of waiting in a queue.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectTimeout: Math.max(1000, opts.timeoutMs * 4),
      // A restarted Redis is found within a second.
      retryStrategy: (n) => Math.min(100 * 2 ** n, 1000),
      lazyConnect: true,
    }) as Scripted
    this.#client.defineCommand('reTake', { lua: TAKE })
    this.#client.defineCommand('reLease', { lua: LEASE, numberOfKeys: 1 })
    this.#client.defineCommand('reRenew', { lua: RENEW, numberOfKeys: 1 })
    // Reconnection errors come here, once per attempt: the outage logs the first.
    this.#client.on('error', (err) => { if (!this.#outage.down) this.#outage.failed('connection', err) })
    this.#client.on('ready', () => void this.#probe())
    this.#timers.push(
      setInterval(() => { if (this.#outage.down) void this.#probe() }, PROBE_MS).unref(),
      setInterval(() => this.#renew(), this.#o.leaseTtlMs / 3).unref(),
    )
  }

  /** Connects; resolves either way (an unreachable Redis at start is an outage like any other). */
  async connect(): Promise<void> {
    try {
      await withTimeout(this.#client.connect(), Math.max(1000, this.#o.timeoutMs * 4), 'connect')
    } catch (err) {
      if (!this.#outage.down) this.#outage.failed('connect', err)
    }
  }

  async get(key: string): Promise<unknown> {
    const text = await this.#call('get', () => this.#client.get(this.#key('kv:', key)), null)
    if (text === null) return undefined
    try {
      return JSON.parse(text)
    } catch {
      this.#o.logger.error({ store: this.target, key }, 'store value is not JSON: treated as absent')
      return undefined
    }
  }

  async set(key: string, value: unknown, ttlSeconds?: number): Promise<void> {
    const k = this.#key('kv:', key)
    const json = JSON.stringify(value)
    const ms = Math.max(1, Math.round((ttlSeconds ?? this.#o.ttlSeconds) * 1000))
    await this.#call('set', (): Promise<unknown> => (json === undefined ? this.#client.del(k) : this.#client.set(k, json, 'PX', ms)), null)
  }

  async lease(name: string, max: number): Promise<Release | null> {
    const key = this.#key('lease:', name)
    const id = randomId(ID_CHARS, 16)
    const got = await this.#call('lease', () => this.#client.reLease(key, max, this.#o.leaseTtlMs, id), -1)
    if (got === -1) return this.#local.leaseNow(name, max)
    if (got !== 1) return null
    const ids = this.#held.get(key) ?? new Set<string>()
    this.#held.set(key, ids.add(id))
    let given = false
    return async () => {
      if (given) return
      given = true
      ids.delete(id)
      if (!ids.size) this.#held.delete(key)
      await this.#call('release', () => this.#client.zrem(key, id), 0)
    }
  }

  async take(windows: readonly Window[]): Promise<Taken> {
    if (!windows.length) return { ok: true }
    const args: (string | number)[] = windows.map((w) => this.#key('rate:', w.key))
    for (const w of windows) args.push(Math.min(w.limit, NO_LIMIT), w.need, Math.round(w.add), w.windowMs)
    const r = await this.#call('take', () => this.#client.reTake(windows.length, ...args), null)
    if (!r) return this.#local.take(windows)
    return r[0] === 0 ? { ok: true } : { ok: false, window: r[0] - 1, retryAfterMs: r[1] }
  }

  health(): StoreHealth {
    const down = this.#outage.down
    return { kind: 'redis', ok: !down, target: this.target, ...(down ? { since: this.#outage.since!.toISOString(), error: this.#outage.error } : {}) }
  }

  async close(): Promise<void> {
    for (const t of this.#timers) clearInterval(t)
    try {
      await withTimeout(this.#client.quit(), this.#o.timeoutMs, 'quit')
    } catch {
      this.#client.disconnect()
    }
  }

  #key(kind: string, key: string): string {
    return this.#o.prefix + kind + key
  }

  /** f() within the timeout; `otherwise` when the store is down or the call fails. */
  async #call<T, U>(op: string, f: () => Promise<T>, otherwise: U): Promise<T | U> {
    if (this.#outage.down) {
      this.#outage.skipped(op)
      return otherwise
    }
    try {
      return await withTimeout(f(), this.#o.timeoutMs, op)
    } catch (err) {
      this.#outage.failed(op, err)
      return otherwise
    }
  }

  async #probe(): Promise<void> {
    if (this.#client.status !== 'ready') return
    try {
      await withTimeout(this.#client.ping(), this.#o.timeoutMs, 'ping')
      this.#outage.recovered()
    } catch { /* still down: the next probe tries again */ }
  }

  #renew(): void {
    for (const [key, ids] of this.#held) void this.#call('renew', () => this.#client.reRenew(key, this.#o.leaseTtlMs, ...ids), 0)
  }
}

/** host:port/db of a redis URL, without its credentials (for logs and /readyz). */
export function describe(url: string): string {
  const u = new URL(url)
  return `${u.protocol}//${u.hostname}:${u.port || 6379}${u.pathname && u.pathname !== '/' ? u.pathname : '/0'}`
}
