// Each rule as written, for the tools that reason about a rule's source rather than run it (explain's
// failed conditions, shadowing, declared drops and output schemas): the YAML object with ${VAR}
// expanded, and where it is.
import { expandEnvDeep } from './env.js';
import { isRuleFile } from './read.js';
/** Rule name → spec; the first definition wins, as in the compiler. */
export function ruleSpecs(sources) {
    const out = new Map();
    for (const src of sources.yaml) {
        if (!isRuleFile(src))
            continue;
        const rules = src.data.rules;
        if (!Array.isArray(rules))
            continue;
        rules.forEach((r, i) => {
            if (!r || typeof r.name !== 'string' || out.has(r.name))
                return;
            const match = expandEnvDeep(r.match ?? {}, () => { });
            out.set(r.name, { name: r.name, src, path: ['rules', i], raw: r, match });
        });
    }
    return out;
}
//# sourceMappingURL=rule-specs.js.map