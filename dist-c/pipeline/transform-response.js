// Whole-body replies: a successful upstream JSON body through `response.body`, and an upstream
// error through `response.error` (or the engine's default: an OpenAI-shaped error naming the rule,
// the upstream and the upstream's own message).
import { RouteError } from '../errors.js';
import { evaluate } from '../expr/evaluate.js';
import { isPlainObject } from '../expr/functions.js';
export async function transformResponse(response, rule, body, bindings) {
    return response.body ? evaluate(response.body, body, bindings, rule) : body;
}
export async function transformError(response, rule, upstream, status, text, headers, bindings) {
    let body = text;
    try {
        body = JSON.parse(text);
    }
    catch { /* not JSON: the text itself */ }
    if (response.error) {
        const out = await evaluate(response.error, { status, body, headers }, bindings, rule);
        if (isPlainObject(out) && typeof out.status === 'number') {
            return { status: out.status, body: out.body, headers: isPlainObject(out.headers) ? out.headers : {} };
        }
    }
    const passOn = {};
    if (headers['retry-after'])
        passOn['retry-after'] = headers['retry-after'];
    const err = new RouteError('RE_UPSTREAM_ERROR', `upstream '${upstream}' returned ${status}: ${upstreamMessage(body)} (rule '${rule}')`, {
        rule,
        upstream,
        status: status >= 500 ? 502 : status,
        type: status === 429 ? 'rate_limit_error' : status >= 500 ? 'upstream_error' : 'invalid_request_error',
    });
    return { status: err.status, body: err.toBody(), headers: passOn };
}
/** The message inside the common error shapes, else the text (truncated). */
export function upstreamMessage(body) {
    if (isPlainObject(body)) {
        const e = body.error;
        if (isPlainObject(e) && typeof e.message === 'string')
            return e.message;
        if (typeof e === 'string')
            return e;
        if (typeof body.message === 'string')
            return body.message;
        if (typeof body.detail === 'string')
            return body.detail;
    }
    const s = typeof body === 'string' ? body : JSON.stringify(body);
    return s.length > 500 ? s.slice(0, 500) + '…' : s || '(empty body)';
}
//# sourceMappingURL=transform-response.js.map