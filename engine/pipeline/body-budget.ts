// The bytes of request bodies held at once, across every request in flight. A body is counted from its
// first byte until its request has been answered (its parsed value lives that long); past the budget a
// request is answered 503 with retry-after instead of growing the process without bound.
import { RouteError } from '../errors.js'

export class BodyBudget {
  #used = 0

  constructor(readonly limit: number) {}

  /** Bytes counted now (the metrics gauge, tests). */
  get used(): number {
    return this.#used
  }

  /** A request's share: it takes bytes as its body arrives and gives them all back once, when it ends. */
  hold(): BodyHold {
    return new BodyHold(this)
  }

  /** @internal */
  add(n: number): void {
    this.#used += n
  }
}

export class BodyHold {
  #held = 0

  constructor(readonly budget: BodyBudget) {}

  /** Counts n more bytes, or throws the 503 when they would take the budget past its limit. */
  take(n: number): void {
    const b = this.budget
    if (b.used + n > b.limit) {
      throw new RouteError('RE_SERVER_BUSY', `the server is busy: request bodies in flight would exceed the limit of ${b.limit} bytes held at once (--body-budget); send the request again shortly`, { headers: { 'retry-after': '1', connection: 'close' } })
    }
    b.add(n)
    this.#held += n
  }

  release(): void {
    this.budget.add(-this.#held)
    this.#held = 0
  }
}
