// An error in its client's dialect. The engine's error ({status, kind, code, message, …}) goes
// through an error writer of the rules — the rule's own `errors:`, else the ruleset's writer for the
// request path — which returns {status?, body, headers?}. Without one, the neutral
// {"error": {"message", "code"}}. After the first byte of a stream, `stream` is true and the body is
// the frame (or frames) that tell the client.
import { RouteError } from '../errors.js'
import { evaluateNow } from '../expr/evaluate.js'
import { isPlainObject } from '../expr/functions.js'
import { isPromise } from '../expr/runtime.js'
import type { PlacedExpr, Rule, Ruleset } from '../ruleset/ruleset.js'

export interface ErrorReply {
  status: number
  /** undefined: no body (no frame, in a stream). */
  body: unknown
  headers: Record<string, string>
}

/** How one request's errors are written: the writer (null: the neutral body) and what it is evaluated with. */
export interface ErrorOut {
  writer: PlacedExpr | null
  bindings: Record<string, unknown>
}

/** The rule's writer, else the first of the ruleset's whose paths hold the request path (path null: unknown). */
export function writerFor(ruleset: Ruleset, path: string | null, rule?: Rule | null): PlacedExpr | null {
  if (rule?.errors) return rule.errors
  for (const w of ruleset.errorWriters) if (!w.paths || (path !== null && w.paths(path))) return w.write
  return null
}

/** For errors the server answers before the pipeline (no key, draining): the path's writer, with $ctx's path and method. */
export function serverErrors(ruleset: Ruleset, req: { url?: string; method?: string }): ErrorOut {
  const path = (req.url ?? '/').split('?')[0]!
  return { writer: writerFor(ruleset, path), bindings: { ctx: { path, method: req.method }, vars: ruleset.vars, models: ruleset.models } }
}

/** The writer's `$` (and a stream program's `$error`): the engine's own terms, no client's. */
export function errorInput(err: RouteError, stream: boolean): Record<string, unknown> {
  return {
    status: err.status,
    kind: err.kind,
    code: err.clientCode ?? err.code,
    message: err.message,
    type: err.type,
    param: err.param,
    rule: err.rule,
    upstream: err.upstream,
    headers: err.headers ?? {},
    stream,
  }
}

export function neutralBody(err: RouteError): { error: { message: string; code: string } } {
  return { error: { message: err.message, code: err.clientCode ?? err.code } }
}

/** The reply for an error: synchronous unless the writer awaited something. A writer that fails still answers, neutrally. */
export function writeError(out: ErrorOut, err: RouteError, stream: boolean): ErrorReply | Promise<ErrorReply> {
  const headers = err.headers ?? {}
  if (!out.writer) return { status: err.status, body: neutralBody(err), headers }
  const failed = (why: string): ErrorReply => {
    const e = new RouteError(err.code, `${err.message} (and the error writer ${why})`, { status: err.status, clientCode: err.clientCode })
    return { status: err.status, body: neutralBody(e), headers }
  }
  const shape = (r: unknown): ErrorReply => {
    if (!isPlainObject(r)) return failed(`returned ${r === undefined ? 'nothing' : JSON.stringify(r)}, not {status?, body, headers?}`)
    const status = typeof r.status === 'number' && r.status >= 100 && r.status <= 599 ? Math.floor(r.status) : err.status
    return { status, body: r.body, headers: isPlainObject(r.headers) ? { ...headers, ...stringValues(r.headers) } : headers }
  }
  try {
    const r = evaluateNow(out.writer, errorInput(err, stream), out.bindings, err.rule ?? '(none)')
    return isPromise(r) ? r.then(shape, (e: Error) => failed(`failed: ${e.message}`)) : shape(r)
  } catch (e) {
    return failed(`failed: ${(e as Error).message}`)
  }
}

function stringValues(o: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(o)) if (v !== undefined && v !== null) out[k.toLowerCase()] = String(v)
  return out
}
