// A keyed store shared across requests: stream transforms write what an upstream will need back
// (and a client drops), later request transforms read it. Async so a shared store can implement it.

export interface Store {
  get(key: string): Promise<unknown>
  /** ttlSeconds defaults to the store's own TTL. */
  set(key: string, value: unknown, ttlSeconds?: number): Promise<void>
  close(): Promise<void>
}
