// Evaluates a placed expression; a failure becomes a RouteError that names the rule and the
// file:line:col of the failing token.
import { RouteError, type Place } from '../errors.js'
import type { PlacedExpr } from '../ruleset/ruleset.js'
import { isPromise } from './runtime.js'

export async function evaluate(p: PlacedExpr, input: unknown, bindings: Record<string, unknown>, rule: string): Promise<unknown> {
  return evaluateNow(p, input, bindings, rule)
}

/** The value now when the expression needs no await (most do not), else a Promise of it. */
export function evaluateNow(p: PlacedExpr, input: unknown, bindings: Record<string, unknown>, rule: string): unknown {
  let r: unknown
  try {
    r = p.expr.run(input, bindings)
  } catch (err) {
    throw transformError(err, p, rule)
  }
  return isPromise(r) ? r.catch((err) => { throw transformError(err, p, rule) }) : r
}

export function transformError(err: unknown, p: PlacedExpr, rule: string): RouteError {
  if (err instanceof RouteError) return err
  const e = err as { message?: string; code?: string; position?: number; definition?: { name: string; offset: number } }
  // a failure inside a library definition is placed there, and names the transform that called it
  const inDefinition = e.definition && p.library?.placeOf(e.definition.name, e.definition.offset)
  const at = inDefinition || placeWithin(p, (e.position ?? 1) - 1)
  const where = `${at.file}:${at.line}:${at.col}${inDefinition ? ` ($${e.definition!.name}, called from ${p.at.file}:${p.at.line}:${p.at.col})` : ''}`
  const timeout = e.code === 'D1012'
  const what = timeout ? 'took longer than its time limit' : e.code === 'D1011' ? 'exceeded its recursion limit' : `failed: ${e.message ?? String(err)}`
  return new RouteError(timeout ? 'RE_TRANSFORM_TIMEOUT' : 'RE_TRANSFORM_FAILED', `transform in rule '${rule}' at ${where} ${what}`, { rule, at, cause: err })
}

/** The place of a 0-based offset inside the expression's source. */
export function placeWithin(p: PlacedExpr, offset: number): Place {
  return placeInText(p.expr.source, p.at, offset)
}

/** The place of a 0-based offset inside `text`, which starts at `at`. */
export function placeInText(text: string, at: Place, offset: number): Place {
  const before = text.slice(0, Math.max(0, offset)).split('\n')
  const line = at.line + before.length - 1
  const col = before.length === 1 ? at.col + before[0]!.length : before.at(-1)!.length + 1
  return { file: at.file, line, col }
}
