// A parsed JSONata expression → one JavaScript function, generated once at load. For each AST node
// the generator emits what jsonata 2.2's evaluate() does for it (the node's own work, then its
// predicates, its grouping and the unwrapping of singleton sequences), with everything that depends
// only on the expression settled at load: variables are JavaScript locals, library calls are bound,
// `x = "lit"` is a strict comparison, constant object keys are property writes, a path over objects
// is a chain of own-property reads. Only nodes that can reach a Promise ($recall, $remember) await.
// The generated source contains only the generator's own templates, generated identifiers, numbers
// and JSON-quoted strings: rule text never becomes code.
import { ENTRIES, ENTRIES_ASYNC } from './builtins.js';
import { Emitter } from './emit.js';
import { H } from './helpers.js';
import { fallback, LIBRARY_NAMES, limit, Runtime, UNBOUND } from './runtime.js';
import { analyse } from './scope.js';
import { isSequence, seq } from './values.js';
/** Why an expression is left to the interpreter. */
export class Unsupported {
    reason;
    constructor(reason) {
        this.reason = reason;
    }
}
const has = Object.prototype.hasOwnProperty;
/** `annotate` marks each generated statement with its source offset (bench/profile-transform.mjs reads them). */
export function compileProgram(ast, library, maxDepth, annotate = false) {
    const registered = new Set(Object.keys(library));
    const a = analyse(ast, registered, maxDepth);
    if (a.unsupported)
        return new Unsupported(a.unsupported);
    let code;
    const em = new Emitter(a, registered, annotate);
    try {
        code = em.program(ast);
    }
    catch (err) {
        if (err instanceof Unsupported)
            return err;
        throw err;
    }
    // eslint-disable-next-line no-new-func -- the generated source holds no rule text (see above)
    const factory = new Function('H', 'K', 'B', 'BA', 'L', 'U', code);
    const main = factory(H, em.constants, ENTRIES, ENTRIES_ASYNC, library, UNBOUND);
    const free = a.free;
    const shadowable = [...em.calledLibrary];
    return {
        code,
        run(input, bindings, timeoutMs, depthLimit) {
            for (const k of shadowable)
                if (has.call(bindings, k))
                    fallback(`the binding $${k} shadows a library function`);
            // the context is an array input wrapped in a singleton sequence (as the interpreter wraps it);
            // `$$` is the input itself (the interpreter binds it before wrapping)
            let context = input;
            if (Array.isArray(input) && !isSequence(input)) {
                context = seq(input);
                context.outerWrapper = true;
            }
            // a free name that is one of JSONata's functions is the function, unless a binding shadows it
            const values = free.map((name) => (has.call(bindings, name) ? bindings[name] : has.call(library, name) ? library[name] : LIBRARY_NAMES.has(name) ? fallback(`$${name} used as a value`) : undefined));
            const rt = new Runtime(timeoutMs, depthLimit, input, values, bindings, library);
            try {
                const r = main(context, rt);
                return H.isPromise(r) ? r.catch((e) => { throw stackOverflow(e); }) : r;
            }
            catch (e) {
                throw stackOverflow(e);
            }
        },
    };
}
/** JavaScript's own stack overflow, in deep recursion that stays under the depth limit, is the same error. */
const stackOverflow = (e) => (e instanceof RangeError && /call stack/.test(e.message) ? limit('D1011', 0) : e);
//# sourceMappingURL=program.js.map