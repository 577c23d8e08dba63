// Picks the first rule whose conditions all hold, after resolving a model alias.
import { RouteError } from '../errors.js';
import { evaluate } from '../expr/evaluate.js';
import { deepMerge, isPlainObject } from '../expr/functions.js';
import { truthy } from './transform-stream.js';
/** The body with the client's model alias applied, and the model rules match on. */
export function resolveAlias(ruleset, body) {
    const clientModel = isPlainObject(body) && typeof body.model === 'string' ? body.model : undefined;
    const alias = clientModel === undefined ? undefined : ruleset.aliases.get(clientModel);
    if (!alias)
        return { request: body, clientModel, model: clientModel };
    return { request: { ...deepMerge(body, alias.set ?? {}), model: alias.model }, clientModel, model: alias.model };
}
export async function match(ruleset, input) {
    const { request, clientModel, model } = resolveAlias(ruleset, input.body);
    for (const rule of ruleset.dispatch.byPath.get(input.path) ?? ruleset.dispatch.open) {
        const m = rule.match;
        if (m.methods && !m.methods.has(input.method))
            continue;
        if (m.paths && !m.paths(input.path))
            continue;
        if (m.model && (model === undefined || !m.model(model)))
            continue;
        if (m.fields && !m.fields(request, input.headers))
            continue;
        if (m.when && !truthy(await evaluate(m.when, request, {}, rule.name)))
            continue;
        return { rule, request, clientModel };
    }
    throw new RouteError('RE_NO_RULE', `no rule matches ${input.method} ${input.path}${model !== undefined ? ` with model '${clientModel}'` : ''}`);
}
//# sourceMappingURL=match.js.map