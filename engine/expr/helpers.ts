// The runtime functions generated code calls (generate.ts): jsonata 2.2's evaluator steps that are
// too long to inline — flattening a step's results, keeping the items a predicate selects, appending
// tuples, grouping — and the operators' type checks. Each mirrors the interpreter's function of the
// same job; generate.ts inlines only the common cases around them.
import { setKey } from './builtins.js'
import { fallback, isPromise, type Runtime } from './runtime.js'
import { append, deepEqual, isNumeric, isSequence, lookup, seq, stringOf, toBoolean, unwrap, type Sequence } from './values.js'

type Tuple = Record<string, unknown>
const has = Object.prototype.hasOwnProperty

export const H = {
  isPromise,
  unwrap,
  toBoolean,
  lookup,
  setKey,
  stringOf,
  deepEqual,
  seq1: (v: unknown): Sequence => seq(v),
  seq0: (): Sequence => seq(),
  isArray: Array.isArray,
  has: (o: unknown, k: string): boolean => has.call(o, k),

  /** A name step on one item: fn.lookup, then evaluate()'s unwrapping. */
  field(o: unknown, k: string): unknown {
    if (o === null || typeof o !== 'object') return undefined
    if (Array.isArray(o)) return unwrap(lookup(o, k))
    return has.call(o, k) ? unwrap((o as Record<string, unknown>)[k]) : undefined
  },

  /** evaluateStep's result: a lone plain array at the last step stays; otherwise items flattened one level. */
  flatten(out: unknown[], lastStep: boolean): unknown[] {
    if (lastStep && out.length === 1 && Array.isArray(out[0]) && !isSequence(out[0])) return out[0]
    const r = seq()
    for (const res of out) {
      if (!Array.isArray(res) || (res as Sequence).cons) r.push(res)
      else for (const v of res) r.push(v)
    }
    return r
  },

  /**
   * A path of plain name steps after a first value `t` (already unwrapped): own-property reads while
   * the values are objects; an array is flattened as its step's result and the general loop goes on.
   * The path's result, before its own unwrapping.
   */
  walk(t: unknown, names: readonly string[], from: number, rt: Runtime): unknown {
    for (let k = from; k < names.length; k++) {
      if (t === undefined) return undefined
      if (Array.isArray(t)) return H.namesAfter(names, k, t, rt)
      t = H.field(t, names[k]!)
    }
    return Array.isArray(t) ? H.flatten([t], true) : t
  },

  /** A path of name steps from the context (an array context is a sequence of items from the first step). */
  walkFrom(ctx: unknown, names: readonly string[], rt: Runtime): unknown {
    if (Array.isArray(ctx)) return H.names(names, 0, ctx, rt)
    return H.walk(H.field(ctx, names[0]!), names, 1, rt)
  },

  /**
   * The rest of a path of plain name steps, from step `from` on a sequence of items (evaluatePath's
   * loop, with evaluateStep's flattening done as the results come).
   */
  names(names: readonly string[], from: number, input: unknown[], rt: Runtime): unknown {
    let result: unknown[] = input
    for (let i = from; i < names.length; i++) {
      const name = names[i]!
      const last = i === names.length - 1
      const r = seq()
      let count = 0
      let only: unknown
      for (const item of input) {
        rt.tick()
        const v = unwrap(lookup(item, name))
        if (v === undefined) continue
        if (++count === 1) only = v
        if (!Array.isArray(v) || (v as Sequence).cons) r.push(v)
        else for (const x of v) r.push(x)
      }
      // a lone plain array at the last step is the result as it is
      result = last && count === 1 && Array.isArray(only) && !isSequence(only) ? only : r
      if (result.length === 0) break
      input = result
    }
    return result
  },

  /** A value met mid-path by the object walk: flattened as the result of the step before `from`, then the remaining steps. */
  namesAfter(names: readonly string[], from: number, v: unknown[], rt: Runtime): unknown {
    const next = H.flatten([v], false)
    return next.length === 0 ? next : H.names(names, from, next, rt)
  },

  /** A filter's result sequence (marked as a tuple stream when its input is one). */
  filterStart(input: unknown): Sequence {
    const r = seq()
    if (input && (input as Sequence).tupleStream) r.tupleStream = true
    return r
  },

  items: (input: unknown): unknown[] => (Array.isArray(input) ? input : seq(input)),

  /** evaluateFilter for a number literal: that item (from the end when negative). */
  index(input: unknown, n: number): unknown {
    let results: unknown = H.filterStart(input)
    const items = Array.isArray(input) ? input : seq(input)
    const item = items[n < 0 ? items.length + n : n]
    if (item !== undefined) {
      if (Array.isArray(item)) results = item
      else (results as unknown[]).push(item)
    }
    return results
  },

  /** evaluateFilter's test for one item: numbers select by position, anything else by truthiness. */
  keep(results: unknown[], items: unknown[], index: number, item: unknown, r: unknown): void {
    if (isNumeric(r)) r = [r]
    if (Array.isArray(r) && r.every((x) => isNumeric(x))) {
      for (const x of r) {
        let ii = Math.floor(x as number)
        if (ii < 0) ii = items.length + ii
        if (ii === index) results.push(item)
      }
    } else if (toBoolean(r)) results.push(item)
  },

  tuples: (input: unknown[]): Tuple[] => input.map((item) => ({ '@': item })),

  tupleStream(): Sequence {
    const s = seq()
    s.tupleStream = true
    return s
  },

  /** evaluateTupleStep: one output tuple per item of a step's result, with the step's index binding. */
  addTuples(out: unknown[], t: Tuple, r: unknown, index: string | undefined): void {
    if (r === undefined) return
    const rs = Array.isArray(r) ? r : [r]
    if ((rs as Sequence).tupleStream) fallback('a nested tuple stream')
    // copied key by key: `{ ...t, '@': x }` is some 40 times slower on these small objects
    const keys = Object.keys(t)
    for (let bb = 0; bb < rs.length; bb++) {
      const tuple: Tuple = {}
      for (let k = 0; k < keys.length; k++) tuple[keys[k]!] = t[keys[k]!]
      tuple['@'] = rs[bb]
      if (index !== undefined) tuple[index] = bb
      out.push(tuple)
    }
  },

  indexStage(items: unknown[], name: string): void {
    for (let ee = 0; ee < items.length; ee++) (items[ee] as Tuple)[name] = ee
  },

  /** The path's result from its tuple stream: each tuple's '@'. */
  fromTuples(tuples: Tuple[]): Sequence {
    const r = seq()
    for (const t of tuples) r.push(t['@'])
    return r
  },

  keepSingleton(result: unknown): unknown {
    if (Array.isArray(result) && (result as Sequence).cons && !isSequence(result)) result = seq(result)
    ;(result as Sequence).keepSingleton = true
    return result
  },

  /** An object key: a string, or undefined (no entry). */
  key(k: unknown): string | undefined {
    if (k === undefined || typeof k === 'string') {
      if (k === '_jsonata_lambda' || k === '_jsonata_function') fallback('a reserved object key')
      return k
    }
    return fallback('an object key that is not a string')
  },

  /**
   * evaluateGroupExpression on a sequence of items: items appended under equal keys, then each key's
   * value evaluated on its group. `keyOf(p, item)` and `valueOf(p, data)` evaluate pair p.
   */
  group(input: unknown, pairs: number, keyOf: (p: number, item: unknown) => unknown, valueOf: (p: number, data: unknown) => unknown): Record<string, unknown> {
    const groups = H.groupKeys(input, pairs, keyOf)
    const out: Record<string, unknown> = {}
    for (const [k, e] of groups) {
      const v = valueOf(e.p, e.data)
      if (v !== undefined) setKey(out, k, v)
    }
    return out
  },

  async groupAsync(input: unknown, pairs: number, keyOf: (p: number, item: unknown) => unknown, valueOf: (p: number, data: unknown) => unknown): Promise<Record<string, unknown>> {
    const groups = H.groupKeys(input, pairs, keyOf)
    const out: Record<string, unknown> = {}
    for (const [k, e] of groups) {
      const v = await valueOf(e.p, e.data)
      if (v !== undefined) setKey(out, k, v)
    }
    return out
  },

  groupKeys(input: unknown, pairs: number, keyOf: (p: number, item: unknown) => unknown): Map<string, { data: unknown; p: number }> {
    const items = (Array.isArray(input) ? input : seq(input)) as unknown[]
    if (items.length === 0 && !(input as Sequence).tupleStream) items.push(undefined)
    const groups = new Map<string, { data: unknown; p: number }>()
    for (const item of items) {
      for (let p = 0; p < pairs; p++) {
        const k = keyOf(p, item)
        if (isPromise(k)) fallback('an object key that awaits')
        const key = H.key(k)
        if (key === undefined) continue
        const e = groups.get(key)
        if (!e) groups.set(key, { data: item, p })
        else if (e.p !== p) fallback('two key expressions with the same key')
        else e.data = append(e.data, item)
      }
    }
    return groups
  },

  /** An object constructor on an array groups its items: the interpreter does that (see emit.ts). */
  grouping: (): never => fallback('an object constructor on an array'),

  /** Two keys of one object from different key expressions (D1009). */
  duplicateKey: (): never => fallback('two key expressions with the same key'),

  defineCons(a: unknown[]): unknown[] {
    Object.defineProperty(a, 'cons', { enumerable: false, configurable: false, value: true })
    return a
  },

  pushAll(out: unknown[], v: unknown[]): void {
    for (const x of v) out.push(x)
  },

  /** What a value weighs in Runtime.spend: an array its items, a text one per 64 characters. */
  size: (a: unknown): number => (Array.isArray(a) ? a.length : typeof a === 'string' ? a.length >>> 6 : 0),

  // ---- operators ----
  arith(l: unknown, r: unknown): boolean {
    if (l !== undefined && !isNumeric(l)) fallback('the left side of an arithmetic operator is not a number')
    if (r !== undefined && !isNumeric(r)) fallback('the right side of an arithmetic operator is not a number')
    return l !== undefined && r !== undefined
  },
  compare(l: unknown, r: unknown): boolean {
    const lt = typeof l, rt = typeof r
    if (!(lt === 'undefined' || lt === 'string' || lt === 'number') || !(rt === 'undefined' || rt === 'string' || rt === 'number')) fallback('a comparison of values that are not numbers or strings')
    if (lt === 'undefined' || rt === 'undefined') return false
    if (lt !== rt) fallback('a comparison of a number with a string')
    return true
  },
  eq: (l: unknown, r: unknown): boolean => l !== undefined && r !== undefined && (l === r || deepEqual(l, r)),
  ne: (l: unknown, r: unknown): boolean => l !== undefined && r !== undefined && !(l === r || deepEqual(l, r)),
  cat: (l: unknown, r: unknown): string => (typeof l === 'string' ? l : l === undefined ? '' : stringOf(l)!) + (typeof r === 'string' ? r : r === undefined ? '' : stringOf(r)!),
  in(l: unknown, r: unknown): boolean {
    if (l === undefined || r === undefined) return false
    if (!Array.isArray(r)) return r === l
    for (const x of r) if (x === l) return true
    return false
  },
  range(l: unknown, r: unknown): Sequence | undefined {
    if (l !== undefined && !Number.isInteger(l)) fallback('a range bound that is not an integer')
    if (r !== undefined && !Number.isInteger(r)) fallback('a range bound that is not an integer')
    if (l === undefined || r === undefined || (l as number) > (r as number)) return undefined
    if ((r as number) - (l as number) + 1 > 1e7) fallback('a range of more than 1e7 items')
    const out = seq()
    for (let x = l as number; x <= (r as number); x++) out.push(x)
    return out
  },
  negate(v: unknown): number | undefined {
    if (v === undefined) return undefined
    return isNumeric(v) ? -v : fallback('negation of a value that is not a number')
  },

  // ---- calls ----
  notCallable: (): never => fallback('a call of a value that is not a function'),

  /** A library definition read as a value: a function of its own arguments (its arity kept: hofs read it) on this runtime. */
  bindRuntime(fn: (rt: Runtime, ...args: unknown[]) => unknown, rt: Runtime): (...args: unknown[]) => unknown {
    const bound = (...args: unknown[]): unknown => fn(rt, ...args)
    Object.defineProperty(bound, 'length', { value: Math.max(0, fn.length - 1) })
    return bound
  },
  unexpectedPromise: (): never => fallback('a Promise where the compiler expected none'),
  /** applyInner for a function value (a lambda, a regex, a JavaScript function; `this` = the input). */
  call(f: unknown, args: unknown[], input: unknown): unknown {
    if (typeof f !== 'function') return H.notCallable()
    const r = f.apply(input, args)
    return isPromise(r) ? H.unexpectedPromise() : r
  },
  callMaybe(f: unknown, args: unknown[], input: unknown): unknown {
    if (typeof f !== 'function') return H.notCallable()
    return f.apply(input, args)
  },
  /** `lhs ~> $f` with a function value. */
  applyTo(f: unknown, v: unknown, mayAwait: boolean): unknown {
    if (typeof f !== 'function') return fallback('~> to something that is not a function')
    if (typeof v === 'function') return fallback('function composition with ~>')
    return mayAwait ? H.callMaybe(f, [v], null) : H.call(f, [v], null)
  },
}
