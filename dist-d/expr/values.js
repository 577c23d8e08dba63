// JSONata's value semantics, as jsonata 2.2 implements them, for the compiled expressions: sequences
// (arrays flagged `sequence`, unwrapped to their item when they hold one), truthiness, equality,
// string conversion, lookup and append. Flags and edge cases follow jsonata.js line for line,
// because a flag that leaks into a result changes how the next transform reads it.
export function seq(...item) {
    const s = item;
    s.sequence = true;
    return s;
}
export function isSequence(v) {
    return Array.isArray(v) && v.sequence === true;
}
/** What evaluate() does to every node's result: a sequence of 0 items is nothing, of 1 item that item. */
export function unwrap(r, keepArray = false) {
    if (Array.isArray(r) && r.sequence === true && !r.tupleStream) {
        if (keepArray)
            r.keepSingleton = true;
        if (r.length === 0)
            return undefined;
        if (r.length === 1)
            return r.keepSingleton ? r : r[0];
    }
    return r;
}
export class NumberOutOfRange {
    value;
    constructor(value) {
        this.value = value;
    }
}
/** utils.isNumeric: a number that is not NaN; Infinity is an error (D1001). */
export function isNumeric(n) {
    if (typeof n !== 'number')
        return false;
    if (Number.isNaN(n))
        return false;
    if (!Number.isFinite(n))
        throw new NumberOutOfRange(n);
    return true;
}
export function isFunction(v) {
    return typeof v === 'function';
}
/** fn.boolean: the effective boolean value; undefined stays undefined. */
export function toBoolean(v) {
    if (v === undefined)
        return undefined;
    if (Array.isArray(v)) {
        if (v.length === 1)
            return toBoolean(v[0]);
        // every item is cast, as the interpreter's filter does (a later Infinity still throws)
        let any = false;
        for (const x of v)
            if (toBoolean(x))
                any = true;
        return any;
    }
    switch (typeof v) {
        case 'string': return v.length > 0;
        case 'number': return isNumeric(v) && v !== 0;
        case 'boolean': return v;
        case 'object': return v !== null && Object.keys(v).length > 0;
        default: return false;
    }
}
/** utils.isDeepEqual. */
export function deepEqual(a, b) {
    if (a === b)
        return true;
    if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null)
        return false;
    if (Array.isArray(a) && Array.isArray(b)) {
        if (a.length !== b.length)
            return false;
        for (let i = 0; i < a.length; i++)
            if (!deepEqual(a[i], b[i]))
                return false;
        return true;
    }
    const ak = Object.getOwnPropertyNames(a).sort();
    const bk = Object.getOwnPropertyNames(b).sort();
    if (ak.length !== bk.length)
        return false;
    for (let i = 0; i < ak.length; i++)
        if (ak[i] !== bk[i])
            return false;
    for (const k of ak)
        if (!deepEqual(a[k], b[k]))
            return false;
    return true;
}
export class StringOfNonFinite {
    value;
    constructor(value) {
        this.value = value;
    }
}
const numberReplacer = (_key, val) => {
    if (val !== undefined && val !== null && isNumeric(val))
        return Number.isInteger(val) ? val : Number(val.toPrecision(15));
    return typeof val === 'function' ? '' : val;
};
/** fn.string (not prettified). */
export function stringOf(v) {
    if (v === undefined)
        return undefined;
    if (typeof v === 'string')
        return v;
    if (typeof v === 'function')
        return '';
    if (typeof v === 'number') {
        if (!Number.isFinite(v))
            throw new StringOfNonFinite(v);
        return JSON.stringify(Number.isInteger(v) ? v : Number(v.toPrecision(15)));
    }
    if (typeof v === 'boolean' || v === null)
        return String(v);
    const arg = Array.isArray(v) && v.outerWrapper ? v[0] : v;
    return JSON.stringify(arg, numberReplacer);
}
/** fn.type. */
export function typeOf(v) {
    if (v === undefined)
        return undefined;
    if (v === null)
        return 'null';
    if (isNumeric(v))
        return 'number';
    if (typeof v === 'string')
        return 'string';
    if (typeof v === 'boolean')
        return 'boolean';
    if (Array.isArray(v))
        return 'array';
    if (typeof v === 'function')
        return 'function';
    return 'object';
}
const has = Object.prototype.hasOwnProperty;
/** fn.lookup: a field of an object, or of every item of an array (flattened one level). */
export function lookup(input, key) {
    if (Array.isArray(input)) {
        const out = seq();
        for (const item of input) {
            const r = lookup(item, key);
            if (r !== undefined) {
                if (Array.isArray(r))
                    for (const x of r)
                        out.push(x);
                else
                    out.push(r);
            }
        }
        return out;
    }
    if (input !== null && typeof input === 'object' && has.call(input, key))
        return input[key];
    return undefined;
}
/** fn.append. */
export function append(a, b) {
    if (a === undefined)
        return b;
    if (b === undefined)
        return a;
    const left = Array.isArray(a) ? a : seq(a);
    return left.concat(Array.isArray(b) ? b : [b]);
}
/** The symbol a function signature uses for a value's type ('m' = missing). */
export function symbolOf(v) {
    switch (typeof v) {
        case 'string': return 's';
        case 'number': return 'n';
        case 'boolean': return 'b';
        case 'function': return 'f';
        case 'object': return v === null ? 'l' : Array.isArray(v) ? 'a' : 'o';
        default: return 'm';
    }
}
/** utils.stringToArray(...).length: the number of code points. */
export function codePointLength(s) {
    if (!HAS_SURROGATE.test(s))
        return s.length;
    let n = 0;
    for (const _ of s)
        n++;
    return n;
}
export const HAS_SURROGATE = /[\uD800-\uDFFF]/;
//# sourceMappingURL=values.js.map