// In-memory Store: TTL per entry and a bound on the number of entries (the oldest go first).
import type { Store } from './store.js'

export interface MemoryStoreOptions {
  ttlSeconds?: number
  maxEntries?: number
  now?: () => number
}

export class MemoryStore implements Store {
  // A Map keeps insertion order, and set() re-inserts, so the first key is the oldest write.
  readonly #entries = new Map<string, { value: unknown; expires: number }>()
  readonly #ttl: number
  readonly #max: number
  readonly #now: () => number

  constructor(opts: MemoryStoreOptions = {}) {
    this.#ttl = opts.ttlSeconds ?? 6 * 3600
    this.#max = opts.maxEntries ?? 50_000
    this.#now = opts.now ?? Date.now
  }

  get size(): number {
    return this.#entries.size
  }

  async get(key: string): Promise<unknown> {
    const e = this.#entries.get(key)
    if (!e) return undefined
    if (e.expires <= this.#now()) {
      this.#entries.delete(key)
      return undefined
    }
    return e.value
  }

  async set(key: string, value: unknown, ttlSeconds?: number): Promise<void> {
    this.#entries.delete(key)
    this.#entries.set(key, { value, expires: this.#now() + (ttlSeconds ?? this.#ttl) * 1000 })
    while (this.#entries.size > this.#max) {
      const oldest = this.#entries.keys().next().value as string
      this.#entries.delete(oldest)
    }
  }

  async close(): Promise<void> {
    this.#entries.clear()
  }
}
