// What compiled expressions run with: frames of variable slots, the per-evaluation limits (time,
// depth), and the signal that hands an evaluation back to the interpreter.
/** A slot no `:=` has written yet: the lookup goes on to the enclosing frames, as the interpreter's does. */
export const UNBOUND = Symbol('unbound');
/** Names of JSONata's own functions (set by builtins.ts): reading one as a value is left to the interpreter. */
export const LIBRARY_NAMES = new Set();
/**
 * Thrown when compiled code meets a case it leaves to the interpreter: an argument of an unexpected
 * type (the interpreter raises the exact error with its position), a Promise where none was expected.
 * Not an Error: no stack is captured on this path.
 */
export class Fallback {
    reason;
    constructor(reason) {
        this.reason = reason;
    }
}
export const fallback = (reason) => {
    throw new Fallback(reason);
};
export class Runtime {
    timeoutMs;
    maxDepth;
    root;
    free;
    bindings;
    library;
    depth = 0;
    ticks = 0;
    deadline;
    constructor(timeoutMs, maxDepth, 
    /** The evaluation's input, as `$$` sees it: never wrapped. */
    root, 
    /** Values of the expression's free variables, in the order the compiler numbered them. */
    free, bindings, library) {
        this.timeoutMs = timeoutMs;
        this.maxDepth = maxDepth;
        this.root = root;
        this.free = free;
        this.bindings = bindings;
        this.library = library;
        this.deadline = performance.now() + timeoutMs;
    }
    /** Called in loops and on every function call: the time limit is checked every 1024 calls. */
    tick() {
        if (++this.ticks >= 1024) {
            this.ticks = 0;
            if (performance.now() > this.deadline)
                throw limit('D1012', this.timeoutMs);
        }
    }
    /** A bound name read before its `:=` ran: what the interpreter's lookup finds further out. */
    lookupFree(name) {
        if (Object.prototype.hasOwnProperty.call(this.bindings, name))
            return this.bindings[name];
        if (Object.prototype.hasOwnProperty.call(this.library, name))
            return this.library[name];
        return LIBRARY_NAMES.has(name) ? fallback(`$${name} reached through an unbound variable`) : undefined;
    }
    enter(cost) {
        this.depth += cost;
        if (this.depth > this.maxDepth) {
            this.depth -= cost;
            throw limit('D1011', this.maxDepth);
        }
        this.tick();
    }
}
export function limit(code, value) {
    const message = code === 'D1011'
        ? 'Stack overflow. Check for non-terminating recursive function.  Consider rewriting as tail-recursive'
        : `Evaluation timeout after ${value} milliseconds. Check for infinite loop`;
    return { code, value, message };
}
export const isLimitError = (e) => typeof e === 'object' && e !== null && (e.code === 'D1011' || e.code === 'D1012');
export function isPromise(v) {
    return typeof v === 'object' && v !== null && typeof v.then === 'function';
}
/** A new frame for a scope of `size` slots. */
export function frame(parent, size) {
    const f = [parent, parent[1]];
    for (let i = 0; i < size; i++)
        f.push(UNBOUND);
    return f;
}
/** f(v), after v settles when it is a Promise (maybe-async code stays synchronous when nothing awaits). */
export function then(v, f) {
    return isPromise(v) ? v.then(f) : f(v);
}
//# sourceMappingURL=runtime.js.map