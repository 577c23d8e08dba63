// A parsed JSONata expression → JavaScript closures, one per AST node, built once at load. Each closure
// does what jsonata 2.2's evaluate() does for that node (the node's own work, then its predicates, its
// grouping and the unwrapping of singleton sequences) with the work that depends only on the expression
// done here: variables become frame slots, library calls are bound, constant keys are known. Nodes that
// can reach a Promise ($recall, $remember) get async closures; all others run synchronously.
import { BUILTINS, INTERPRETED_BUILTINS, positional, validate, type Call } from './builtins.js'
import { compileGroup, compilePath } from './compile-path.js'
import { matcherOf } from './regex.js'
import { fallback, frame, isPromise, LIBRARY_NAMES, limit, Runtime, then, UNBOUND, type Fn, type Frame } from './runtime.js'
import { analyse, callMayAwait, declaring, hops, type Analysis, type Node, type Scope } from './scope.js'
import { deepEqual, isNumeric, isSequence, lookup, seq, stringOf, toBoolean, unwrap, type Sequence } from './values.js'

export interface Compiled {
  fn: Fn
  /** The closure may return a Promise. */
  async: boolean
}

export type LibraryFn = (...args: any[]) => unknown

export interface Program {
  /** The expression's value for an input and bindings: a Promise only when it awaited a binding. */
  run(input: unknown, bindings: Record<string, unknown>, timeoutMs: number, maxDepth: number): unknown
}

/** Why an expression is left to the interpreter. */
export class Unsupported {
  constructor(readonly reason: string) {}
}

const sync = (fn: Fn): Compiled => ({ fn, async: false })
const has = Object.prototype.hasOwnProperty
const rtOf = (e: Frame): Runtime => e[1] as Runtime

export function compileProgram(ast: Node, library: Record<string, LibraryFn>, maxDepth: number): Program | Unsupported {
  const registered = new Set(Object.keys(library))
  const a = analyse(ast, registered, maxDepth)
  if (a.unsupported) return new Unsupported(a.unsupported)
  const c = new Compiler(a, library, registered)
  let body: Fn
  try {
    body = c.node(ast, a.root).fn
  } catch (err) {
    if (err instanceof Unsupported) return err
    throw err
  }
  const free = a.free
  const rootSize = a.root.names.size
  const shadowable = c.calledLibrary
  return {
    run(input, bindings, timeoutMs, depthLimit) {
      for (const k of Object.keys(bindings)) if (shadowable.has(k)) fallback(`the binding $${k} shadows a library function`)
      let root = input
      if (Array.isArray(input) && !isSequence(input)) {
        root = seq(input)
        ;(root as Sequence).outerWrapper = true
      }
      // a free name that is one of JSONata's functions is the function, unless a binding shadows it
      const values = free.map((name) => (has.call(bindings, name) ? bindings[name] : has.call(library, name) ? library[name] : LIBRARY_NAMES.has(name) ? fallback(`$${name} used as a value`) : undefined))
      const rt = new Runtime(timeoutMs, depthLimit, root, values, bindings, library)
      const env = frame([null, rt], rootSize)
      try {
        const r = body(root, env)
        return isPromise(r) ? r.catch((e) => { throw stackOverflow(e) }) : r
      } catch (e) {
        throw stackOverflow(e)
      }
    },
  }
}

/** JavaScript's own stack overflow, in deep recursion that stays under the depth limit, is the same error. */
const stackOverflow = (e: unknown): unknown => (e instanceof RangeError && /call stack/.test(e.message) ? limit('D1011', 0) : e)

export class Compiler {
  /** Library functions the expression calls by name: a binding of the same name means the interpreter decides. */
  readonly calledLibrary = new Set<string>()

  constructor(readonly a: Analysis, readonly library: Record<string, LibraryFn>, readonly registered: ReadonlySet<string>) {}

  /** A node with evaluate()'s full treatment. In `tail` position of a lambda body, calls are not unwrapped (jsonata's thunks). */
  node(n: Node, s: Scope, tail = false): Compiled {
    if (tail && tailCalls(n)) return this.tail(n, s, 0)
    return this.wrap(n, s, this.core(n, s))
  }

  /** Predicates, grouping, then the unwrapping of a sequence (keepArray keeps a singleton). */
  wrap(n: Node, s: Scope, c: Compiled): Compiled {
    for (const p of n.predicate ?? []) c = this.filterAfter(c, p.expr, s)
    if (n.group && n.type !== 'path') c = compileGroup(this, n.group, s, c)
    if (!MAY_BE_SEQUENCE.has(n.type) && !n.keepArray && !(n.type === 'binary' && n.value === '..')) return c
    const keep = !!n.keepArray
    const f = c.fn
    return c.async ? { fn: (i, e) => then(f(i, e), (v) => unwrap(v, keep)), async: true } : sync((i, e) => unwrap(f(i, e), keep))
  }

  private filterAfter(c: Compiled, pred: Node, s: Scope): Compiled {
    const f = this.filter(pred, s)
    const g = c.fn
    if (!c.async && !f.async) return sync((i, e) => f.fn(g(i, e), e))
    return { fn: (i, e) => then(g(i, e), (v) => f.fn(v, e)), async: true }
  }

  /** evaluateFilter: a closure from (items, frame) to the items the predicate keeps. */
  filter(pred: Node, s: Scope, tuple?: Scope): Compiled {
    return compileFilter(this, pred, s, tuple)
  }

  private core(n: Node, s: Scope): Compiled {
    switch (n.type) {
      case 'string': case 'number': case 'value': { const v = n.value; return sync(() => v) }
      case 'regex': { const m = matcherOf(n.value); return sync(() => m) }
      case 'name': { const name = n.value as string; return sync((i) => lookup(i, name)) }
      case 'variable': return this.variable(n.value, s)
      case 'path': return compilePath(this, n, s)
      case 'binary': return this.binary(n, s)
      case 'unary': return n.value === '-' ? this.negate(n, s) : n.value === '[' ? this.array(n, s) : compileGroup(this, { lhs: n.lhs }, s)
      case 'condition': return this.condition(n, s)
      case 'block': return this.block(n, s)
      case 'bind': return this.bind(n, s)
      case 'function': return this.call(n, s)
      case 'lambda': return this.lambda(n, s)
      case 'apply': return this.apply(n, s)
      default: throw new Unsupported(`node type ${n.type}`)
    }
  }

  variable(name: string, s: Scope): Compiled {
    if (name === '') return sync((i) => (Array.isArray(i) && (i as Sequence).outerWrapper ? i[0] : i))
    if (name === '$') return sync((_i, e) => rtOf(e).root)
    const decl = declaring(name, s)
    if (decl.length === 0) {
      const k = this.a.free.indexOf(name)
      return sync((_i, e) => rtOf(e).free[k])
    }
    const slots = decl.map((d) => [hops(s, d), d.names.get(name)!] as const)
    const miss = (e: Frame): unknown => rtOf(e).lookupFree(name)
    if (slots.length === 1) {
      const [h, k] = slots[0]!
      if (h === 0) return sync((_i, e) => { const v = e[k]; return v === UNBOUND ? miss(e) : v })
      if (h === 1) return sync((_i, e) => { const v = (e[0] as Frame)[k]; return v === UNBOUND ? miss(e) : v })
    }
    return sync((_i, e) => {
      for (const [h, k] of slots) {
        let f = e
        for (let j = 0; j < h; j++) f = f[0] as Frame
        const v = f[k]
        if (v !== UNBOUND) return v
      }
      return miss(e)
    })
  }

  private binary(n: Node, s: Scope): Compiled {
    const op: string = n.value
    const l = this.node(n.lhs, s)
    const r = this.node(n.rhs, s)
    if (op === 'and' || op === 'or') {
      const lf = l.fn, rf = r.fn
      const and = op === 'and'
      if (!l.async && !r.async) return sync((i, e) => (and ? bool(lf(i, e)) && bool(rf(i, e)) : bool(lf(i, e)) || bool(rf(i, e))))
      return { fn: (i, e) => then(lf(i, e), (lv) => (and ? (bool(lv) ? then(rf(i, e), bool) : false) : bool(lv) ? true : then(rf(i, e), bool))), async: true }
    }
    const f = BINARY[op]
    if (!f) throw new Unsupported(`operator ${op}`)
    return combine2(l, r, f)
  }

  private negate(n: Node, s: Scope): Compiled {
    return lift(this.node(n.expression, s), (v) => {
      if (v === undefined) return undefined
      return isNumeric(v) ? -v : fallback('negation of a value that is not a number')
    })
  }

  /** The array constructor: items appended (an array item flattened one level, a nested constructor kept whole). */
  private array(n: Node, s: Scope): Compiled {
    const items = (n.expressions as Node[]).map((x) => this.node(x, s))
    const nested = (n.expressions as Node[]).map((x) => x.value === '[')
    const cons = !!n.consarray
    const add = (out: unknown[], k: number, v: unknown): void => {
      if (v === undefined) return
      if (nested[k] || !Array.isArray(v)) out.push(v)
      else for (const x of v) out.push(x)
    }
    const done = (out: unknown[]): unknown[] => {
      if (cons) Object.defineProperty(out, 'cons', { enumerable: false, configurable: false, value: true })
      return out
    }
    const fns = items.map((x) => x.fn)
    if (!items.some((x) => x.async)) {
      return sync((i, e) => {
        const out: unknown[] = []
        for (let k = 0; k < fns.length; k++) add(out, k, fns[k]!(i, e))
        return done(out)
      })
    }
    return {
      fn: async (i, e) => {
        const out: unknown[] = []
        for (let k = 0; k < fns.length; k++) add(out, k, await fns[k]!(i, e))
        return done(out)
      },
      async: true,
    }
  }

  private condition(n: Node, s: Scope): Compiled {
    const c = this.node(n.condition, s)
    const t = this.node(n.then, s)
    const f = n.else === undefined ? null : this.node(n.else, s)
    return choose(c, t, f)
  }

  private block(n: Node, s: Scope): Compiled {
    const bs = this.a.scopeOf.get(n)!
    return sequence((n.expressions as Node[]).map((x) => this.node(x, bs)), bs)
  }

  private bind(n: Node, s: Scope): Compiled {
    const k = s.names.get(n.lhs.value)!
    const r = this.node(n.rhs, s)
    const rf = r.fn
    if (!r.async) return sync((i, e) => (e[k] = rf(i, e)))
    return { fn: (i, e) => then(rf(i, e), (v) => (e[k] = v)), async: true }
  }

  private lambda(n: Node, s: Scope): Compiled {
    if (n.thunk) throw new Unsupported('a tail-call thunk outside a tail position')
    const ls = this.a.scopeOf.get(n)!
    const params = (n.arguments as Node[]).map((p) => ls.names.get(p.value)!)
    const size = ls.names.size
    const body = this.node(n.body, ls, true).fn
    const arity = params.length
    if (!this.a.asyncLambdas.has(n)) {
      return sync((input, env) => {
        const f = (...args: unknown[]): unknown => {
          const fr = frame(env, size)
          for (let k = 0; k < arity; k++) fr[params[k]!] = args[k]
          const rt = rtOf(env)
          rt.enter(1)
          try { return body(input, fr) } finally { rt.depth-- }
        }
        return Object.assign(f, { arity })
      })
    }
    return sync((input, env) => {
      const f = async (...args: unknown[]): Promise<unknown> => {
        const fr = frame(env, size)
        for (let k = 0; k < arity; k++) fr[params[k]!] = args[k]
        const rt = rtOf(env)
        rt.enter(1)
        try { return await body(input, fr) } finally { rt.depth-- }
      }
      return Object.assign(f, { arity })
    })
  }

  /** A call's own work (node() adds the wrapping): a library function bound by name, or whatever function value the callee evaluates to. */
  call(n: Node, s: Scope, first?: Compiled): Compiled {
    const args = (n.arguments as Node[]).map((x) => this.node(x, s))
    if (first) args.unshift(first)
    const p = n.procedure
    const free = p.type === 'variable' && p.value !== '' && p.value !== '$' && declaring(p.value, s).length === 0
    let c: Compiled
    if (free && !this.registered.has(p.value) && BUILTINS.has(p.value)) c = this.builtinCall(n, s, p.value, args)
    else if (free && this.registered.has(p.value)) {
      this.calledLibrary.add(p.value)
      const f = this.library[p.value]!
      c = combineN(args, (vs) => notPromise(f(...vs)))
    } else if (free && INTERPRETED_BUILTINS.has(p.value)) throw new Unsupported(`$${p.value}`)
    else {
      const callee = this.node(p, s)
      const mayAwait = this.a.tainted && callMayAwait(n, s, this.a, this.registered)
      c = combineN([callee, ...args], ([f, ...vs], input) => (mayAwait ? callMaybe(f, vs, input) : callSync(f, vs, input)), mayAwait)
    }
    return c
  }

  private builtinCall(n: Node, s: Scope, name: string, args: Compiled[]): Compiled {
    const b = BUILTINS.get(name)!
    if (!positional(b, args.length)) throw new Unsupported(`$${name} with ${args.length} arguments`)
    this.calledLibrary.add(name)
    const mayAwait = b.hof && this.a.tainted && callMayAwait(n, s, this.a, this.registered)
    if (mayAwait) return combineN(args, (vs) => b.implAsync!(validate(b, vs), callMaybeAny), true)
    const impl = b.impl
    return combineN(args, (vs) => impl(validate(b, vs), callAny))
  }

  /** `lhs ~> $f(args)` calls $f with lhs first; `lhs ~> $f` applies a function value. */
  private apply(n: Node, s: Scope): Compiled {
    const lhs = this.node(n.lhs, s)
    // evaluateFunction is called directly: the rhs node's own predicates and exit do not apply
    if (n.rhs.type === 'function') return this.call(n.rhs, s, lhs)
    const rhs = this.node(n.rhs, s)
    const mayAwait = this.a.tainted
    return combineN([lhs, rhs], ([v, f]) => {
      if (typeof f !== 'function') return fallback('~> to something that is not a function')
      if (typeof v === 'function') return fallback('function composition with ~>')
      return mayAwait ? callMaybe(f, [v], null) : callSync(f, [v], null)
    }, mayAwait)
  }

  /** A lambda body's tail: calls return their raw value; other results get the exits of the nodes around them. */
  private tail(n: Node, s: Scope, exits: number): Compiled {
    if (n.predicate || n.group || n.keepArray) throw new Unsupported('a predicate on a tail call')
    // the parser's thunk: a call in tail position, whose value the trampoline returns as it is
    if (n.type === 'lambda') return this.call(n.body, s)
    const branch = (b: Node, sc: Scope): Compiled => {
      if (tailCalls(b)) return this.tail(b, sc, exits + 1)
      let c = this.node(b, sc)
      for (let k = 0; k <= exits; k++) c = lift(c, (v) => unwrap(v))
      return c
    }
    if (n.type === 'condition') return choose(this.node(n.condition, s), branch(n.then, s), n.else === undefined ? null : branch(n.else, s))
    const bs = this.a.scopeOf.get(n)!
    const xs = n.expressions as Node[]
    return sequence(xs.map((x, k) => (k === xs.length - 1 ? branch(x, bs) : this.node(x, bs))), bs)
  }
}

/** Node types whose value can be a sequence (the others never need unwrapping). */
const MAY_BE_SEQUENCE = new Set(['path', 'name', 'variable', 'condition', 'block', 'bind', 'function', 'apply'])

/** Whether this node's tail holds one of the parser's tail-call thunks. */
function tailCalls(n: Node): boolean {
  if (n.type === 'lambda') return !!n.thunk
  if (n.type === 'condition') return tailCalls(n.then) || (n.else !== undefined && tailCalls(n.else))
  if (n.type === 'block') return n.expressions.length > 0 && tailCalls(n.expressions[n.expressions.length - 1])
  return false
}

const bool = (v: unknown): boolean => toBoolean(v) ?? false

function choose(c: Compiled, t: Compiled, f: Compiled | null): Compiled {
  const cf = c.fn, tf = t.fn, ff = f?.fn
  if (!c.async && !t.async && !f?.async) return sync((i, e) => (toBoolean(cf(i, e)) ? tf(i, e) : ff ? ff(i, e) : undefined))
  return { fn: (i, e) => then(cf(i, e), (v) => (toBoolean(v) ? tf(i, e) : ff ? ff(i, e) : undefined)), async: true }
}

/** Expressions in order in a frame of the block's scope; the last one's value. */
function sequence(xs: Compiled[], bs: Scope): Compiled {
  const fns = xs.map((x) => x.fn)
  const size = bs.names.size
  const creates = bs.creates
  if (!xs.some((x) => x.async)) {
    if (fns.length === 1 && !creates) return sync(fns[0]!)
    return sync((i, e) => {
      const f = creates ? frame(e, size) : e
      let r: unknown
      for (let k = 0; k < fns.length; k++) r = fns[k]!(i, f)
      return r
    })
  }
  return {
    fn: async (i, e) => {
      const f = creates ? frame(e, size) : e
      let r: unknown
      for (let k = 0; k < fns.length; k++) r = await fns[k]!(i, f)
      return r
    },
    async: true,
  }
}

function lift(c: Compiled, f: (v: unknown) => unknown): Compiled {
  const g = c.fn
  return c.async ? { fn: (i, e) => then(g(i, e), f), async: true } : sync((i, e) => f(g(i, e)))
}

function combine2(l: Compiled, r: Compiled, f: (a: unknown, b: unknown) => unknown): Compiled {
  const lf = l.fn, rf = r.fn
  if (!l.async && !r.async) return sync((i, e) => f(lf(i, e), rf(i, e)))
  return { fn: (i, e) => then(lf(i, e), (a) => then(rf(i, e), (b) => f(a, b))), async: true }
}

/** Evaluates children in order, then f on their values (with the input, for calls). */
function combineN(xs: Compiled[], f: (vs: unknown[], input: unknown) => unknown, async = false): Compiled {
  const fns = xs.map((x) => x.fn)
  const n = fns.length
  if (!async && !xs.some((x) => x.async)) {
    if (n === 0) return sync((i) => f([], i))
    if (n === 1) { const a = fns[0]!; return sync((i, e) => f([a(i, e)], i)) }
    if (n === 2) { const a = fns[0]!, b = fns[1]!; return sync((i, e) => f([a(i, e), b(i, e)], i)) }
    return sync((i, e) => {
      const vs = new Array(n)
      for (let k = 0; k < n; k++) vs[k] = fns[k]!(i, e)
      return f(vs, i)
    })
  }
  return {
    fn: async (i, e) => {
      const vs = new Array(n)
      for (let k = 0; k < n; k++) vs[k] = await fns[k]!(i, e)
      return f(vs, i)
    },
    async: true,
  }
}

const notPromise = (v: unknown): unknown => (isPromise(v) ? fallback('a library function returned a Promise') : v)

/** applyInner for a function value: a lambda, a regex, or a JavaScript function (`this` = the input). */
function callSync(f: unknown, args: unknown[], input: unknown): unknown {
  if (typeof f !== 'function') return fallback('a call of a value that is not a function')
  return notPromise(f.apply(input, args))
}

function callMaybe(f: unknown, args: unknown[], input: unknown): unknown {
  if (typeof f !== 'function') return fallback('a call of a value that is not a function')
  return f.apply(input, args)
}

const callAny: Call = (f, args) => callSync(f, args, null)
const callMaybeAny: Call = (f, args) => callMaybe(f, args, null)

const BINARY: Record<string, (l: unknown, r: unknown) => unknown> = {
  '+': (l, r) => arith(l, r, (a, b) => a + b),
  '-': (l, r) => arith(l, r, (a, b) => a - b),
  '*': (l, r) => arith(l, r, (a, b) => a * b),
  '/': (l, r) => arith(l, r, (a, b) => a / b),
  '%': (l, r) => arith(l, r, (a, b) => a % b),
  '=': (l, r) => (l === undefined || r === undefined ? false : deepEqual(l, r)),
  '!=': (l, r) => (l === undefined || r === undefined ? false : !deepEqual(l, r)),
  '<': (l, r) => compare(l, r, (a, b) => a < b),
  '<=': (l, r) => compare(l, r, (a, b) => a <= b),
  '>': (l, r) => compare(l, r, (a, b) => a > b),
  '>=': (l, r) => compare(l, r, (a, b) => a >= b),
  '&': (l, r) => (l === undefined ? '' : stringOf(l)!) + (r === undefined ? '' : stringOf(r)!),
  in: (l, r) => {
    if (l === undefined || r === undefined) return false
    const rs = Array.isArray(r) ? r : [r]
    for (const x of rs) if (x === l) return true
    return false
  },
  '..': (l, r) => {
    if (l !== undefined && !Number.isInteger(l)) return fallback('a range bound that is not an integer')
    if (r !== undefined && !Number.isInteger(r)) return fallback('a range bound that is not an integer')
    if (l === undefined || r === undefined || (l as number) > (r as number)) return undefined
    const size = (r as number) - (l as number) + 1
    if (size > 1e7) return fallback('a range of more than 1e7 items')
    const out = seq()
    for (let x = l as number; x <= (r as number); x++) out.push(x)
    return out
  },
}

function arith(l: unknown, r: unknown, f: (a: number, b: number) => number): number | undefined {
  if (l !== undefined && !isNumeric(l)) return fallback('the left side of an arithmetic operator is not a number')
  if (r !== undefined && !isNumeric(r)) return fallback('the right side of an arithmetic operator is not a number')
  if (l === undefined || r === undefined) return undefined
  return f(l, r)
}

function compare(l: unknown, r: unknown, f: (a: any, b: any) => boolean): boolean | undefined {
  const lt = typeof l, rt = typeof r
  const lok = lt === 'undefined' || lt === 'string' || lt === 'number'
  const rok = rt === 'undefined' || rt === 'string' || rt === 'number'
  if (!lok || !rok) return fallback('a comparison of values that are not numbers or strings')
  if (lt === 'undefined' || rt === 'undefined') return undefined
  if (lt !== rt) return fallback('a comparison of a number with a string')
  return f(l, r)
}

/** evaluateFilter, compiled: numbers index (negative from the end), other values keep the items they hold for. */
function compileFilter(c: Compiler, pred: Node, s: Scope, tuple?: Scope): Compiled {
  if (pred.type === 'number') {
    const v = Math.floor(pred.value)
    return sync((input) => {
      let results: unknown = seq()
      if (input && (input as Sequence).tupleStream) (results as Sequence).tupleStream = true
      const items = Array.isArray(input) ? input : seq(input)
      const item = items[v < 0 ? items.length + v : v]
      if (item !== undefined) {
        if (Array.isArray(item)) results = item
        else (results as unknown[]).push(item)
      }
      return results
    })
  }
  const p = c.node(pred, tuple ?? s)
  const pf = p.fn
  const tupleFrame = tuple ? tupleFrameOf(tuple) : null
  const keep = (results: unknown[], items: unknown[], index: number, item: unknown, r: unknown): void => {
    if (isNumeric(r)) r = [r]
    if (Array.isArray(r) && r.every((x) => isNumeric(x))) {
      for (const x of r) {
        let ii = Math.floor(x as number)
        if (ii < 0) ii = items.length + ii
        if (ii === index) results.push(item)
      }
    } else if (toBoolean(r)) results.push(item)
  }
  const start = (input: unknown): [Sequence, unknown[]] => {
    const results = seq()
    if (input && (input as Sequence).tupleStream) results.tupleStream = true
    return [results, Array.isArray(input) ? input : seq(input)]
  }
  if (!p.async) {
    return sync((input, env) => {
      const [results, items] = start(input)
      const ts = (items as Sequence).tupleStream && tupleFrame
      for (let index = 0; index < items.length; index++) {
        const item = items[index]
        rtOf(env).tick()
        const r = ts ? pf((item as Record<string, unknown>)['@'], ts(item as Record<string, unknown>, env)) : pf(item, env)
        keep(results, items, index, item, r)
      }
      return results
    })
  }
  return {
    fn: async (input, env) => {
      const [results, items] = start(input)
      const ts = (items as Sequence).tupleStream && tupleFrame
      for (let index = 0; index < items.length; index++) {
        const item = items[index]
        const r = await (ts ? pf((item as Record<string, unknown>)['@'], ts(item as Record<string, unknown>, env)) : pf(item, env))
        keep(results, items, index, item, r)
      }
      return results
    },
    async: true,
  }
}

/** createFrameFromTuple: a frame of the tuple scope with the tuple's own bindings filled in. */
export function tupleFrameOf(ts: Scope): (t: Record<string, unknown>, env: Frame) => Frame {
  const slots = [...ts.names]
  const size = ts.names.size
  return (t, env) => {
    const f = frame(env, size)
    for (const [name, k] of slots) if (has.call(t, name)) f[k] = t[name]
    return f
  }
}

