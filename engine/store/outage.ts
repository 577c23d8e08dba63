// Whether a shared store answers. The first failure of an outage is logged (once) and turns the store
// off for requests: until a probe succeeds, every call answers at once as if the store were empty,
// so an unreachable or stalled store costs a request one timeout at most, not one per call. Every
// failed or skipped call is counted (the store_errors_total metric).
import type { Logger } from '../log.js'

export type StoreErrorReason = 'error' | 'timeout' | 'unavailable'

export class StoreTimeout extends Error {}

export class Outage {
  #down: { since: Date; error: string; failed: number } | null = null

  constructor(readonly what: string, readonly logger: Logger, readonly onError?: (op: string, reason: StoreErrorReason) => void) {}

  get down(): boolean {
    return this.#down !== null
  }

  get since(): Date | undefined {
    return this.#down?.since
  }

  get error(): string | undefined {
    return this.#down?.error
  }

  /** A call failed (or timed out): the store is down until recovered(). */
  failed(op: string, err: unknown): void {
    const reason = err instanceof StoreTimeout ? 'timeout' : 'error'
    this.onError?.(op, reason)
    if (this.#down) { this.#down.failed++; return }
    const error = (err as Error)?.message ?? String(err)
    this.#down = { since: new Date(), error, failed: 1 }
    this.logger.error({ store: this.what, op, error }, 'store unavailable: requests go on without it (values not recalled are absent, limits count in this process)')
  }

  /** A call not made because the store is down. */
  skipped(op: string): void {
    this.onError?.(op, 'unavailable')
    if (this.#down) this.#down.failed++
  }

  recovered(): void {
    if (!this.#down) return
    const { since, failed } = this.#down
    this.#down = null
    this.logger.info({ store: this.what, downMs: Date.now() - since.getTime(), callsWithoutStore: failed }, 'store available again')
  }
}

/** `p`, or a StoreTimeout after `ms`. */
export function withTimeout<T>(p: Promise<T>, ms: number, op: string): Promise<T> {
  let timer: NodeJS.Timeout
  return Promise.race([
    p,
    new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new StoreTimeout(`${op}: no answer in ${ms} ms`)), ms) }),
  ]).finally(() => clearTimeout(timer))
}
