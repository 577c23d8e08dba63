// Whole-body replies: a successful upstream JSON body through `response.body`, and an upstream
// error status through `response.error` (or the engine's default) into the error the client gets.
import { RouteError } from '../errors.js'
import { evaluate } from '../expr/evaluate.js'
import { isPlainObject } from '../expr/functions.js'
import type { ResponseSpec } from '../ruleset/ruleset.js'

export async function transformResponse(response: ResponseSpec, rule: string, body: unknown, bindings: Record<string, unknown>): Promise<unknown> {
  return response.body ? evaluate(response.body, body, bindings, rule) : body
}

/**
 * An upstream error status → the error the client gets (written by the error writer): `response.error`
 * maps {status, body, headers} to {message, status?, code?, type?, param?, headers?}; without it, or
 * when it gives no message, the default names the rule, the upstream and the upstream's own message
 * (5xx → 502, retry-after kept).
 */
export async function transformError(response: ResponseSpec, rule: string, upstream: string, status: number, text: string, headers: Record<string, string>, bindings: Record<string, unknown>): Promise<RouteError> {
  let body: unknown = text
  try { body = JSON.parse(text) } catch { /* not JSON: the text itself */ }
  return upstreamError(response, rule, upstream, { status, body, headers }, bindings)
}

/** transformError on the upstream's answer with its body parsed (or the text, when not JSON). */
export async function upstreamError(response: ResponseSpec, rule: string, upstream: string, answer: { status: number; body: unknown; headers: Record<string, string> }, bindings: Record<string, unknown>): Promise<RouteError> {
  const { status, body, headers } = answer
  const defaultStatus = status >= 500 ? 502 : status
  if (response.error) {
    const out = await evaluate(response.error, answer, bindings, rule)
    if (isPlainObject(out) && typeof out.message === 'string') {
      return new RouteError('RE_UPSTREAM_ERROR', out.message, {
        rule,
        upstream,
        status: typeof out.status === 'number' ? out.status : defaultStatus,
        clientCode: typeof out.code === 'string' ? out.code : undefined,
        type: typeof out.type === 'string' ? out.type : undefined,
        param: typeof out.param === 'string' ? out.param : undefined,
        headers: isPlainObject(out.headers) ? (out.headers as Record<string, string>) : {},
      })
    }
  }
  const passOn: Record<string, string> = {}
  if (headers['retry-after']) passOn['retry-after'] = headers['retry-after']
  return new RouteError('RE_UPSTREAM_ERROR', `upstream '${upstream}' returned ${status}: ${upstreamMessage(body)} (rule '${rule}')`, { rule, upstream, status: defaultStatus, headers: passOn })
}

/** The message inside the common error shapes, else the text (truncated). */
export function upstreamMessage(body: unknown): string {
  if (isPlainObject(body)) {
    const e = body.error
    if (isPlainObject(e) && typeof e.message === 'string') return e.message
    if (typeof e === 'string') return e
    if (typeof body.message === 'string') return body.message
    if (typeof body.detail === 'string') return body.detail
  }
  const s = typeof body === 'string' ? body : JSON.stringify(body)
  return s.length > 500 ? s.slice(0, 500) + '…' : s || '(empty body)'
}
