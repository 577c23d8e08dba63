// JSONata's built-in functions for the compiled expressions, ported from jsonata 2.2 (functions.js and
// the signature validator). A call is compiled only when its arguments map one to one onto the
// signature's parameters; an argument of a type the signature rejects falls back to the interpreter,
// which raises the exact error. Functions not listed here leave the expression to the interpreter.
import * as re from './regex.js'
import { fallback, isPromise, LIBRARY_NAMES } from './runtime.js'
import { append, codePointLength, deepEqual, HAS_SURROGATE, lookup, seq, stringOf, symbolOf, toBoolean, typeOf, type Sequence } from './values.js'

/** Calls a function value (a lambda, a regex, a JavaScript function) with arguments. */
export type Call = (f: unknown, args: unknown[]) => unknown

interface Param {
  /** Signature symbols accepted, 'm' (missing) included where the signature allows it. */
  types: string
  optional: boolean
  context: boolean
  array: boolean
  subtype?: string
  variadic: boolean
}

export interface Builtin {
  params: Param[]
  /** Calls one of its arguments: its async form is used when that argument may return a Promise. */
  hof: boolean
  impl: (args: unknown[], call: Call) => unknown
  implAsync?: (args: unknown[], call: Call) => Promise<unknown>
}

/** parseSignature's parameter list (the return type after ':' is ignored, as there). */
function parseParams(sig: string): Param[] {
  const params: Param[] = []
  const add = (types: string, extra: Partial<Param> = {}) => params.push({ types, optional: false, context: false, array: false, variadic: false, ...extra })
  for (let i = 1; i < sig.length; i++) {
    const c = sig[i]!
    if (c === ':') break
    const prev = params[params.length - 1]
    if ('snblo'.includes(c)) add(c + 'm')
    else if (c === 'a') add('asnblfom', { array: true })
    else if (c === 'f') add('f')
    else if (c === 'j') add('asnblom')
    else if (c === 'x') add('asnblfom')
    else if (c === '-') { prev!.context = true; prev!.optional = true }
    else if (c === '?') prev!.optional = true
    else if (c === '+') prev!.variadic = true
    else if (c === '(') { const end = sig.indexOf(')', i); add(sig.slice(i + 1, end) + 'm'); i = end }
    else if (c === '<') { const end = closing(sig, i); prev!.subtype = sig.slice(i + 1, end); i = end }
  }
  return params
}

function closing(s: string, start: number): number {
  let depth = 1
  for (let i = start + 1; i < s.length; i++) {
    if (s[i] === '<') depth++
    else if (s[i] === '>' && --depth === 0) return i
  }
  return s.length
}

/** Whether a call with `n` arguments binds them one to one (no context value, no shifted argument). */
export function positional(b: Builtin, n: number): boolean {
  if (b.params[0]?.variadic) return n >= 1
  if (n > b.params.length) return false
  for (let i = n; i < b.params.length; i++) if (!b.params[i]!.optional || b.params[i]!.context) return false
  return true
}

/** signature.validate for a positional call: the arguments, arrays wrapped where the signature wants one. */
export function validate(b: Builtin, args: unknown[]): unknown[] {
  for (let i = 0; i < args.length; i++) {
    const p = b.params[p0(b, i)]!
    const arg = args[i]
    const sym = symbolOf(arg)
    if (!p.types.includes(sym)) fallback(`argument ${i + 1} does not match the function's signature`)
    if (!p.array) continue
    if (sym === 'm') { args[i] = undefined; continue }
    if (p.subtype !== undefined) {
      if (sym !== 'a') {
        if (sym !== p.subtype) fallback(`argument ${i + 1} must be an array of ${p.subtype}`)
      } else if ((arg as unknown[]).length > 0) {
        const first = symbolOf((arg as unknown[])[0])
        if (first !== p.subtype[0] || (arg as unknown[]).some((x) => symbolOf(x) !== first)) fallback(`argument ${i + 1} must be an array of ${p.subtype}`)
      }
    }
    if (sym !== 'a') args[i] = [arg]
  }
  return args
}

const p0 = (b: Builtin, i: number): number => (b.params[0]!.variadic ? 0 : i)

/**
 * Whether a higher-order function may call its argument `i` of `n`: only a function parameter is
 * called (an array of functions given to $map is data). A call that is not positional: any of them.
 */
export function callsArgument(b: Builtin, i: number, n: number): boolean {
  return !positional(b, n) || b.params[p0(b, i)]!.types === 'f'
}

const arity = (f: unknown): number => {
  const a = (f as { arity?: unknown }).arity
  return typeof a === 'number' ? a : (f as (...x: unknown[]) => unknown).length
}

/** hofFuncArgs: the value, then its index and the whole array when the function takes them. */
function hofArgs(f: unknown, a: unknown, b: unknown, c: unknown): unknown[] {
  const n = arity(f)
  return n >= 3 ? [a, b, c] : n >= 2 ? [a, b] : [a]
}

const keysOf = (v: unknown): string[] => (typeof v === 'object' && v !== null ? Object.keys(v) : [])

/** Sets a key even when it is `__proto__` (JSON can carry one; the interpreter's objects have no prototype). */
export function setKey(o: Record<string, unknown>, k: string, v: unknown): void {
  if (k === '__proto__') Object.defineProperty(o, k, { value: v, writable: true, enumerable: true, configurable: true })
  else o[k] = v
}

function substring(str: string | undefined, start: number, length?: number): string | undefined {
  if (str === undefined) return undefined
  if (!HAS_SURROGATE.test(str)) return sliceLike(str, str.length, start, length, (a, b) => str.slice(a, b))
  const chars = Array.from(str)
  return sliceLike(str, chars.length, start, length, (a, b) => chars.slice(a, b).join(''))
}

function sliceLike(_s: string, len: number, start: number, length: number | undefined, slice: (a: number, b?: number) => string): string {
  if (len + start < 0) start = 0
  if (length === undefined) return slice(start)
  if (length <= 0) return ''
  return slice(start, start >= 0 ? start + length : len + start + length)
}

function round(arg: number | undefined, precision?: number): number | undefined {
  if (arg === undefined) return undefined
  let value: string[]
  if (precision) {
    value = arg.toString().split('e')
    arg = +(value[0] + 'e' + (value[1] ? +value[1] + precision : precision))
  }
  let result = Math.round(arg)
  const diff = result - arg
  if (Math.abs(diff) === 0.5 && Math.abs(result % 2) === 1) result = result - 1
  if (precision) {
    value = result.toString().split('e')
    result = +(value[0] + 'e' + (value[1] ? +value[1] - precision : -precision))
  }
  return Object.is(result, -0) ? 0 : result
}

function number(arg: unknown): number | undefined {
  if (arg === undefined) return undefined
  if (typeof arg === 'number') return arg
  if (typeof arg === 'string' && /^-?[0-9]+(\.[0-9]+)?([Ee][-+]?[0-9]+)?$/.test(arg) && !Number.isNaN(parseFloat(arg)) && Number.isFinite(Number(arg))) return parseFloat(arg)
  if (typeof arg === 'string' && /^(0[xX][0-9A-Fa-f]+)|(0[oO][0-7]+)|(0[bB][0-1]+)$/.test(arg)) return Number(arg)
  if (arg === true) return 1
  if (arg === false) return 0
  return fallback('$number of a value that is not a number')
}

function keys(arg: unknown): Sequence {
  const out = seq()
  if (Array.isArray(arg)) {
    const all: Record<string, true> = {}
    for (const item of arg) for (const k of keys(item)) setKey(all, k as string, true)
    for (const k of Object.keys(all)) out.push(k)
  } else if (arg !== null && typeof arg === 'object') for (const k of Object.keys(arg)) out.push(k)
  return out
}

function spread(arg: unknown): unknown {
  if (Array.isArray(arg)) {
    let out: unknown = seq()
    for (const item of arg) out = append(out, spread(item))
    return out
  }
  if (arg !== null && typeof arg === 'object') {
    const out = seq()
    for (const k of Object.keys(arg)) { const o = {}; setKey(o, k, (arg as Record<string, unknown>)[k]); out.push(o) }
    return out
  }
  return arg
}

function merge(arg: unknown[] | undefined): Record<string, unknown> | undefined {
  if (arg === undefined) return undefined
  const out: Record<string, unknown> = {}
  for (const o of arg) for (const k of keysOf(o)) setKey(out, k, (o as Record<string, unknown>)[k])
  return out
}

/**
 * fn.distinct, in linear time: the interpreter compares each item with every one kept (100,000 tool
 * names took 13 s). Strings, numbers, booleans and null are kept in a Set (NaN, equal to nothing,
 * is always kept); objects and arrays are compared, with deepEqual, only with those of the same
 * canonical text (keys sorted, as deepEqual ignores their order).
 */
function distinct(arr: unknown): unknown {
  if (arr === undefined || !Array.isArray(arr) || arr.length <= 1) return arr
  const out: unknown[] = (arr as Sequence).sequence === true ? seq() : []
  const scalars = new Set<unknown>()
  const byText = new Map<string, unknown[]>()
  for (const v of arr) {
    if (v === null || typeof v !== 'object') {
      if (typeof v === 'number' && Number.isNaN(v)) out.push(v)
      else if (!scalars.has(v)) { scalars.add(v); out.push(v) }
      continue
    }
    const key = canonical(v)
    const same = byText.get(key)
    if (!same) byText.set(key, [v])
    else if (same.some((x) => deepEqual(v, x))) continue
    else same.push(v)
    out.push(v)
  }
  return out
}

/** A text equal for deep-equal values (functions all read the same: deepEqual tells them apart). */
function canonical(v: unknown): string {
  if (v === null || typeof v !== 'object') return typeof v === 'string' ? JSON.stringify(v) : typeof v === 'function' ? 'f' : String(v)
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`
  return `{${Object.getOwnPropertyNames(v).sort().map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(',')}}`
}

function trim(str: string | undefined): string | undefined {
  if (str === undefined) return undefined
  let r = str.replace(/[ \t\n\r]+/gm, ' ')
  if (r.charAt(0) === ' ') r = r.substring(1)
  if (r.charAt(r.length - 1) === ' ') r = r.substring(0, r.length - 1)
  return r
}

function zip(...args: unknown[]): unknown[][] {
  const length = Math.min(...args.map((a) => (Array.isArray(a) ? a.length : 0)))
  const out: unknown[][] = []
  for (let i = 0; i < length; i++) out.push(args.map((a) => (a as unknown[])[i]))
  return out
}

// ---- higher-order functions: sync (call returns a value) and async (call may return a Promise) ----

function map(arr: unknown[] | undefined, f: unknown, call: Call): Sequence | undefined {
  if (arr === undefined) return undefined
  const out = seq()
  for (let i = 0; i < arr.length; i++) {
    const r = call(f, hofArgs(f, arr[i], i, arr))
    if (r !== undefined) out.push(r)
  }
  return out
}
async function mapAsync(arr: unknown[] | undefined, f: unknown, call: Call): Promise<Sequence | undefined> {
  if (arr === undefined) return undefined
  const out = seq()
  for (let i = 0; i < arr.length; i++) {
    let r = call(f, hofArgs(f, arr[i], i, arr))
    if (isPromise(r)) r = await r
    if (r !== undefined) out.push(r)
  }
  return out
}

function filter(arr: unknown[] | undefined, f: unknown, call: Call): Sequence | undefined {
  if (arr === undefined) return undefined
  const out = seq()
  for (let i = 0; i < arr.length; i++) if (toBoolean(call(f, hofArgs(f, arr[i], i, arr)))) out.push(arr[i])
  return out
}
async function filterAsync(arr: unknown[] | undefined, f: unknown, call: Call): Promise<Sequence | undefined> {
  if (arr === undefined) return undefined
  const out = seq()
  for (let i = 0; i < arr.length; i++) if (toBoolean(await call(f, hofArgs(f, arr[i], i, arr)))) out.push(arr[i])
  return out
}

function single(arr: unknown[] | undefined, f: unknown, call: Call): unknown {
  if (arr === undefined) return undefined
  let found = false
  let result: unknown
  for (let i = 0; i < arr.length; i++) {
    if (f === undefined || toBoolean(call(f, hofArgs(f, arr[i], i, arr)))) {
      if (found) fallback('$single matched more than one item')
      result = arr[i]
      found = true
    }
  }
  if (!found) fallback('$single matched nothing')
  return result
}
async function singleAsync(arr: unknown[] | undefined, f: unknown, call: Call): Promise<unknown> {
  if (arr === undefined) return undefined
  let found = false
  let result: unknown
  for (let i = 0; i < arr.length; i++) {
    if (f === undefined || toBoolean(await call(f, hofArgs(f, arr[i], i, arr)))) {
      if (found) fallback('$single matched more than one item')
      result = arr[i]
      found = true
    }
  }
  if (!found) fallback('$single matched nothing')
  return result
}

function reduceArgs(f: unknown, acc: unknown, item: unknown, i: number, arr: unknown[]): unknown[] {
  const n = arity(f)
  return n >= 4 ? [acc, item, i, arr] : n >= 3 ? [acc, item, i] : [acc, item]
}
function reduce(arr: unknown[] | undefined, f: unknown, init: unknown, call: Call): unknown {
  if (arr === undefined) return undefined
  if (arity(f) < 2) fallback('$reduce with a function of fewer than two arguments')
  let i = init === undefined && arr.length > 0 ? 1 : 0
  let acc = i === 1 ? arr[0] : init
  for (; i < arr.length; i++) acc = call(f, reduceArgs(f, acc, arr[i], i, arr))
  return acc
}
async function reduceAsync(arr: unknown[] | undefined, f: unknown, init: unknown, call: Call): Promise<unknown> {
  if (arr === undefined) return undefined
  if (arity(f) < 2) fallback('$reduce with a function of fewer than two arguments')
  let i = init === undefined && arr.length > 0 ? 1 : 0
  let acc = i === 1 ? arr[0] : init
  for (; i < arr.length; i++) acc = await call(f, reduceArgs(f, acc, arr[i], i, arr))
  return acc
}

function each(obj: unknown, f: unknown, call: Call): Sequence {
  const out = seq()
  for (const k of keysOf(obj)) {
    const r = call(f, hofArgs(f, (obj as Record<string, unknown>)[k], k, obj))
    if (r !== undefined) out.push(r)
  }
  return out
}
async function eachAsync(obj: unknown, f: unknown, call: Call): Promise<Sequence> {
  const out = seq()
  for (const k of keysOf(obj)) {
    const r = await call(f, hofArgs(f, (obj as Record<string, unknown>)[k], k, obj))
    if (r !== undefined) out.push(r)
  }
  return out
}

function sift(obj: unknown, f: unknown, call: Call): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = {}
  for (const k of keysOf(obj)) {
    const v = (obj as Record<string, unknown>)[k]
    if (toBoolean(call(f, hofArgs(f, v, k, obj)))) setKey(out, k, v)
  }
  return Object.keys(out).length === 0 ? undefined : out
}
async function siftAsync(obj: unknown, f: unknown, call: Call): Promise<Record<string, unknown> | undefined> {
  const out: Record<string, unknown> = {}
  for (const k of keysOf(obj)) {
    const v = (obj as Record<string, unknown>)[k]
    if (toBoolean(await call(f, hofArgs(f, v, k, obj)))) setKey(out, k, v)
  }
  return Object.keys(out).length === 0 ? undefined : out
}

type A = any
const table: [string, string, (args: A[], call: Call) => unknown, ((args: A[], call: Call) => Promise<unknown>)?][] = [
  ['sum', '<a<n>:n>', ([a]) => (a === undefined ? undefined : (a as number[]).reduce((t, n) => t + n, 0))],
  ['count', '<a:n>', ([a]) => (a === undefined ? 0 : a.length)],
  ['max', '<a<n>:n>', ([a]) => (a === undefined || a.length === 0 ? undefined : Math.max(...a))],
  ['min', '<a<n>:n>', ([a]) => (a === undefined || a.length === 0 ? undefined : Math.min(...a))],
  ['average', '<a<n>:n>', ([a]) => (a === undefined || a.length === 0 ? undefined : (a as number[]).reduce((t, n) => t + n, 0) / a.length)],
  ['string', '<x-b?:s>', ([v, pretty]) => (pretty ? fallback('$string with prettify') : stringOf(v))],
  ['substring', '<s-nn?:s>', ([s, start, length]) => substring(s, start, length)],
  ['substringBefore', '<s-s:s>', ([s, chars]) => {
    if (s === undefined) return undefined
    const pos = s.indexOf(chars)
    return pos > -1 ? s.substr(0, pos) : s
  }],
  ['substringAfter', '<s-s:s>', ([s, chars]) => {
    if (s === undefined) return undefined
    const pos = s.indexOf(chars)
    return pos > -1 ? s.substr(pos + chars.length) : s
  }],
  ['lowercase', '<s-:s>', ([s]) => (s === undefined ? undefined : s.toLowerCase())],
  ['uppercase', '<s-:s>', ([s]) => (s === undefined ? undefined : s.toUpperCase())],
  ['length', '<s-:n>', ([s]) => (s === undefined ? undefined : codePointLength(s))],
  ['trim', '<s-:s>', ([s]) => trim(s)],
  ['match', '<s-f<s:o>n?:a<o>>', ([s, m, limit], call) => re.match(s, m, limit, call)],
  ['contains', '<s-(sf):b>', ([s, token], call) => re.contains(s, token, call)],
  ['replace', '<s-(sf)(sf)n?:s>', ([s, p, r, limit], call) => re.replace(s, p, r, limit, call)],
  ['split', '<s-(sf)n?:a<s>>', ([s, sep, limit], call) => re.split(s, sep, limit, call)],
  ['join', '<a<s>s?:s>', ([a, sep]) => (a === undefined ? undefined : a.join(sep === undefined ? '' : sep))],
  ['number', '<(nsb)-:n>', ([v]) => number(v)],
  ['floor', '<n-:n>', ([n]) => (n === undefined ? undefined : Math.floor(n))],
  ['ceil', '<n-:n>', ([n]) => (n === undefined ? undefined : Math.ceil(n))],
  ['round', '<n-n?:n>', ([n, p]) => round(n, p)],
  ['abs', '<n-:n>', ([n]) => (n === undefined ? undefined : Math.abs(n))],
  ['boolean', '<x-:b>', ([v]) => toBoolean(v)],
  ['not', '<x-:b>', ([v]) => (v === undefined ? undefined : !toBoolean(v))],
  ['exists', '<x:b>', ([v]) => v !== undefined],
  ['type', '<x:s>', ([v]) => typeOf(v)],
  ['keys', '<x-:a<s>>', ([v]) => keys(v)],
  ['lookup', '<x-s:x>', ([v, k]) => lookup(v, k)],
  ['append', '<xx:a>', ([a, b]) => append(a, b)],
  ['spread', '<x-:a<o>>', ([v]) => spread(v)],
  ['merge', '<a<o>:o>', ([a]) => merge(a)],
  ['reverse', '<a:a>', ([a]) => (a === undefined ? undefined : a.length <= 1 ? a : [...a].reverse())],
  ['distinct', '<x:x>', ([a]) => distinct(a)],
  ['zip', '<a+>', (args) => zip(...args)],
  ['error', '<s?:x>', () => fallback('$error')],
  ['assert', '<bs?:x>', ([c]) => (c ? undefined : fallback('$assert'))],
  ['map', '<af>', ([a, f], call) => map(a, f, call), ([a, f], call) => mapAsync(a, f, call)],
  ['filter', '<af>', ([a, f], call) => filter(a, f, call), ([a, f], call) => filterAsync(a, f, call)],
  ['single', '<af?>', ([a, f], call) => single(a, f, call), ([a, f], call) => singleAsync(a, f, call)],
  ['reduce', '<afj?:j>', ([a, f, init], call) => reduce(a, f, init, call), ([a, f, init], call) => reduceAsync(a, f, init, call)],
  ['each', '<o-f:a>', ([o, f], call) => each(o, f, call), ([o, f], call) => eachAsync(o, f, call)],
  ['sift', '<o-f?:o>', ([o, f], call) => sift(o, f, call), ([o, f], call) => siftAsync(o, f, call)],
]

export const BUILTINS: ReadonlyMap<string, Builtin> = new Map(table.map(([name, sig, impl, implAsync]) => [
  name,
  { params: parseParams(sig), hof: implAsync !== undefined, impl, implAsync },
]))

/** JSONata's functions the compiler does not implement: an expression that calls one stays interpreted. */
export const INTERPRETED_BUILTINS = new Set(['now', 'millis', 'random', 'shuffle', 'sort', 'eval', 'formatNumber', 'formatBase', 'formatInteger', 'parseInteger', 'pad', 'sqrt', 'power', 'base64encode', 'base64decode', 'encodeUrlComponent', 'encodeUrl', 'decodeUrlComponent', 'decodeUrl', 'toMillis', 'fromMillis', 'clone'])

for (const name of [...BUILTINS.keys(), ...INTERPRETED_BUILTINS]) LIBRARY_NAMES.add(name)

// ---- entry points for generated code: positional arguments, validated as the signature says ----

const callAny: Call = (f, args) => {
  if (typeof f !== 'function') return fallback('a call of a value that is not a function')
  const r = f.apply(null, args)
  return isPromise(r) ? fallback('a Promise where the compiler expected none') : r
}
const callMaybeAny: Call = (f, args) => (typeof f !== 'function' ? fallback('a call of a value that is not a function') : f.apply(null, args))

const isStr = (v: unknown): v is string | undefined => v === undefined || typeof v === 'string'
const mismatch = (): never => fallback('an argument does not match the function\'s signature')
const str = (v: unknown): string | undefined => (isStr(v) ? v : mismatch())
const fn = (v: unknown): unknown => (typeof v === 'function' ? v : mismatch())
/** An `a` parameter: undefined stays, an array stays, anything else becomes [it]. */
const arr = (v: unknown): unknown[] | undefined => (v === undefined ? undefined : Array.isArray(v) ? v : [v])

export const ENTRIES: Record<string, (...args: any[]) => unknown> = {}
export const ENTRIES_ASYNC: Record<string, (...args: any[]) => Promise<unknown>> = {}
for (const [name, b] of BUILTINS) {
  ENTRIES[name] = (...args: unknown[]) => b.impl(validate(b, args), callAny)
  if (b.implAsync) ENTRIES_ASYNC[name] = (...args: unknown[]) => b.implAsync!(validate(b, args), callMaybeAny)
}
// The commonest, without the generic validator (same checks, no argument array).
Object.assign(ENTRIES, {
  type: (v: unknown) => typeOf(v),
  boolean: (v: unknown) => toBoolean(v),
  string: (v: unknown, pretty?: unknown) => (pretty === undefined || pretty === false ? stringOf(v) : typeof pretty === 'boolean' ? fallback('$string with prettify') : mismatch()),
  lookup: (v: unknown, k: unknown) => lookup(v, str(k) as string),
  append: (a: unknown, b: unknown) => append(a, b),
  keys: (v: unknown) => keys(v),
  length: (s: unknown) => { const x = str(s); return x === undefined ? undefined : codePointLength(x) },
  lowercase: (s: unknown) => str(s)?.toLowerCase(),
  uppercase: (s: unknown) => str(s)?.toUpperCase(),
  substring: (s: unknown, start: unknown, length?: unknown) => {
    if (typeof start !== 'number' && start !== undefined) mismatch()
    if (typeof length !== 'number' && length !== undefined) mismatch()
    return substring(str(s), start as number, length as number | undefined)
  },
  substringBefore: (s: unknown, chars: unknown) => {
    const x = str(s), c = str(chars) as string
    if (x === undefined) return undefined
    const pos = x.indexOf(c)
    return pos > -1 ? x.substr(0, pos) : x
  },
  substringAfter: (s: unknown, chars: unknown) => {
    const x = str(s), c = str(chars) as string
    if (x === undefined) return undefined
    const pos = x.indexOf(c)
    return pos > -1 ? x.substr(pos + c.length) : x
  },
  contains: (s: unknown, token: unknown) => {
    if (!isStr(token) && typeof token !== 'function') mismatch()
    return re.contains(str(s), token, callAny)
  },
  join: (a: unknown, sep?: unknown) => {
    const xs = arr(a)
    if (xs === undefined) { str(sep); return undefined }
    for (const x of xs) if (typeof x !== 'string') mismatch()
    return xs.join(sep === undefined ? '' : (str(sep) as string))
  },
  merge: (a: unknown) => {
    const xs = arr(a)
    if (xs) for (const x of xs) if (x === null || typeof x !== 'object' || Array.isArray(x)) mismatch()
    return merge(xs)
  },
  map: (a: unknown, f: unknown) => map(arr(a), fn(f), callAny),
  filter: (a: unknown, f: unknown) => filter(arr(a), fn(f), callAny),
})
