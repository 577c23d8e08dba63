// JSONata with limits and the function library. Compiled once at load; evaluated per request
// with per-call bindings ($request, $ctx, $vars, $state, …). An expression runs as JavaScript
// closures (program.ts) with jsonata's interpreter as the reference: the interpreter runs whatever
// the compiler leaves to it, and any evaluation the compiled code hands back (an argument of an
// unexpected type, whose exact error only the interpreter knows).
import jsonata from 'jsonata';
import { checked, CHECKING } from './check.js';
import { FUNCTIONS } from './functions.js';
import { compileProgram, Unsupported } from './program.js';
import { isLimitError, isPromise } from './runtime.js';
// 5 s: a legitimate 800-message history takes ~0.3 s to translate; only a runaway expression gets near this.
export const DEFAULT_LIMITS = { timeoutMs: 5000, maxDepth: 500 };
export const LIBRARY = Object.fromEntries(Object.entries(FUNCTIONS).map(([name, [fn]]) => [name, fn]));
/** jsonata with limits and the function library: the interpreter. */
function interpreter(source, limits) {
    const expr = jsonata(source, { timeout: limits.timeoutMs, stack: limits.maxDepth });
    for (const [name, [fn, sig]] of Object.entries(FUNCTIONS))
        expr.registerFunction(name, fn, sig);
    return expr;
}
/** Compiles an expression, or returns every syntax error in it. */
export function compileExpr(source, limits = DEFAULT_LIMITS) {
    let expr;
    try {
        expr = interpreter(source, limits);
    }
    catch (err) {
        return [toSyntaxError(err, source)];
    }
    remember(source, expr.ast());
    const program = safely(() => compileProgram(expr.ast(), LIBRARY, limits.maxDepth));
    if (program instanceof Unsupported)
        return { source, compiled: program.reason, evaluate: (i, b) => expr.evaluate(i, b), run: (i, b) => expr.evaluate(i, b) };
    if (CHECKING)
        return checked(source, expr, limits);
    // The compiled code does not need the interpreter: it is built again on the first hand-back, so that
    // a loaded ruleset keeps no parse trees.
    let fallback = null;
    const interpret = (input, bindings) => (fallback ??= interpreter(source, limits)).evaluate(input, bindings);
    const run = (input, bindings) => {
        let r;
        try {
            r = program.run(input, bindings, limits.timeoutMs, limits.maxDepth);
        }
        catch (err) {
            if (isLimitError(err))
                throw err;
            return interpret(input, bindings);
        }
        return isPromise(r) ? r.catch((err) => (isLimitError(err) ? Promise.reject(err) : interpret(input, bindings))) : r;
    };
    return { source, compiled: true, evaluate: async (input, bindings) => run(input, bindings), run };
}
/** A compiler bug must not stop rules from loading: the interpreter then runs the expression. */
function safely(f) {
    try {
        return f();
    }
    catch (err) {
        return new Unsupported(`compiler error: ${err.message}`);
    }
}
export function isExpr(v) {
    return !Array.isArray(v);
}
function toSyntaxError(err, source) {
    const e = err;
    // JSONata positions are 1-based and point at the last character of the offending token.
    const offset = Math.max(0, Math.min(source.length, (e.position ?? 1) - 1));
    return { message: e.message ?? String(err), code: e.code ?? 'S0000', offset };
}
/** The last sources parsed (load and lint ask for the parse tree of each expression up to three times). */
const parsed = new Map();
function remember(source, ast) {
    parsed.set(source, ast);
    if (parsed.size > 64)
        parsed.delete(parsed.keys().next().value);
}
/** An expression's parse tree (throws on a syntax error). */
export function parseExpr(source) {
    let ast = parsed.get(source);
    if (!ast)
        remember(source, (ast = jsonata(source).ast()));
    return ast;
}
/** Names of the `$functions` an expression calls, with their offsets (for lint). */
export function calledFunctions(source) {
    let ast;
    try {
        ast = parseExpr(source);
    }
    catch {
        return [];
    }
    const out = [];
    const walk = (n) => {
        if (Array.isArray(n)) {
            n.forEach(walk);
            return;
        }
        if (!n || typeof n !== 'object')
            return;
        const node = n;
        if (node.type === 'function' && node.procedure?.type === 'variable' && typeof node.procedure.value === 'string') {
            // Positions point at a token's last character: step back to its `$`.
            out.push({ name: node.procedure.value, offset: Math.max(0, (node.procedure.position ?? 1) - 1 - node.procedure.value.length) });
        }
        for (const v of Object.values(node))
            if (v && typeof v === 'object')
                walk(v);
    };
    walk(ast);
    return out;
}
//# sourceMappingURL=compile.js.map