// Runs a rule's request pipeline: each step's output feeds the next; the last is the upstream body.
import { RouteError } from '../errors.js';
import { evaluate } from '../expr/evaluate.js';
import { schemaProblem } from '../ruleset/compile-schema.js';
import { failure, truthy } from './transform-stream.js';
/** `onStep` (explain, test) sees every step: a pipeline step after its own steps. */
export async function transformRequest(steps, input, bindings, rule, onStep) {
    let body = input;
    for (const step of steps) {
        if (step.when && !(await holds(step.when, body, bindings, rule))) {
            onStep?.(step, false, body);
            continue;
        }
        if (step.kind === 'pipeline')
            body = await transformRequest(step.steps, body, bindings, rule, onStep);
        else if (step.kind === 'transform')
            body = await evaluate(step.expr, body, bindings, rule);
        else if (step.kind === 'validate') {
            if (!step.schema(body)) {
                const p = schemaProblem(step.schema);
                throw new RouteError('RE_BAD_REQUEST', `bad input: ${p.path} ${p.message} (rule '${rule}', ${step.at.file}:${step.at.line})`, { rule, param: p.path.slice(1).replace(/\//g, '.') || null });
            }
        }
        else {
            const f = await evaluate(step.expr, body, bindings, rule);
            if (truthy(f))
                throw failure(f, rule, 'RE_RULE_FAILED');
        }
        onStep?.(step, true, body);
    }
    return body;
}
async function holds(c, body, bindings, rule) {
    return c.kind === 'fields' ? c.test(body) : truthy(await evaluate(c.expr, body, bindings, rule));
}
//# sourceMappingURL=transform-request.js.map