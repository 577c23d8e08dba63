// Sliding windows in this process (the memory store, and a shared store's fallback while it is
// unreachable). A window is 60 buckets: a count is its buckets younger than the window. redis.ts
// runs the same arithmetic in Lua; test/store/contract.test.ts holds both to it.
import type { Taken, Window } from './store.js'

export const BUCKETS = 60

export class Windows {
  /** window key → bucket number → count */
  readonly #counts = new Map<string, Map<number, number>>()

  constructor(readonly now: () => number = Date.now) {}

  take(windows: readonly Window[]): Taken {
    const now = this.now()
    const buckets: number[] = []
    for (const [i, w] of windows.entries()) {
      const size = w.windowMs / BUCKETS
      const b = Math.floor(now / size)
      const counts = this.#counts.get(w.key) ?? new Map<number, number>()
      let used = 0
      for (const [k, n] of counts) {
        if (k <= b - BUCKETS) counts.delete(k)
        else used += n
      }
      if (counts.size) this.#counts.set(w.key, counts)
      else this.#counts.delete(w.key)
      if (used + w.need > w.limit) return { ok: false, window: i, retryAfterMs: waitFor(counts, used, w, b, size, now) }
      buckets.push(b)
    }
    for (const [i, w] of windows.entries()) {
      if (w.add <= 0) continue
      const counts = this.#counts.get(w.key) ?? new Map<number, number>()
      counts.set(buckets[i]!, (counts.get(buckets[i]!) ?? 0) + w.add)
      this.#counts.set(w.key, counts)
    }
    return { ok: true }
  }
}

/** ms until enough of the oldest buckets leave the window for `need` to fit. */
function waitFor(counts: Map<number, number>, used: number, w: Window, b: number, size: number, now: number): number {
  for (const k of [...counts.keys()].sort((x, y) => x - y)) {
    used -= counts.get(k)!
    if (used + w.need <= w.limit) return Math.max(1, (k + BUCKETS) * size - now)
  }
  return Math.max(1, (b + 1 + BUCKETS) * size - now)
}
