// Partial matching of an example's expectations against what a run produced. An object expects
// only the keys it names; an array expects the same length, item by item; a scalar expects itself.
// An object with one `$` key is an operator:
//   $absent: true          the key is missing (false: present)
//   $match: "regex"        a string the regular expression finds
//   $contains: [a, b]      an array holding items that match a, b, in this order (others between)
//   $exact: value          deep-equal, nothing partial
//   $type: string          the JSON type (string, number, boolean, array, object, null)
import { isDeepStrictEqual } from 'node:util';
import { isPlainObject } from '../expr/functions.js';
export const ABSENT = Symbol('absent');
const OPERATORS = new Set(['$absent', '$match', '$contains', '$exact', '$type']);
export function isOperator(v) {
    if (!isPlainObject(v))
        return false;
    const keys = Object.keys(v);
    return keys.length === 1 && OPERATORS.has(keys[0]);
}
const typeOf = (v) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);
export function compare(expected, actual, path = [], out = []) {
    if (isOperator(expected))
        return operator(expected, actual, path, out);
    if (isPlainObject(expected)) {
        if (!isPlainObject(actual)) {
            out.push({ path, expected, actual });
            return out;
        }
        for (const [k, v] of Object.entries(expected))
            compare(v, k in actual ? actual[k] : ABSENT, [...path, k], out);
        return out;
    }
    if (Array.isArray(expected)) {
        if (!Array.isArray(actual) || actual.length !== expected.length) {
            out.push({ path, expected, actual, note: Array.isArray(actual) ? `${expected.length} items expected, ${actual.length} found` : undefined });
            return out;
        }
        expected.forEach((e, i) => compare(e, actual[i], [...path, i], out));
        return out;
    }
    if (!isDeepStrictEqual(expected, actual))
        out.push({ path, expected, actual });
    return out;
}
function operator(op, actual, path, out) {
    const [name, arg] = Object.entries(op)[0];
    const fail = (note) => { out.push({ path, expected: op, actual, note }); return out; };
    switch (name) {
        case '$absent':
            return (actual === ABSENT) === (arg !== false) ? out : fail(arg === false ? 'should be present' : 'should be absent');
        case '$match':
            return typeof actual === 'string' && new RegExp(String(arg)).test(actual) ? out : fail(`should be a string matching /${String(arg)}/`);
        case '$exact':
            return isDeepStrictEqual(arg, actual) ? out : fail('should be exactly this value');
        case '$type':
            return actual !== ABSENT && typeOf(actual) === arg ? out : fail(`should be of type ${String(arg)}`);
        case '$contains': {
            if (!Array.isArray(actual))
                return fail('should be an array');
            let from = 0;
            for (const [i, want] of arg.entries()) {
                const at = actual.findIndex((a, j) => j >= from && compare(want, a).length === 0);
                if (at === -1) {
                    out.push({ path, expected: want, actual: closest(want, actual.slice(from)), note: `$contains[${i}]: no item like this${from ? ` after [${from - 1}]` : ''}; the closest is shown` });
                    return out;
                }
                from = at + 1;
            }
            return out;
        }
    }
    return out;
}
/** The item with the fewest mismatches, to show next to what was expected. */
function closest(want, items) {
    let best = ABSENT;
    let score = Infinity;
    for (const it of items) {
        const n = compare(want, it).length;
        if (n < score) {
            score = n;
            best = it;
        }
    }
    return best;
}
export const formatPath = (path) => path.map((k, i) => (typeof k === 'number' ? `[${k}]` : /^[A-Za-z_][\w]*$/.test(k) ? (i ? `.${k}` : k) : `[${JSON.stringify(k)}]`)).join('');
/** The value at a path, or ABSENT. */
export function valueAt(v, path) {
    let x = v;
    for (const k of path) {
        if (x === null || typeof x !== 'object' || !(k in x))
            return ABSENT;
        x = x[k];
    }
    return x;
}
//# sourceMappingURL=partial.js.map