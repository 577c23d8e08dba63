// A parsed JSONata expression → one JavaScript function, generated once at load. For each AST node
// the generator emits what jsonata 2.2's evaluate() does for it (the node's own work, then its
// predicates, its grouping and the unwrapping of singleton sequences), with everything that depends
// only on the expression settled at load: variables are JavaScript locals, library calls are bound,
// `x = "lit"` is a strict comparison, constant object keys are property writes, a path over objects
// is a chain of own-property reads. Only nodes that can reach a Promise ($recall, $remember) await.
// The generated source contains only the generator's own templates, generated identifiers, numbers
// and JSON-quoted strings: rule text never becomes code.
import { ENTRIES, ENTRIES_ASYNC } from './builtins.js'
import { Emitter } from './emit.js'
import { H } from './helpers.js'
import { fallback, LIBRARY_NAMES, limit, Runtime, UNBOUND } from './runtime.js'
import { analyse } from './scope.js'
import type { Node } from './scope.js'
import { isSequence, seq, type Sequence } from './values.js'

export type LibraryFn = (...args: any[]) => unknown

export interface Program {
  /** The expression's value for an input and bindings: a Promise only when it awaited a binding. */
  run(input: unknown, bindings: Record<string, unknown>, timeoutMs: number, maxDepth: number): unknown
  /** The generated JavaScript (for debugging). */
  readonly code: string
}

/** Why an expression is left to the interpreter. */
export class Unsupported {
  constructor(readonly reason: string) {}
}

/**
 * The library's definitions, compiled (library.ts): each function takes its caller's runtime first
 * (limits, depth), so one compiled copy serves every transform; the other values are computed once.
 */
export interface Shared {
  fns: Record<string, LibraryFn>
  values: Record<string, unknown>
  /** Definitions the compiler leaves to the interpreter, and why: a transform that uses one is interpreted. */
  unsupported: Map<string, string>
}

const has = Object.prototype.hasOwnProperty

/** `annotate` marks each generated statement with its source offset (bench/profile-transform.mjs reads them). */
const NO_SHARED: Shared = { fns: {}, values: {}, unsupported: new Map() }

/** `shared`: the library's definitions a transform may call (their names are never bindings). */
export function compileProgram(ast: Node, library: Record<string, LibraryFn>, maxDepth: number, annotate = false, shared: Shared = NO_SHARED): Program | Unsupported {
  const registered = new Set([...Object.keys(library), ...Object.keys(shared.fns), ...shared.unsupported.keys()])
  const a = analyse(ast, registered, maxDepth)
  if (a.unsupported) return new Unsupported(a.unsupported)
  let code: string
  const em = new Emitter(a, registered, annotate, shared)
  try {
    code = em.program(ast)
  } catch (err) {
    if (err instanceof Unsupported) return err
    throw err
  }
  // eslint-disable-next-line no-new-func -- the generated source holds no rule text (see above)
  const factory = new Function('H', 'K', 'B', 'BA', 'L', 'LF', 'U', code) as (...deps: unknown[]) => (input: unknown, rt: Runtime) => unknown
  const main = factory(H, em.constants, ENTRIES, ENTRIES_ASYNC, library, shared.fns, UNBOUND)
  const free = a.free
  const shadowable = [...em.calledLibrary]
  // a definition read as a value (not called) is bound to the evaluation's runtime
  const sharedFns = free.flatMap((name, i) => (has.call(shared.fns, name) ? [[i, shared.fns[name]!] as const] : []))
  return {
    code,
    run(input, bindings, timeoutMs, depthLimit) {
      for (const k of shadowable) if (has.call(bindings, k)) fallback(`the binding $${k} shadows a library function`)
      // the context is an array input wrapped in a singleton sequence (as the interpreter wraps it);
      // `$$` is the input itself (the interpreter binds it before wrapping)
      let context = input
      if (Array.isArray(input) && !isSequence(input)) {
        context = seq(input)
        ;(context as Sequence).outerWrapper = true
      }
      // a free name that is one of JSONata's functions is the function, unless a binding shadows it
      const values = free.map((name) => (has.call(bindings, name) ? bindings[name] : has.call(library, name) ? library[name] : has.call(shared.values, name) ? shared.values[name] : LIBRARY_NAMES.has(name) ? fallback(`$${name} used as a value`) : undefined))
      const rt = new Runtime(timeoutMs, depthLimit, input, values, bindings, library)
      for (const [i, fn] of sharedFns) if (!has.call(bindings, free[i]!)) values[i] = H.bindRuntime(fn, rt)
      try {
        const r = main(context, rt)
        return H.isPromise(r) ? r.catch((e) => { throw stackOverflow(e) }) : r
      } catch (e) {
        throw stackOverflow(e)
      }
    },
  }
}

/** JavaScript's own stack overflow, in deep recursion that stays under the depth limit, is the same error. */
const stackOverflow = (e: unknown): unknown => (e instanceof RangeError && /call stack/.test(e.message) ? limit('D1011', 0) : e)

/**
 * The library's definitions compiled once: a function definition to `(rt, ...args) => value` (its
 * calls to other definitions go through `LF`), any other value computed now. A definition the
 * compiler cannot take, or that calls one it cannot, is left to the interpreter.
 */
export function compileDefinitions(defs: readonly { name: string; node: Node }[], library: Record<string, LibraryFn>, maxDepth: number, timeoutMs: number): Shared {
  const shared: Shared = { fns: {}, values: {}, unsupported: new Map() }
  const isFn = (n: Node): boolean => n.type === 'lambda' && !n.thunk
  const fnNames = defs.filter((d) => isFn(d.node)).map((d) => d.name)
  const code = new Map<string, { code: string; constants: unknown[] }>()
  for (let changed = true; changed;) {
    changed = false
    for (const d of defs) {
      if (!isFn(d.node) || shared.unsupported.has(d.name) || code.has(d.name)) continue
      // what it calls that the compiler left: it is left too
      const registered = new Set([...Object.keys(library), ...fnNames])
      const a = analyse(d.node, registered, maxDepth)
      const em = new Emitter(a, registered, false, { fns: Object.fromEntries(fnNames.filter((n) => !shared.unsupported.has(n)).map((n) => [n, () => undefined])), values: {}, unsupported: shared.unsupported })
      try {
        if (a.unsupported) throw new Unsupported(a.unsupported)
        if (a.tainted) throw new Unsupported('a definition that awaits')
        code.set(d.name, { code: em.definition(d.node, d.name), constants: em.constants })
      } catch (err) {
        if (!(err instanceof Unsupported)) throw err
        shared.unsupported.set(d.name, err.reason)
        // the ones compiled so far may call it: compile them again
        code.clear()
        changed = true
        break
      }
    }
  }
  for (const [name, c] of code) {
    // eslint-disable-next-line no-new-func -- generated from the parse tree only (see above)
    shared.fns[name] = new Function('H', 'K', 'B', 'BA', 'L', 'LF', 'LV', 'U', c.code)(H, c.constants, ENTRIES, ENTRIES_ASYNC, library, shared.fns, shared.values, UNBOUND) as LibraryFn
  }
  for (const d of defs) {
    if (isFn(d.node)) continue
    const program = compileProgram(d.node, library, maxDepth, false, shared)
    try {
      if (program instanceof Unsupported) throw program
      const v = program.run(undefined, {}, timeoutMs, maxDepth)
      if (H.isPromise(v)) throw new Unsupported('a definition that awaits')
      shared.values[d.name] = v
    } catch (err) {
      shared.unsupported.set(d.name, err instanceof Unsupported ? err.reason : `its value failed: ${(err as Error)?.message ?? err}`)
    }
  }
  return shared
}
