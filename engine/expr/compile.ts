// JSONata with limits and the function library. Compiled once at load; evaluated per request
// with per-call bindings ($request, $ctx, $vars, $state, …). An expression runs as JavaScript
// closures (program.ts) with jsonata's interpreter as the reference: the interpreter runs whatever
// the compiler leaves to it, and any evaluation the compiled code hands back (an argument of an
// unexpected type, whose exact error only the interpreter knows).
import jsonata from 'jsonata'
import { checked, CHECKING } from './check.js'
import { FUNCTIONS } from './functions.js'
import type { SharedDefinitions, Wrapped } from './library.js'
import { compileProgram, Unsupported, type LibraryFn, type Program } from './program.js'
import { isLimitError, isPromise } from './runtime.js'

export interface Limits {
  /** Milliseconds an evaluation may run between AST nodes. */
  timeoutMs: number
  /** Maximum evaluation depth: without it, deep recursion exhausts the heap and kills the process. */
  maxDepth: number
}

// 5 s: a legitimate 800-message history takes ~0.3 s to translate; only a runaway expression gets near this.
export const DEFAULT_LIMITS: Limits = { timeoutMs: 5000, maxDepth: 500 }

export interface ExprSyntaxError {
  message: string
  code: string
  /** 0-based offset into the source. */
  offset: number
}

export interface Expr {
  readonly source: string
  /** true when the expression runs compiled; else why the interpreter runs it. */
  readonly compiled: true | string
  evaluate(input: unknown, bindings: Record<string, unknown>): Promise<unknown>
  /** The value, synchronously unless the expression awaited a binding ($recall, $remember): then a Promise. */
  run(input: unknown, bindings: Record<string, unknown>): unknown
}

export const LIBRARY: Record<string, LibraryFn> = Object.fromEntries(Object.entries(FUNCTIONS).map(([name, [fn]]) => [name, fn]))

/** jsonata with limits and the function library: the interpreter. */
function interpreter(source: string, limits: Limits): jsonata.Expression {
  const expr = jsonata(source, { timeout: limits.timeoutMs, stack: limits.maxDepth })
  for (const [name, [fn, sig]] of Object.entries(FUNCTIONS)) expr.registerFunction(name, fn, sig)
  return expr
}

/**
 * The interpreter of a transform that uses the library: the transform inside a block that defines
 * what it uses first. Its errors' positions are mapped back: into the transform, or into a
 * definition (`definition`, read by evaluate.ts).
 */
export interface Interpreter {
  evaluate(input: unknown, bindings: Record<string, unknown>): Promise<unknown>
}

function interpreterWith(source: string, limits: Limits, wrapped: Wrapped | null): Interpreter {
  if (!wrapped) return interpreter(source, limits)
  const expr = interpreter(wrapped.text, limits)
  return {
    evaluate: (input, bindings) => expr.evaluate(input, bindings).catch((err) => { throw wrapped.remap(err) }),
  }
}

/** Compiles an expression, or returns every syntax error in it. `shared`: the library's definitions it may use. */
export function compileExpr(source: string, limits: Limits = DEFAULT_LIMITS, shared?: SharedDefinitions | null): Expr | ExprSyntaxError[] {
  let expr: jsonata.Expression
  try {
    expr = interpreter(source, limits)
  } catch (err) {
    return [toSyntaxError(err, source)]
  }
  remember(source, expr.ast())
  const used = shared ? shared.uses(source) : []
  const wrapped = used.length ? shared!.wrap(source, used) : null
  const program = safely(() => compileProgram(expr.ast(), LIBRARY, limits.maxDepth, false, used.length ? shared!.compiled(LIBRARY) : undefined))
  if (program instanceof Unsupported) {
    const i = wrapped ? interpreterWith(source, limits, wrapped) : expr
    return { source, compiled: program.reason, evaluate: (input, b) => i.evaluate(input, b), run: (input, b) => i.evaluate(input, b) }
  }
  if (CHECKING) return checked(source, limits, wrapped ? { shared: shared!, wrapped } : null)
  // The compiled code does not need the interpreter: it is built again on the first hand-back, so that
  // a loaded ruleset keeps no parse trees.
  let fallback: Interpreter | null = null
  const interpret = (input: unknown, bindings: Record<string, unknown>): Promise<unknown> => (fallback ??= interpreterWith(source, limits, wrapped)).evaluate(input, bindings)
  const run = (input: unknown, bindings: Record<string, unknown>): unknown => {
    let r: unknown
    try {
      r = program.run(input, bindings, limits.timeoutMs, limits.maxDepth)
    } catch (err) {
      if (isLimitError(err)) throw err
      return interpret(input, bindings)
    }
    return isPromise(r) ? r.catch((err) => (isLimitError(err) ? Promise.reject(err) : interpret(input, bindings))) : r
  }
  return { source, compiled: true, evaluate: async (input, bindings) => run(input, bindings), run }
}

/** A compiler bug must not stop rules from loading: the interpreter then runs the expression. */
function safely(f: () => Program | Unsupported): Program | Unsupported {
  try { return f() } catch (err) { return new Unsupported(`compiler error: ${(err as Error).message}`) }
}

export function isExpr(v: Expr | ExprSyntaxError[]): v is Expr {
  return !Array.isArray(v)
}

function toSyntaxError(err: unknown, source: string): ExprSyntaxError {
  const e = err as { message?: string; code?: string; position?: number }
  // JSONata positions are 1-based and point at the last character of the offending token.
  const offset = Math.max(0, Math.min(source.length, (e.position ?? 1) - 1))
  return { message: e.message ?? String(err), code: e.code ?? 'S0000', offset }
}

/** The last sources parsed (load and lint ask for the parse tree of each expression up to three times). */
const parsed = new Map<string, jsonata.ExprNode>()
function remember(source: string, ast: jsonata.ExprNode): void {
  parsed.set(source, ast)
  if (parsed.size > 64) parsed.delete(parsed.keys().next().value as string)
}

/** An expression's parse tree (throws on a syntax error). */
export function parseExpr(source: string): jsonata.ExprNode {
  let ast = parsed.get(source)
  if (!ast) remember(source, (ast = jsonata(source).ast()))
  return ast
}

/** Names of the `$functions` an expression calls, with their offsets (for lint). */
export function calledFunctions(source: string): { name: string; offset: number }[] {
  let ast: jsonata.ExprNode
  try { ast = parseExpr(source) } catch { return [] }
  const out: { name: string; offset: number }[] = []
  const walk = (n: unknown): void => {
    if (Array.isArray(n)) { n.forEach(walk); return }
    if (!n || typeof n !== 'object') return
    const node = n as jsonata.ExprNode
    if (node.type === 'function' && node.procedure?.type === 'variable' && typeof node.procedure.value === 'string') {
      // Positions point at a token's last character: step back to its `$`.
      out.push({ name: node.procedure.value, offset: Math.max(0, (node.procedure.position ?? 1) - 1 - node.procedure.value.length) })
    }
    for (const v of Object.values(node)) if (v && typeof v === 'object') walk(v)
  }
  walk(ast)
  return out
}
