// Shadowed rules: a rule that can never match because an earlier rule's conditions hold for every
// request it would match (first match wins). Decided on the rules as written; when coverage cannot
// be proven (a `when` predicate, a regex against globs), the rule is not reported.
import { isDeepStrictEqual } from 'node:util';
import { compileCondition } from './compile-match.js';
import { globToRegExp, isGlob } from './glob.js';
import { nodeAt, placeOf } from './read.js';
export function lintShadowed(ruleset, specs, problems) {
    const ordered = ruleset.rules.map((r) => specs.get(r.name)).filter((s) => s !== undefined);
    ordered.forEach((b, j) => {
        const a = ordered.slice(0, j).find((x) => covers(x.match, b.match));
        if (!a)
            return;
        problems.error(placeOf(b.src, nodeAt(b.src.doc, [...b.path, 'match'])), 'RE_SHADOWED', `rule "${b.name}" can never match: rule "${a.name}" (${a.src.name}:${placeOf(a.src, nodeAt(a.src.doc, a.path)).line}) comes first and matches every request it would`);
    });
}
const list = (v) => (Array.isArray(v) ? v : [v]);
/** Whether every request that satisfies `b` also satisfies `a`. */
export function covers(a, b) {
    return coversMethod(a.method, b.method) && coversList(a.path, b.path, pathCovers) && coversModel(a.model, b.model) &&
        coversFields(a.body, b.body) && coversFields(a.headers, b.headers) && (a.when === undefined || a.when === b.when);
}
function coversMethod(a, b) {
    if (a === undefined)
        return true;
    if (b === undefined)
        return false;
    const as = new Set(list(a).map((m) => String(m).toUpperCase()));
    return list(b).every((m) => as.has(String(m).toUpperCase()));
}
function coversList(a, b, itemCovers) {
    if (a === undefined)
        return true;
    if (b === undefined)
        return false;
    return list(b).every((bi) => list(a).some((ai) => itemCovers(ai, bi)));
}
/** The literal text before the first wildcard. */
const stem = (s) => s.slice(0, s.search(/[*?]|$/));
const prefixOf = (p) => (p && typeof p === 'object' && typeof p.prefix === 'string' ? p.prefix : null);
function pathCovers(a, b) {
    const ap = prefixOf(a) ?? (typeof a === 'string' && /^[^*?]*\*\*$/.test(a) ? a.slice(0, -2) : null);
    const bp = prefixOf(b);
    if (ap !== null)
        return bp !== null ? bp.startsWith(ap) : typeof b === 'string' && stem(b).startsWith(ap);
    if (typeof a !== 'string' || typeof b !== 'string')
        return false;
    if (!isGlob(a))
        return a === b;
    return isGlob(b) ? a === b : globToRegExp(a, '/').test(b);
}
function coversModel(a, b) {
    if (a === undefined)
        return true;
    if (b === undefined)
        return false;
    const regex = (v) => (v && typeof v === 'object' && !Array.isArray(v) ? String(v.regex) : null);
    const ar = regex(a);
    const br = regex(b);
    if (ar !== null)
        return br === ar || (br === null && list(b).every((g) => !isGlob(String(g)) && new RegExp(ar).test(String(g))));
    if (br !== null)
        return list(a).includes('*');
    return coversList(a, b, (ag, bg) => {
        const x = String(ag);
        const y = String(bg);
        if (x === '*' || x === y)
            return true;
        if (!isGlob(y))
            return globToRegExp(x).test(y);
        return /^[^*?]*\*$/.test(x) && stem(y).startsWith(x.slice(0, -1));
    });
}
function coversFields(a, b) {
    if (a === undefined)
        return true;
    const bf = (b ?? {});
    return Object.entries(a).every(([path, ca]) => path in bf && implies(bf[path], ca));
}
/** Whether condition `b` holding on a value means condition `a` holds too. */
function implies(b, a) {
    if (isDeepStrictEqual(a, b))
        return true;
    const test = compileCondition(a);
    if (b === null || typeof b !== 'object')
        return test(b);
    const o = b;
    if ('equals' in o)
        return test(o.equals);
    if (Array.isArray(o.in))
        return o.in.every(test);
    const ao = (a ?? {});
    // A value with a type, a glob or non-emptiness exists.
    return Object.keys(ao).length === 1 && ao.exists === true && (o.type !== undefined || o.glob !== undefined || o.empty === false || o.exists === true);
}
//# sourceMappingURL=lint-shadow.js.map