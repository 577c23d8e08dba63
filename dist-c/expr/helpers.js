// The runtime functions generated code calls (generate.ts): jsonata 2.2's evaluator steps that are
// too long to inline — flattening a step's results, keeping the items a predicate selects, appending
// tuples, grouping — and the operators' type checks. Each mirrors the interpreter's function of the
// same job; generate.ts inlines only the common cases around them.
import { setKey } from './builtins.js';
import { fallback, isPromise } from './runtime.js';
import { append, deepEqual, isNumeric, isSequence, lookup, seq, stringOf, toBoolean, unwrap } from './values.js';
const has = Object.prototype.hasOwnProperty;
export const H = {
    isPromise,
    unwrap,
    toBoolean,
    lookup,
    setKey,
    stringOf,
    deepEqual,
    seq1: (v) => seq(v),
    seq0: () => seq(),
    isArray: Array.isArray,
    has: (o, k) => has.call(o, k),
    /** A name step on one item: fn.lookup, then evaluate()'s unwrapping. */
    field(o, k) {
        if (o === null || typeof o !== 'object')
            return undefined;
        if (Array.isArray(o))
            return unwrap(lookup(o, k));
        return has.call(o, k) ? unwrap(o[k]) : undefined;
    },
    /** evaluateStep's result: a lone plain array at the last step stays; otherwise items flattened one level. */
    flatten(out, lastStep) {
        if (lastStep && out.length === 1 && Array.isArray(out[0]) && !isSequence(out[0]))
            return out[0];
        const r = seq();
        for (const res of out) {
            if (!Array.isArray(res) || res.cons)
                r.push(res);
            else
                for (const v of res)
                    r.push(v);
        }
        return r;
    },
    /**
     * A path of plain name steps after a first value `t` (already unwrapped): own-property reads while
     * the values are objects; an array is flattened as its step's result and the general loop goes on.
     * The path's result, before its own unwrapping.
     */
    walk(t, names, from, rt) {
        for (let k = from; k < names.length; k++) {
            if (t === undefined)
                return undefined;
            if (Array.isArray(t))
                return H.namesAfter(names, k, t, rt);
            t = H.field(t, names[k]);
        }
        return Array.isArray(t) ? H.flatten([t], true) : t;
    },
    /** A path of name steps from the context (an array context is a sequence of items from the first step). */
    walkFrom(ctx, names, rt) {
        if (Array.isArray(ctx))
            return H.names(names, 0, ctx, rt);
        return H.walk(H.field(ctx, names[0]), names, 1, rt);
    },
    /**
     * The rest of a path of plain name steps, from step `from` on a sequence of items (evaluatePath's
     * loop, with evaluateStep's flattening done as the results come).
     */
    names(names, from, input, rt) {
        let result = input;
        for (let i = from; i < names.length; i++) {
            const name = names[i];
            const last = i === names.length - 1;
            const r = seq();
            let count = 0;
            let only;
            for (const item of input) {
                rt.tick();
                const v = unwrap(lookup(item, name));
                if (v === undefined)
                    continue;
                if (++count === 1)
                    only = v;
                if (!Array.isArray(v) || v.cons)
                    r.push(v);
                else
                    for (const x of v)
                        r.push(x);
            }
            // a lone plain array at the last step is the result as it is
            result = last && count === 1 && Array.isArray(only) && !isSequence(only) ? only : r;
            if (result.length === 0)
                break;
            input = result;
        }
        return result;
    },
    /** A value met mid-path by the object walk: flattened as the result of the step before `from`, then the remaining steps. */
    namesAfter(names, from, v, rt) {
        const next = H.flatten([v], false);
        return next.length === 0 ? next : H.names(names, from, next, rt);
    },
    /** A filter's result sequence (marked as a tuple stream when its input is one). */
    filterStart(input) {
        const r = seq();
        if (input && input.tupleStream)
            r.tupleStream = true;
        return r;
    },
    items: (input) => (Array.isArray(input) ? input : seq(input)),
    /** evaluateFilter for a number literal: that item (from the end when negative). */
    index(input, n) {
        let results = H.filterStart(input);
        const items = Array.isArray(input) ? input : seq(input);
        const item = items[n < 0 ? items.length + n : n];
        if (item !== undefined) {
            if (Array.isArray(item))
                results = item;
            else
                results.push(item);
        }
        return results;
    },
    /** evaluateFilter's test for one item: numbers select by position, anything else by truthiness. */
    keep(results, items, index, item, r) {
        if (isNumeric(r))
            r = [r];
        if (Array.isArray(r) && r.every((x) => isNumeric(x))) {
            for (const x of r) {
                let ii = Math.floor(x);
                if (ii < 0)
                    ii = items.length + ii;
                if (ii === index)
                    results.push(item);
            }
        }
        else if (toBoolean(r))
            results.push(item);
    },
    tuples: (input) => input.map((item) => ({ '@': item })),
    tupleStream() {
        const s = seq();
        s.tupleStream = true;
        return s;
    },
    /** evaluateTupleStep: one output tuple per item of a step's result, with the step's index binding. */
    addTuples(out, t, r, index) {
        if (r === undefined)
            return;
        const rs = Array.isArray(r) ? r : [r];
        if (rs.tupleStream)
            fallback('a nested tuple stream');
        // copied key by key: `{ ...t, '@': x }` is some 40 times slower on these small objects
        const keys = Object.keys(t);
        for (let bb = 0; bb < rs.length; bb++) {
            const tuple = {};
            for (let k = 0; k < keys.length; k++)
                tuple[keys[k]] = t[keys[k]];
            tuple['@'] = rs[bb];
            if (index !== undefined)
                tuple[index] = bb;
            out.push(tuple);
        }
    },
    indexStage(items, name) {
        for (let ee = 0; ee < items.length; ee++)
            items[ee][name] = ee;
    },
    /** The path's result from its tuple stream: each tuple's '@'. */
    fromTuples(tuples) {
        const r = seq();
        for (const t of tuples)
            r.push(t['@']);
        return r;
    },
    keepSingleton(result) {
        if (Array.isArray(result) && result.cons && !isSequence(result))
            result = seq(result);
        result.keepSingleton = true;
        return result;
    },
    /** An object key: a string, or undefined (no entry). */
    key(k) {
        if (k === undefined || typeof k === 'string') {
            if (k === '_jsonata_lambda' || k === '_jsonata_function')
                fallback('a reserved object key');
            return k;
        }
        return fallback('an object key that is not a string');
    },
    /**
     * evaluateGroupExpression on a sequence of items: items appended under equal keys, then each key's
     * value evaluated on its group. `keyOf(p, item)` and `valueOf(p, data)` evaluate pair p.
     */
    group(input, pairs, keyOf, valueOf) {
        const groups = H.groupKeys(input, pairs, keyOf);
        const out = {};
        for (const [k, e] of groups) {
            const v = valueOf(e.p, e.data);
            if (v !== undefined)
                setKey(out, k, v);
        }
        return out;
    },
    async groupAsync(input, pairs, keyOf, valueOf) {
        const groups = H.groupKeys(input, pairs, keyOf);
        const out = {};
        for (const [k, e] of groups) {
            const v = await valueOf(e.p, e.data);
            if (v !== undefined)
                setKey(out, k, v);
        }
        return out;
    },
    groupKeys(input, pairs, keyOf) {
        const items = (Array.isArray(input) ? input : seq(input));
        if (items.length === 0 && !input.tupleStream)
            items.push(undefined);
        const groups = new Map();
        for (const item of items) {
            for (let p = 0; p < pairs; p++) {
                const k = keyOf(p, item);
                if (isPromise(k))
                    fallback('an object key that awaits');
                const key = H.key(k);
                if (key === undefined)
                    continue;
                const e = groups.get(key);
                if (!e)
                    groups.set(key, { data: item, p });
                else if (e.p !== p)
                    fallback('two key expressions with the same key');
                else
                    e.data = append(e.data, item);
            }
        }
        return groups;
    },
    /** An object constructor on an array groups its items: the interpreter does that (see emit.ts). */
    grouping: () => fallback('an object constructor on an array'),
    /** Two keys of one object from different key expressions (D1009). */
    duplicateKey: () => fallback('two key expressions with the same key'),
    defineCons(a) {
        Object.defineProperty(a, 'cons', { enumerable: false, configurable: false, value: true });
        return a;
    },
    pushAll(out, v) {
        for (const x of v)
            out.push(x);
    },
    // ---- operators ----
    arith(l, r) {
        if (l !== undefined && !isNumeric(l))
            fallback('the left side of an arithmetic operator is not a number');
        if (r !== undefined && !isNumeric(r))
            fallback('the right side of an arithmetic operator is not a number');
        return l !== undefined && r !== undefined;
    },
    compare(l, r) {
        const lt = typeof l, rt = typeof r;
        if (!(lt === 'undefined' || lt === 'string' || lt === 'number') || !(rt === 'undefined' || rt === 'string' || rt === 'number'))
            fallback('a comparison of values that are not numbers or strings');
        if (lt === 'undefined' || rt === 'undefined')
            return false;
        if (lt !== rt)
            fallback('a comparison of a number with a string');
        return true;
    },
    eq: (l, r) => l !== undefined && r !== undefined && (l === r || deepEqual(l, r)),
    ne: (l, r) => l !== undefined && r !== undefined && !(l === r || deepEqual(l, r)),
    cat: (l, r) => (typeof l === 'string' ? l : l === undefined ? '' : stringOf(l)) + (typeof r === 'string' ? r : r === undefined ? '' : stringOf(r)),
    in(l, r) {
        if (l === undefined || r === undefined)
            return false;
        if (!Array.isArray(r))
            return r === l;
        for (const x of r)
            if (x === l)
                return true;
        return false;
    },
    range(l, r) {
        if (l !== undefined && !Number.isInteger(l))
            fallback('a range bound that is not an integer');
        if (r !== undefined && !Number.isInteger(r))
            fallback('a range bound that is not an integer');
        if (l === undefined || r === undefined || l > r)
            return undefined;
        if (r - l + 1 > 1e7)
            fallback('a range of more than 1e7 items');
        const out = seq();
        for (let x = l; x <= r; x++)
            out.push(x);
        return out;
    },
    negate(v) {
        if (v === undefined)
            return undefined;
        return isNumeric(v) ? -v : fallback('negation of a value that is not a number');
    },
    // ---- calls ----
    notCallable: () => fallback('a call of a value that is not a function'),
    unexpectedPromise: () => fallback('a Promise where the compiler expected none'),
    /** applyInner for a function value (a lambda, a regex, a JavaScript function; `this` = the input). */
    call(f, args, input) {
        if (typeof f !== 'function')
            return H.notCallable();
        const r = f.apply(input, args);
        return isPromise(r) ? H.unexpectedPromise() : r;
    },
    callMaybe(f, args, input) {
        if (typeof f !== 'function')
            return H.notCallable();
        return f.apply(input, args);
    },
    /** `lhs ~> $f` with a function value. */
    applyTo(f, v, mayAwait) {
        if (typeof f !== 'function')
            return fallback('~> to something that is not a function');
        if (typeof v === 'function')
            return fallback('function composition with ~>');
        return mayAwait ? H.callMaybe(f, [v], null) : H.call(f, [v], null);
    },
};
//# sourceMappingURL=helpers.js.map