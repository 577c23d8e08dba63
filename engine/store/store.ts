// What requests share across each other and, with a shared store, across instances: the values
// stream transforms write for a later request ($remember / $recall: what an upstream needs back and
// a client drops), leases for `maxConcurrent`, and the sliding windows of rate limits. Every call is
// async so a store on another machine can implement it; none of them fails a request (a store that
// cannot answer treats a value as absent and counts limits in this process: redis.ts).

export interface Store {
  get(key: string): Promise<unknown>
  /** ttlSeconds defaults to the store's own TTL. */
  set(key: string, value: unknown, ttlSeconds?: number): Promise<void>
  /**
   * One of `max` leases named `name`: resolves with the function that gives it back (once; settled
   * when the store has it back), or null when all `max` are held. A lease whose holder stops renewing
   * it (a process that died) lapses.
   */
  lease(name: string, max: number): Promise<Release | null>
  /** Counts against sliding windows, all of them or none: see Window. */
  take(windows: readonly Window[]): Promise<Taken>
  health(): StoreHealth
  close(): Promise<void>
}

export type Release = () => void | Promise<void>

/** A sliding-window counter: allowed when `used + need <= limit`, and then `add` is counted. */
export interface Window {
  key: string
  limit: number
  need: number
  add: number
  windowMs: number
}

/** `window` is the index of the first window that refused; `retryAfterMs` when it will allow `need`. */
export type Taken = { ok: true } | { ok: false; window: number; retryAfterMs: number }

export interface StoreHealth {
  kind: 'memory' | 'redis'
  ok: boolean
  /** Where it is (no credentials). */
  target?: string
  /** Since when it has been unreachable, and the first error of this outage. */
  since?: string
  error?: string
}
