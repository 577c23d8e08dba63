// Why a rule did not match a request: its first condition that fails, in the order match.ts tests
// them (method, path, model, body and header fields, when). Uses the compiled matcher for the
// verdict and the rule's source only to say which field of a `body:`/`headers:` map failed.
import { evaluate } from '../expr/evaluate.js';
import { compileCondition, getter } from '../ruleset/compile-match.js';
import { truthy } from '../pipeline/transform-stream.js';
const show = (v) => (v === undefined ? '(absent)' : JSON.stringify(v));
/** The first condition of `rule` that does not hold, or null when they all hold. */
export async function firstFailed(rule, spec, s) {
    const m = rule.match;
    const src = spec?.match ?? {};
    if (m.methods && !m.methods.has(s.method))
        return { condition: 'method', detail: `${s.method} is not ${[...m.methods].join(' or ')}` };
    if (m.paths && !m.paths(s.path))
        return { condition: 'path', detail: `${s.path} is not ${show(src.path)}` };
    if (m.model) {
        if (s.model === undefined)
            return { condition: 'model', detail: `the body has no model (wanted ${show(src.model)})` };
        if (!m.model(s.model))
            return { condition: 'model', detail: `${show(s.model)} does not match ${show(src.model)}` };
    }
    if (m.fields && !m.fields(s.request, s.headers)) {
        for (const [kind, value] of [['body', s.request], ['headers', s.headers]]) {
            for (const [path, cond] of Object.entries((src[kind] ?? {}))) {
                const v = getter(path)(value);
                if (!compileCondition(cond)(v))
                    return { condition: kind, detail: `${path}: ${show(cond)} does not hold for ${show(v)}` };
            }
        }
        return { condition: 'body', detail: 'the body and header conditions do not hold' };
    }
    if (m.when) {
        let v;
        try {
            v = await evaluate(m.when, s.request, {}, rule.name);
        }
        catch (err) {
            return { condition: 'when', detail: `failed: ${err.message}` };
        }
        if (!truthy(v))
            return { condition: 'when', detail: `${oneLine(m.when.expr.source)} is ${show(v)}` };
    }
    return null;
}
const oneLine = (s) => {
    const t = s.replace(/\s+/g, ' ').trim();
    return t.length > 80 ? t.slice(0, 79) + '…' : t;
};
//# sourceMappingURL=explain-match.js.map