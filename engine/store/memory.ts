// The in-process Store: a bounded LRU of values (entries and bytes), each with its TTL; leases and
// sliding windows counted in this process. A Map keeps insertion order, and a read or a write moves
// its key to the end: the first key is the least recently used. (lru-cache preallocates its `max`
// slots, ~100 ms for 50,000 on a busy machine, and the example runner makes a store per request.)
import type { Release, Store, StoreHealth, Taken, Window } from './store.js'
import { Windows } from './windows.js'

export interface MemoryStoreOptions {
  ttlSeconds?: number
  maxEntries?: number
  /** Bound on the values' size, counted as their JSON length. */
  maxBytes?: number
  /** ms clock (tests). */
  now?: () => number
}

type Entry = { value: unknown; expires: number; size: number }

export class MemoryStore implements Store {
  readonly #entries = new Map<string, Entry>()
  #bytes = 0
  readonly #ttlMs: number
  readonly #maxEntries: number
  readonly #maxBytes: number
  readonly #now: () => number
  readonly #leases = new Map<string, number>()
  readonly #windows: Windows

  constructor(opts: MemoryStoreOptions = {}) {
    this.#ttlMs = (opts.ttlSeconds ?? 6 * 3600) * 1000
    this.#maxEntries = opts.maxEntries ?? 50_000
    this.#maxBytes = opts.maxBytes ?? 256 << 20
    this.#now = opts.now ?? Date.now
    this.#windows = new Windows(this.#now)
  }

  get size(): number {
    return this.#entries.size
  }

  async get(key: string): Promise<unknown> {
    const e = this.#entries.get(key)
    if (!e) return undefined
    this.#drop(key, e)
    if (e.expires <= this.#now()) return undefined
    this.#entries.set(key, e)
    this.#bytes += e.size
    return e.value
  }

  async set(key: string, value: unknown, ttlSeconds?: number): Promise<void> {
    const old = this.#entries.get(key)
    if (old) this.#drop(key, old)
    const size = Math.max(1, JSON.stringify(value)?.length ?? 1)
    // a value larger than the whole bound would only push everything else out
    if (size > this.#maxBytes) return
    this.#entries.set(key, { value, expires: this.#now() + (ttlSeconds ?? this.#ttlMs / 1000) * 1000, size })
    this.#bytes += size
    while (this.#entries.size > this.#maxEntries || this.#bytes > this.#maxBytes) {
      const [k, e] = this.#entries.entries().next().value as [string, Entry]
      this.#drop(k, e)
    }
  }

  #drop(key: string, e: Entry): void {
    this.#entries.delete(key)
    this.#bytes -= e.size
  }

  async lease(name: string, max: number): Promise<Release | null> {
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
    this.#entries.clear()
    this.#bytes = 0
  }
}
