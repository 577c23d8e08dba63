// JSONata with limits and the function library. Compiled once at load; evaluated per request
// with per-call bindings ($request, $ctx, $vars, $state, …).
import jsonata from 'jsonata'
import { FUNCTIONS } from './functions.js'

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
  evaluate(input: unknown, bindings: Record<string, unknown>): Promise<unknown>
}

/** Compiles an expression, or returns every syntax error in it. */
export function compileExpr(source: string, limits: Limits = DEFAULT_LIMITS): Expr | ExprSyntaxError[] {
  let expr: jsonata.Expression
  try {
    expr = jsonata(source, { timeout: limits.timeoutMs, stack: limits.maxDepth })
  } catch (err) {
    return [toSyntaxError(err, source)]
  }
  for (const [name, [fn, sig]] of Object.entries(FUNCTIONS)) expr.registerFunction(name, fn, sig)
  return {
    source,
    evaluate: (input, bindings) => expr.evaluate(input, bindings),
  }
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

/** Names of the `$functions` an expression calls, with their offsets (for lint). */
export function calledFunctions(source: string): { name: string; offset: number }[] {
  let ast: jsonata.ExprNode
  try { ast = jsonata(source).ast() } catch { return [] }
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
