// ROUTE_ENGINE_EXPR_CHECK=<file>: every evaluation runs in jsonata's interpreter (whose result is
// used) and in the compiled closures, and the two are compared — value, type, key order and the
// sequence flags jsonata leaves on arrays. Differences, hand-backs to the interpreter and, at exit,
// a summary are appended to <file> as JSON lines. Impure functions ($id, $unixTime, the store
// bindings) run once, in the interpreter; the compiled run replays their results.
import { appendFileSync } from 'node:fs';
import jsonata from 'jsonata';
import { FUNCTIONS } from './functions.js';
import { compileProgram, Unsupported } from './program.js';
import { Fallback, isLimitError, isPromise } from './runtime.js';
export const CHECKING = process.env.ROUTE_ENGINE_EXPR_CHECK ?? '';
const IMPURE = new Set(['id', 'unixTime']);
let current = null;
let queue = Promise.resolve();
const key = (name, args) => `${name}(${safeJson(args)})`;
function record(name, args, r) {
    const log = current;
    if (!log?.record)
        return r;
    const push = (value, promise) => {
        const k = key(name, args);
        log.calls.set(k, [...(log.calls.get(k) ?? []), { value, promise }]);
    };
    if (isPromise(r))
        return r.then((v) => { push(v, true); return v; });
    push(r, false);
    return r;
}
function replay(name, args) {
    const r = current?.calls.get(key(name, args))?.shift();
    if (!r)
        throw new Error(`the compiled code called $${name}${safeJson(args)}, which the interpreter did not`);
    return r.promise ? Promise.resolve(r.value) : r.value;
}
const stats = { evaluations: 0, identical: 0, mismatches: 0, handedBack: new Map(), sources: new Set() };
if (CHECKING) {
    process.on('exit', () => {
        appendFileSync(CHECKING, JSON.stringify({
            summary: { pid: process.pid, expressions: stats.sources.size, evaluations: stats.evaluations, identical: stats.identical, mismatches: stats.mismatches, handedBack: Object.fromEntries(stats.handedBack) },
        }) + '\n');
    });
}
/** What the check has seen so far in this process. */
export function checkStats() {
    return { evaluations: stats.evaluations, identical: stats.identical, mismatches: stats.mismatches, handedBack: Object.fromEntries(stats.handedBack) };
}
/** The checking form of an expression (compile.ts returns it when CHECKING is set). */
export function checked(source, _expr, limits) {
    const reference = jsonata(source, { timeout: limits.timeoutMs, stack: limits.maxDepth });
    const library = {};
    for (const [name, [fn, sig]] of Object.entries(FUNCTIONS)) {
        reference.registerFunction(name, IMPURE.has(name) ? (...args) => record(name, args, fn(...args)) : fn, sig);
        library[name] = IMPURE.has(name) ? (...args) => replay(name, args) : fn;
    }
    const program = compileProgram(reference.ast(), library, limits.maxDepth);
    if (program instanceof Unsupported)
        return { source, compiled: program.reason, evaluate: (i, b) => reference.evaluate(i, b), run: (i, b) => reference.evaluate(i, b) };
    stats.sources.add(source);
    const once = async (input, bindings) => {
        const log = { calls: new Map(), record: true };
        current = log;
        let ref;
        try {
            ref = { value: await reference.evaluate(input, wrap(bindings, record)) };
        }
        catch (error) {
            ref = { error };
        }
        log.record = false;
        let out;
        try {
            out = { value: await program.run(input, wrap(bindings, replay), limits.timeoutMs, limits.maxDepth) };
        }
        catch (error) {
            out = { error };
        }
        current = null;
        stats.evaluations++;
        if ('error' in out && (out.error instanceof Fallback || !isLimitError(out.error))) {
            const why = out.error instanceof Fallback ? out.error.reason : `error: ${out.error?.message ?? out.error}`;
            // handing an evaluation that fails back to the interpreter is how errors get their exact text
            const label = `${'error' in ref ? '(failing) ' : ''}${why} — in ${cut(source.replace(/\s+/g, ' ').trim(), 100)}`;
            stats.handedBack.set(label, (stats.handedBack.get(label) ?? 0) + 1);
            if (!(out.error instanceof Fallback))
                report(source, input, 'compiled code threw', ref, out);
        }
        else if ('error' in ref !== 'error' in out)
            report(source, input, 'one failed', ref, out);
        else if ('error' in ref)
            stats.identical++;
        else {
            const diff = difference(ref.value, out.value, '$');
            if (diff)
                report(source, input, diff, ref, out);
            else
                stats.identical++;
        }
        if ('error' in ref)
            throw ref.error;
        return ref.value;
    };
    const run = (input, bindings) => {
        const job = queue.then(() => once(input, bindings));
        queue = job.catch(() => undefined);
        return job;
    };
    return { source, compiled: true, evaluate: run, run };
}
function wrap(bindings, via) {
    const out = {};
    for (const [k, v] of Object.entries(bindings)) {
        out[k] = typeof v !== 'function' ? v
            : via === record ? function (...args) { return record(k, args, v.apply(this, args)); }
                : (...args) => replay(k, args);
    }
    return out;
}
function report(source, input, where, ref, out) {
    stats.mismatches++;
    const show = (r) => ('error' in r ? { error: String(r.error?.message ?? JSON.stringify(r.error)) } : { value: cut(safeJson(r.value)) });
    appendFileSync(CHECKING, JSON.stringify({ mismatch: where, source: cut(source, 300), input: cut(safeJson(input)), interpreter: show(ref), compiled: show(out) }) + '\n');
}
const FLAGS = ['sequence', 'keepSingleton', 'outerWrapper', 'tupleStream', 'cons'];
/** Where two results differ (null: they do not). Functions compare equal to functions. */
export function difference(a, b, at) {
    const fa = isFunctionValue(a), fb = isFunctionValue(b);
    if (fa || fb)
        return fa && fb ? null : `${at}: function vs value`;
    if (typeof a !== typeof b)
        return `${at}: ${typeof a} vs ${typeof b}`;
    if (typeof a === 'number')
        return a === b || (Number.isNaN(a) && Number.isNaN(b)) ? null : `${at}: ${a} vs ${b}`;
    if (typeof a !== 'object' || a === null || b === null)
        return a === b ? null : `${at}: ${safeJson(a)} vs ${safeJson(b)}`;
    if (Array.isArray(a) !== Array.isArray(b))
        return `${at}: array vs object`;
    if (Array.isArray(a)) {
        const bb = b;
        for (const f of FLAGS)
            if (!!a[f] !== !!bb[f])
                return `${at}: flag ${f} ${!!a[f]} vs ${!!bb[f]}`;
        if (a.length !== bb.length)
            return `${at}: length ${a.length} vs ${bb.length}`;
        for (let i = 0; i < a.length; i++) {
            const d = difference(a[i], bb[i], `${at}[${i}]`);
            if (d)
                return d;
        }
        return null;
    }
    const ka = Object.keys(a), kb = Object.keys(b);
    if (ka.join('\0') !== kb.join('\0'))
        return `${at}: keys [${ka}] vs [${kb}]`;
    for (const k of ka) {
        const d = difference(a[k], b[k], `${at}.${k}`);
        if (d)
            return d;
    }
    return null;
}
const isFunctionValue = (v) => typeof v === 'function' || (typeof v === 'object' && v !== null && (v._jsonata_lambda === true || v._jsonata_function === true));
function safeJson(v) {
    try {
        return JSON.stringify(v, (_k, x) => (typeof x === 'function' ? '<function>' : x)) ?? 'undefined';
    }
    catch {
        return '<unserialisable>';
    }
}
const cut = (s, n = 4000) => (s.length > n ? s.slice(0, n) + '…' : s);
//# sourceMappingURL=check.js.map