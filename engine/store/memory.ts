// The in-process Store: a bounded LRU of values (entries and bytes), each with its TTL; leases and
// sliding windows counted in this process.
import { LRUCache } from 'lru-cache'
import type { Store, StoreHealth, Taken, Window } from './store.js'
import { Windows } from './windows.js'

export interface MemoryStoreOptions {
  ttlSeconds?: number
  maxEntries?: number
  /** Bound on the values' size, counted as their JSON length. */
  maxBytes?: number
  /** ms clock (tests). */
  now?: () => number
}

// LRUCache holds no undefined or null values: each is boxed.
type Box = { value: unknown }

export class MemoryStore implements Store {
  readonly #values: LRUCache<string, Box>
  readonly #ttlMs: number
  readonly #leases = new Map<string, number>()
  readonly #windows: Windows

  constructor(opts: MemoryStoreOptions = {}) {
    this.#ttlMs = (opts.ttlSeconds ?? 6 * 3600) * 1000
    const now = opts.now ?? Date.now
    this.#values = new LRUCache<string, Box>({
      max: opts.maxEntries ?? 50_000,
      maxSize: opts.maxBytes ?? 256 << 20,
      sizeCalculation: (b) => Math.max(1, JSON.stringify(b.value)?.length ?? 1),
      ttl: this.#ttlMs,
      perf: { now },
      // lru-cache reuses a clock reading for 1 ms of real time; a test's clock moves by itself.
      ttlResolution: opts.now ? 0 : 1,
    })
    this.#windows = new Windows(now)
  }

  get size(): number {
    return this.#values.size
  }

  async get(key: string): Promise<unknown> {
    return this.#values.get(key)?.value
  }

  async set(key: string, value: unknown, ttlSeconds?: number): Promise<void> {
    this.#values.set(key, { value }, { ttl: ttlSeconds === undefined ? this.#ttlMs : ttlSeconds * 1000 })
  }

  async lease(name: string, max: number): Promise<(() => void) | null> {
    return this.leaseNow(name, max)
  }

  /** lease(), synchronously. */
  leaseNow(name: string, max: number): (() => void) | null {
    const n = this.#leases.get(name) ?? 0
    if (n >= max) return null
    this.#leases.set(name, n + 1)
    let given = false
    return () => {
      if (given) return
      given = true
      const left = this.#leases.get(name)! - 1
      if (left) this.#leases.set(name, left)
      else this.#leases.delete(name)
    }
  }

  async take(windows: readonly Window[]): Promise<Taken> {
    return this.#windows.take(windows)
  }

  health(): StoreHealth {
    return { kind: 'memory', ok: true }
  }

  async close(): Promise<void> {
    this.#values.clear()
  }
}
