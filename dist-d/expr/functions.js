// The function library every transform can call, registered once per compiled expression.
// Each is generic (no provider knowledge) and linear-time where JSONata alone would be quadratic.
import { createHash } from 'node:crypto';
import { parsePartialJson } from './partial-json.js';
import { randomId } from '../random-id.js';
import { globToRegExp } from '../ruleset/glob.js';
const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
function keyOf(item, parts) {
    let v = item;
    for (const part of parts)
        v = v == null ? undefined : v[part];
    return v;
}
function keysFor(items, keys) {
    if (typeof keys === 'string') {
        const parts = keys.split('.');
        return items.map((it) => keyOf(it, parts));
    }
    if (Array.isArray(keys))
        return keys;
    throw new TypeError('expected a field name or an array of keys');
}
/** The first character of a JSON text, after any whitespace. */
const JSON_START = /^[ \t\n\r]*[{["\-0-9tfn]/;
const asArray = (v) => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
function deepMerge(a, b) {
    if (b === undefined)
        return a;
    if (!isPlainObject(a) || !isPlainObject(b))
        return b;
    const out = { ...a };
    for (const [k, v] of Object.entries(b))
        out[k] = deepMerge(out[k], v);
    return out;
}
export function isPlainObject(v) {
    return typeof v === 'object' && v !== null && !Array.isArray(v);
}
export { deepMerge };
/** name → [implementation, JSONata signature or undefined]. */
export const FUNCTIONS = {
    /** JSON text → value; `fallback` (default: undefined) when the text is not valid JSON. */
    parseJson: [(s, fallback) => {
            // Text that cannot start a JSON value (a tool's output, a raw patch) is answered without JSON.parse:
            // a thrown SyntaxError, with its stack, costs more than parsing a page of JSON.
            if (typeof s !== 'string' || !JSON_START.test(s))
                return fallback;
            try {
                return JSON.parse(s);
            }
            catch {
                return fallback;
            }
        }, undefined],
    /** The value of an incomplete JSON text (streamed arguments): strings cut at their last whole character. */
    partialJson: [(s) => (typeof s === 'string' ? safe(() => parsePartialJson(s)) : undefined), undefined],
    /** JSON.stringify: unlike $string, quotes strings. */
    toJson: [(v) => (v === undefined ? undefined : JSON.stringify(v)), undefined],
    /** Splits an array into runs of consecutive items whose key (a field path, or a parallel array of keys) is equal. */
    groupRuns: [(items, keys) => {
            const arr = asArray(items);
            const ks = keysFor(arr, keys);
            const runs = [];
            let prev = Symbol('none');
            arr.forEach((it, i) => {
                const k = ks[i];
                if (runs.length > 0 && k === prev)
                    runs[runs.length - 1].push(it);
                else
                    runs.push([it]);
                prev = k;
            });
            return runs;
        }, undefined],
    /** An object from key (a field path, or a parallel array of keys) to item; later items win. */
    indexBy: [(items, keys) => {
            const arr = asArray(items);
            const ks = keysFor(arr, keys);
            const out = {};
            arr.forEach((it, i) => { const k = ks[i]; if (k !== undefined && k !== null)
                out[String(k)] = it; });
            return out;
        }, undefined],
    /** A copy of an object without the given keys. */
    omit: [(obj, keys) => {
            if (!isPlainObject(obj))
                return obj;
            const drop = new Set(asArray(keys).map(String));
            const out = {};
            for (const [k, v] of Object.entries(obj))
                if (!drop.has(k))
                    out[k] = v;
            return out;
        }, undefined],
    /** A copy of an object with only the given keys. */
    pick: [(obj, keys) => {
            if (!isPlainObject(obj))
                return undefined;
            const out = {};
            for (const k of asArray(keys).map(String))
                if (obj[k] !== undefined)
                    out[k] = obj[k];
            return out;
        }, undefined],
    /** A copy of an object without its null values; undefined when nothing is left. */
    compact: [(obj) => {
            if (!isPlainObject(obj))
                return obj;
            const out = {};
            for (const [k, v] of Object.entries(obj))
                if (v !== null && v !== undefined)
                    out[k] = v;
            return Object.keys(out).length ? out : undefined;
        }, undefined],
    /** Deep merge of objects, later wins; arrays and scalars are replaced. */
    deepMerge: [(...objs) => objs.reduce((a, b) => deepMerge(a, b), undefined), undefined],
    /** Always an array: undefined → [], a value → [value]. */
    array: [(v) => asArray(v), undefined],
    /** A random id such as `call_Xy3…`. */
    id: [(prefix, length) => randomId(ID_ALPHABET, length ?? 24, prefix ?? ''), undefined],
    /** A short stable hash (sha256, hex) of a string. */
    hash: [(s, length) => createHash('sha256').update(String(s)).digest('hex').slice(0, length ?? 16), undefined],
    /** Rough token count of a text or value (4 characters a token). */
    estimateTokens: [(v) => {
            if (v === undefined || v === null)
                return 0;
            const s = typeof v === 'string' ? v : JSON.stringify(v);
            return Math.ceil(s.length / 4);
        }, undefined],
    /** Glob match (`*` any run of characters, `?` one). */
    globMatch: [(s, pattern) => typeof s === 'string' && globToRegExp(pattern).test(s), undefined],
    /** Seconds since the epoch. */
    unixTime: [() => Math.floor(Date.now() / 1000), undefined],
    /** An environment variable, or the fallback. */
    env: [(name, fallback) => process.env[name] ?? fallback, undefined],
};
function safe(f) {
    try {
        return f();
    }
    catch {
        return undefined;
    }
}
export const FUNCTION_NAMES = new Set([...Object.keys(FUNCTIONS), 'recall', 'remember']);
//# sourceMappingURL=functions.js.map