// ROUTE_ENGINE_EXPR_CHECK=<file>: every evaluation runs in jsonata's interpreter (whose result is
// used) and in the compiled closures, and the two are compared — value, type, key order and the
// sequence flags jsonata leaves on arrays. Differences, hand-backs to the interpreter and, at exit,
// a summary are appended to <file> as JSON lines. Impure functions ($id, $unixTime, the store
// bindings) run once, in the interpreter; the compiled run replays their results.
import { appendFileSync } from 'node:fs'
import jsonata from 'jsonata'
import { parseExpr, type Expr, type Limits } from './compile.js'
import type { SharedDefinitions, Wrapped } from './library.js'
import { FUNCTIONS } from './functions.js'
import { compileProgram, Unsupported, type LibraryFn } from './program.js'
import { Fallback, isLimitError, isPromise } from './runtime.js'

export const CHECKING = process.env.ROUTE_ENGINE_EXPR_CHECK ?? ''

const IMPURE = new Set(['id', 'unixTime'])

interface Recorded { value: unknown; promise: boolean }
interface Log { calls: Map<string, Recorded[]>; record: boolean }
let current: Log | null = null
let queue: Promise<unknown> = Promise.resolve()

const key = (name: string, args: unknown[]): string => `${name}(${safeJson(args)})`

function record(name: string, args: unknown[], r: unknown): unknown {
  const log = current
  if (!log?.record) return r
  const push = (value: unknown, promise: boolean): void => {
    const k = key(name, args)
    log.calls.set(k, [...(log.calls.get(k) ?? []), { value, promise }])
  }
  if (isPromise(r)) return r.then((v) => { push(v, true); return v })
  push(r, false)
  return r
}

function replay(name: string, args: unknown[]): unknown {
  const r = current?.calls.get(key(name, args))?.shift()
  if (!r) throw new Error(`the compiled code called $${name}${safeJson(args)}, which the interpreter did not`)
  return r.promise ? Promise.resolve(r.value) : r.value
}

const stats = { evaluations: 0, identical: 0, mismatches: 0, handedBack: new Map<string, number>(), sources: new Set<string>() }
if (CHECKING) {
  process.on('exit', () => {
    appendFileSync(CHECKING, JSON.stringify({
      summary: { pid: process.pid, expressions: stats.sources.size, evaluations: stats.evaluations, identical: stats.identical, mismatches: stats.mismatches, handedBack: Object.fromEntries(stats.handedBack) },
    }) + '\n')
  })
}

/** What the check has seen so far in this process. */
export function checkStats(): { evaluations: number; identical: number; mismatches: number; handedBack: Record<string, number> } {
  return { evaluations: stats.evaluations, identical: stats.identical, mismatches: stats.mismatches, handedBack: Object.fromEntries(stats.handedBack) }
}

/** The engine's functions for the compiled code: impure ones replay what the interpreter's calls returned. */
const COMPILED_LIBRARY: Record<string, LibraryFn> = Object.fromEntries(Object.entries(FUNCTIONS).map(([name, [fn]]) => [name, IMPURE.has(name) ? (...args: unknown[]) => replay(name, args) : fn]))

/**
 * The checking form of an expression (compile.ts returns it when CHECKING is set). `lib`: the library
 * definitions it uses, which the interpreter reads from the wrapped text and the compiled code calls
 * compiled.
 */
export function checked(source: string, limits: Limits, lib: { shared: SharedDefinitions; wrapped: Wrapped } | null): Expr {
  const reference = jsonata(lib ? lib.wrapped.text : source, { timeout: limits.timeoutMs, stack: limits.maxDepth })
  for (const [name, [fn, sig]] of Object.entries(FUNCTIONS)) {
    reference.registerFunction(name, IMPURE.has(name) ? (...args: unknown[]) => record(name, args, fn(...args)) : fn, sig)
  }
  const program = compileProgram(parseExpr(source), COMPILED_LIBRARY, limits.maxDepth, false, lib?.shared.compiled(COMPILED_LIBRARY))
  const interpret = (i: unknown, b: Record<string, unknown>): Promise<unknown> => reference.evaluate(i, b).catch((err) => { throw lib ? lib.wrapped.remap(err) : err })
  if (program instanceof Unsupported) return { source, compiled: program.reason, evaluate: interpret, run: interpret }
  stats.sources.add(source)

  const once = async (input: unknown, bindings: Record<string, unknown>): Promise<unknown> => {
    const log: Log = { calls: new Map(), record: true }
    current = log
    let ref: { value?: unknown; error?: unknown }
    try { ref = { value: await reference.evaluate(input, wrap(bindings, record)) } } catch (error) { ref = { error } }
    log.record = false
    let out: { value?: unknown; error?: unknown }
    try { out = { value: await program.run(input, wrap(bindings, replay), limits.timeoutMs, limits.maxDepth) } } catch (error) { out = { error } }
    current = null
    stats.evaluations++
    if ('error' in out && (out.error instanceof Fallback || !isLimitError(out.error))) {
      const why = out.error instanceof Fallback ? out.error.reason : `error: ${(out.error as Error)?.message ?? out.error}`
      // handing an evaluation that fails back to the interpreter is how errors get their exact text
      const label = `${'error' in ref ? '(failing) ' : ''}${why} — in ${cut(source.replace(/\s+/g, ' ').trim(), 100)}`
      stats.handedBack.set(label, (stats.handedBack.get(label) ?? 0) + 1)
      if (!(out.error instanceof Fallback)) report(source, input, 'compiled code threw', ref, out)
    } else if ('error' in ref !== 'error' in out) report(source, input, 'one failed', ref, out)
    else if ('error' in ref) stats.identical++
    else {
      const diff = difference(ref.value, out.value, '$')
      if (diff) report(source, input, diff, ref, out)
      else stats.identical++
    }
    if ('error' in ref) throw lib ? lib.wrapped.remap(ref.error) : ref.error
    return ref.value
  }
  const run = (input: unknown, bindings: Record<string, unknown>): Promise<unknown> => {
    const job = queue.then(() => once(input, bindings))
    queue = job.catch(() => undefined)
    return job
  }
  return { source, compiled: true, evaluate: run, run }
}

function wrap(bindings: Record<string, unknown>, via: (name: string, args: unknown[], r?: unknown) => unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(bindings)) {
    out[k] = typeof v !== 'function' ? v
      : via === record ? function (this: unknown, ...args: unknown[]) { return record(k, args, (v as LibraryFn).apply(this, args)) }
      : (...args: unknown[]) => replay(k, args)
  }
  return out
}

function report(source: string, input: unknown, where: string, ref: { value?: unknown; error?: unknown }, out: { value?: unknown; error?: unknown }): void {
  stats.mismatches++
  const show = (r: { value?: unknown; error?: unknown }) => ('error' in r ? { error: String((r.error as Error)?.message ?? JSON.stringify(r.error)) } : { value: cut(safeJson(r.value)) })
  appendFileSync(CHECKING, JSON.stringify({ mismatch: where, source: cut(source, 300), input: cut(safeJson(input)), interpreter: show(ref), compiled: show(out) }) + '\n')
}

const FLAGS = ['sequence', 'keepSingleton', 'outerWrapper', 'tupleStream', 'cons'] as const

/** Where two results differ (null: they do not). Functions compare equal to functions. */
export function difference(a: unknown, b: unknown, at: string): string | null {
  const fa = isFunctionValue(a), fb = isFunctionValue(b)
  if (fa || fb) return fa && fb ? null : `${at}: function vs value`
  if (typeof a !== typeof b) return `${at}: ${typeof a} vs ${typeof b}`
  if (typeof a === 'number') return a === b || (Number.isNaN(a) && Number.isNaN(b)) ? null : `${at}: ${a} vs ${b}`
  if (typeof a !== 'object' || a === null || b === null) return a === b ? null : `${at}: ${safeJson(a)} vs ${safeJson(b)}`
  if (Array.isArray(a) !== Array.isArray(b)) return `${at}: array vs object`
  if (Array.isArray(a)) {
    const bb = b as unknown[]
    for (const f of FLAGS) if (!!(a as any)[f] !== !!(bb as any)[f]) return `${at}: flag ${f} ${!!(a as any)[f]} vs ${!!(bb as any)[f]}`
    if (a.length !== bb.length) return `${at}: length ${a.length} vs ${bb.length}`
    for (let i = 0; i < a.length; i++) { const d = difference(a[i], bb[i], `${at}[${i}]`); if (d) return d }
    return null
  }
  const ka = Object.keys(a), kb = Object.keys(b as object)
  if (ka.join('\0') !== kb.join('\0')) return `${at}: keys [${ka}] vs [${kb}]`
  for (const k of ka) { const d = difference((a as any)[k], (b as any)[k], `${at}.${k}`); if (d) return d }
  return null
}

const isFunctionValue = (v: unknown): boolean =>
  typeof v === 'function' || (typeof v === 'object' && v !== null && ((v as any)._jsonata_lambda === true || (v as any)._jsonata_function === true))

function safeJson(v: unknown): string {
  try { return JSON.stringify(v, (_k, x) => (typeof x === 'function' ? '<function>' : x)) ?? 'undefined' } catch { return '<unserialisable>' }
}

const cut = (s: string, n = 4000): string => (s.length > n ? s.slice(0, n) + '…' : s)
