// match: → one Matcher: sets and regular expressions built here, so matching a request does no parsing.
import { isDeepStrictEqual } from 'node:util';
import { globToRegExp, isGlob } from './glob.js';
/** A dotted path getter: `a.b.0.c`. */
export function getter(path) {
    const parts = path.split('.');
    if (parts.length === 1)
        return (v) => (v !== null && typeof v === 'object' ? v[path] : undefined);
    return (v) => {
        let x = v;
        for (const p of parts) {
            if (x === null || typeof x !== 'object')
                return undefined;
            x = x[p];
        }
        return x;
    };
}
const isEmpty = (v) => v === undefined || v === null || v === '' || (Array.isArray(v) && v.length === 0) ||
    (typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 0);
const typeOf = (v) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);
/** One condition → a test on the field's value. */
export function compileCondition(c) {
    if (c === null || typeof c !== 'object')
        return (v) => v === c;
    const o = c;
    const tests = [];
    if (o.exists !== undefined)
        tests.push(o.exists ? (v) => v !== undefined : (v) => v === undefined);
    if (o.absent !== undefined)
        tests.push(o.absent ? (v) => v === undefined : (v) => v !== undefined);
    if (o.empty !== undefined)
        tests.push(o.empty ? isEmpty : (v) => !isEmpty(v));
    if ('equals' in o)
        tests.push((v) => isDeepStrictEqual(v, o.equals));
    if (Array.isArray(o.in)) {
        const vals = o.in;
        tests.push((v) => vals.some((x) => isDeepStrictEqual(v, x)));
    }
    if (typeof o.glob === 'string') {
        const re = globToRegExp(o.glob);
        tests.push((v) => typeof v === 'string' && re.test(v));
    }
    if (typeof o.type === 'string') {
        const t = o.type;
        tests.push((v) => typeOf(v) === t);
    }
    return tests.length === 1 ? tests[0] : (v) => tests.every((t) => t(v));
}
/** `{ "dotted.path": condition }` → one test on an object. */
export function compileFields(fields) {
    const tests = Object.entries(fields).map(([path, c]) => {
        const get = getter(path);
        const test = compileCondition(c);
        return (obj) => test(get(obj));
    });
    return (obj) => tests.every((t) => t(obj));
}
/**
 * A path condition → its test, and `exact`: the paths it names when it names only exact paths (the
 * dispatch table indexes those rules), else null.
 */
export function compilePaths(spec) {
    const items = Array.isArray(spec) ? spec : [spec];
    const exact = new Set();
    const tests = [];
    for (const it of items) {
        if (typeof it === 'string') {
            if (isGlob(it)) {
                const re = globToRegExp(it, '/');
                tests.push((p) => re.test(p));
            }
            else
                exact.add(it);
        }
        else if (it && typeof it === 'object' && typeof it.prefix === 'string') {
            const prefix = it.prefix;
            tests.push((p) => p.startsWith(prefix));
        }
    }
    if (tests.length === 0)
        return { test: (p) => exact.has(p), exact };
    return { test: (p) => exact.has(p) || tests.some((t) => t(p)), exact: null };
}
export function compileModel(spec) {
    if (spec && typeof spec === 'object' && !Array.isArray(spec)) {
        const re = new RegExp(spec.regex);
        return (m) => re.test(m);
    }
    const globs = (Array.isArray(spec) ? spec : [spec]).map(String);
    const re = new RegExp(globs.map((g) => globToRegExp(g).source).join('|'));
    return (m) => re.test(m);
}
export function compileMatch(m, when) {
    const body = m.body ? compileFields(m.body) : null;
    const headers = m.headers ? compileFields(m.headers) : null;
    const paths = m.path !== undefined ? compilePaths(m.path) : null;
    return {
        methods: m.method ? new Set((Array.isArray(m.method) ? m.method : [m.method]).map((x) => String(x).toUpperCase())) : null,
        paths: paths?.test ?? null,
        exactPaths: paths?.exact ?? null,
        model: m.model !== undefined ? compileModel(m.model) : null,
        fields: body || headers ? (b, h) => (!body || body(b)) && (!headers || headers(h)) : null,
        when,
    };
}
//# sourceMappingURL=compile-match.js.map