// What compiled expressions run with: frames of variable slots, the per-evaluation limits (time,
// depth), and the signal that hands an evaluation back to the interpreter.

/** A slot no `:=` has written yet: the lookup goes on to the enclosing frames, as the interpreter's does. */
export const UNBOUND: unique symbol = Symbol('unbound')

/** Names of JSONata's own functions (set by builtins.ts): reading one as a value is left to the interpreter. */
export const LIBRARY_NAMES = new Set<string>()

/** [parent frame, runtime, ...slots]. Frames exist only for scopes that bind names. */
export type Frame = unknown[]

/** A compiled node: input and frame in, value out (a Promise only for nodes marked async). */
export type Fn = (input: unknown, env: Frame) => unknown

/**
 * Thrown when compiled code meets a case it leaves to the interpreter: an argument of an unexpected
 * type (the interpreter raises the exact error with its position), a Promise where none was expected.
 * Not an Error: no stack is captured on this path.
 */
export class Fallback {
  constructor(readonly reason: string) {}
}

export const fallback = (reason: string): never => {
  throw new Fallback(reason)
}

/** A limit error shaped like the interpreter's (code, value, message). */
export interface LimitError {
  code: 'D1011' | 'D1012'
  value: number
  message: string
}

export class Runtime {
  depth = 0
  ticks = 0
  readonly deadline: number

  constructor(
    readonly timeoutMs: number,
    readonly maxDepth: number,
    /** The evaluation's input, as `$$` sees it: never wrapped. */
    readonly root: unknown,
    /** Values of the expression's free variables, in the order the compiler numbered them. */
    readonly free: unknown[],
    readonly bindings: Record<string, unknown>,
    readonly library: Record<string, unknown>,
  ) {
    this.deadline = performance.now() + timeoutMs
  }

  /** Called in loops and on every function call: the time limit is checked every 1024 calls. */
  tick(): void {
    if (++this.ticks >= 1024) {
      this.ticks = 0
      if (performance.now() > this.deadline) throw limit('D1012', this.timeoutMs)
    }
  }

  /**
   * Before a call of a function of the library, with the sizes of its arguments (H.size): a call's
   * work grows with them, so large arguments bring the time check closer. A loop of calls that each
   * copy or scan a large array or text is stopped near the limit, not 1024 calls after it.
   */
  spend(units: number): void {
    this.ticks += units
    if (this.ticks >= 1024) {
      this.ticks = 0
      if (performance.now() > this.deadline) throw limit('D1012', this.timeoutMs)
    }
  }

  /** A bound name read before its `:=` ran: what the interpreter's lookup finds further out. */
  lookupFree(name: string): unknown {
    if (Object.prototype.hasOwnProperty.call(this.bindings, name)) return this.bindings[name]
    if (Object.prototype.hasOwnProperty.call(this.library, name)) return this.library[name]
    return LIBRARY_NAMES.has(name) ? fallback(`$${name} reached through an unbound variable`) : undefined
  }

  enter(cost: number): void {
    this.depth += cost
    if (this.depth > this.maxDepth) { this.depth -= cost; throw limit('D1011', this.maxDepth) }
    this.tick()
  }
}

export function limit(code: 'D1011' | 'D1012', value: number): LimitError {
  const message = code === 'D1011'
    ? 'Stack overflow. Check for non-terminating recursive function.  Consider rewriting as tail-recursive'
    : `Evaluation timeout after ${value} milliseconds. Check for infinite loop`
  return { code, value, message }
}

export const isLimitError = (e: unknown): e is LimitError =>
  typeof e === 'object' && e !== null && ((e as LimitError).code === 'D1011' || (e as LimitError).code === 'D1012')

export function isPromise(v: unknown): v is Promise<unknown> {
  return typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function'
}

/** A new frame for a scope of `size` slots. */
export function frame(parent: Frame, size: number): Frame {
  const f: Frame = [parent, parent[1]]
  for (let i = 0; i < size; i++) f.push(UNBOUND)
  return f
}

/** f(v), after v settles when it is a Promise (maybe-async code stays synchronous when nothing awaits). */
export function then<A, T>(v: A | Promise<A>, f: (v: A) => T | Promise<T>): T | Promise<T> {
  return isPromise(v) ? (v as Promise<A>).then(f) : f(v as A)
}
