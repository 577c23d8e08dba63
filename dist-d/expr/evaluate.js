// Evaluates a placed expression; a failure becomes a RouteError that names the rule and the
// file:line:col of the failing token.
import { RouteError } from '../errors.js';
import { isPromise } from './runtime.js';
export async function evaluate(p, input, bindings, rule) {
    return evaluateNow(p, input, bindings, rule);
}
/** The value now when the expression needs no await (most do not), else a Promise of it. */
export function evaluateNow(p, input, bindings, rule) {
    let r;
    try {
        r = p.expr.run(input, bindings);
    }
    catch (err) {
        throw transformError(err, p, rule);
    }
    return isPromise(r) ? r.catch((err) => { throw transformError(err, p, rule); }) : r;
}
export function transformError(err, p, rule) {
    if (err instanceof RouteError)
        return err;
    const e = err;
    const at = placeWithin(p, (e.position ?? 1) - 1);
    const where = `${at.file}:${at.line}:${at.col}`;
    const timeout = e.code === 'D1012';
    const what = timeout ? 'took longer than its time limit' : e.code === 'D1011' ? 'exceeded its recursion limit' : `failed: ${e.message ?? String(err)}`;
    return new RouteError(timeout ? 'RE_TRANSFORM_TIMEOUT' : 'RE_TRANSFORM_FAILED', `transform in rule '${rule}' at ${where} ${what}`, { rule, at, cause: err });
}
/** The place of a 0-based offset inside the expression's source. */
export function placeWithin(p, offset) {
    const before = p.expr.source.slice(0, Math.max(0, offset)).split('\n');
    const line = p.at.line + before.length - 1;
    const col = before.length === 1 ? p.at.col + before[0].length : before.at(-1).length + 1;
    return { file: p.at.file, line, col };
}
//# sourceMappingURL=evaluate.js.map