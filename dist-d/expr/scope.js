// Static analysis of a parsed expression before it is compiled: which nodes create frames and which
// names each binds (so a variable becomes a slot read), the free variables (bindings and functions),
// which lambdas and calls can return a Promise (only those get async code), and whether anything in
// the expression is left to the interpreter.
import { BUILTINS, callsArgument } from './builtins.js';
const UNSUPPORTED_TYPES = new Set(['partial', 'transform', 'sort', 'parent', 'wildcard', 'descendant', 'error', 'operator']);
export function analyse(ast, registered, maxDepth) {
    const a = { root: newScope(null), scopeOf: new Map(), tupleScopeOf: new Map(), free: [], asyncLambdas: new Set(), tainted: false, unsupported: null };
    const no = (why) => { a.unsupported ??= why; };
    const declare = (s, name, value) => {
        if (name === '' || name === '$')
            no('a binding of $ or $$');
        if (!s.names.has(name))
            s.names.set(name, s.names.size + 2);
        const prev = s.values.get(name);
        if (value === 'unknown' || prev === 'unknown')
            s.values.set(name, 'unknown');
        else
            s.values.set(name, [...(prev ?? []), value]);
    };
    // Pass 1: scopes and declarations. `inCons`: between the node and its frame there is an array or
    // object constructor, whose items the interpreter evaluates concurrently (a `:=` there is racy).
    const visit = (n, s, inCons, depth) => {
        if (!n || typeof n !== 'object')
            return;
        if (depth > maxDepth)
            no('nesting deeper than the depth limit');
        if (UNSUPPORTED_TYPES.has(n.type))
            no(`the ${n.type} operator`);
        if (n.focus !== undefined || n.ancestor || n.seekingParent || (n.type === 'path' && n.tuple))
            no('focus or ancestor bindings');
        for (const p of n.predicate ?? [])
            visit(p.expr, s, inCons, depth + 1);
        if (n.group && n.type !== 'path')
            visitPairs(n.group.lhs, s, depth);
        switch (n.type) {
            case 'path': return visitPath(n, s, inCons, depth);
            case 'binary':
            case 'apply':
                visit(n.lhs, s, inCons, depth + 1);
                visit(n.rhs, s, inCons, depth + 1);
                return;
            case 'unary':
                if (n.value === '-')
                    visit(n.expression, s, inCons, depth + 1);
                else if (n.value === '[')
                    for (const e of n.expressions)
                        visit(e, s, true, depth + 1);
                else
                    visitPairs(n.lhs, s, depth);
                return;
            case 'condition':
                visit(n.condition, s, inCons, depth + 1);
                visit(n.then, s, inCons, depth + 1);
                if (n.else !== undefined)
                    visit(n.else, s, inCons, depth + 1);
                return;
            case 'block': {
                const b = newScope(s);
                a.scopeOf.set(n, b);
                for (const e of n.expressions)
                    visit(e, b, false, depth + 1);
                return;
            }
            case 'bind':
                if (inCons)
                    no('a := inside an array or object constructor');
                declare(s, n.lhs.value, n.rhs);
                visit(n.rhs, s, inCons, depth + 1);
                return;
            case 'lambda': {
                // the parser's tail-call thunk is not a function of its own: its call runs in the lambda around it
                if (n.thunk)
                    return visit(n.body, s, inCons, depth + 1);
                if (n.signature !== undefined)
                    no('a lambda with a signature');
                const l = newScope(s);
                a.scopeOf.set(n, l);
                for (const p of n.arguments)
                    declare(l, p.value, 'unknown');
                visit(n.body, l, false, depth + 1);
                return;
            }
            case 'function':
                visit(n.procedure, s, inCons, depth + 1);
                for (const e of n.arguments)
                    visit(e, s, inCons, depth + 1);
                return;
            case 'variable':
            case 'name':
            case 'string':
            case 'number':
            case 'value':
            case 'regex':
                return;
            default:
                no(`node type ${n.type}`);
        }
    };
    const visitPairs = (pairs, s, depth) => {
        for (const [k, v] of pairs) {
            visit(k, s, true, depth + 1);
            visit(v, s, true, depth + 1);
        }
    };
    const visitPath = (n, s, inCons, depth) => {
        let tuple = null;
        for (const step of n.steps) {
            if (step.tuple && !tuple) {
                tuple = newScope(s);
                a.tupleScopeOf.set(n, tuple);
            }
            const here = tuple ?? s;
            if (step.index !== undefined)
                declare(here, step.index, 'unknown');
            for (const st of step.stages ?? [])
                if (st.type === 'index')
                    declare(here, st.value, 'unknown');
            // a `:=` evaluated in a tuple frame would bind into that short-lived frame: counted as racy
            visit(step, here, inCons || tuple !== null, depth + 1);
            for (const st of step.stages ?? [])
                if (st.type === 'filter')
                    visit(st.expr, here, inCons || tuple !== null, depth + 1);
        }
        if (n.group)
            visitPairs(n.group.lhs, tuple ?? s, depth);
    };
    visit(ast, a.root, false, 0);
    a.root.creates = true;
    for (const s of [...a.scopeOf.values(), ...a.tupleScopeOf.values()])
        s.creates = s.names.size > 0;
    assignLevels(a);
    // Pass 2 (every declaration known): free names, and call sites with their scope and lambda.
    const free = new Set();
    const calls = [];
    const collect = (n, s, inLambda) => {
        if (!n || typeof n !== 'object')
            return;
        for (const p of n.predicate ?? [])
            collect(p.expr, s, inLambda);
        if (n.group && n.type !== 'path')
            for (const [k, v] of n.group.lhs) {
                collect(k, s, inLambda);
                collect(v, s, inLambda);
            }
        switch (n.type) {
            case 'variable':
                if (n.value !== '' && n.value !== '$' && declaring(n.value, s).length === 0)
                    free.add(n.value);
                return;
            case 'function':
                calls.push({ site: n, scope: s, inLambda });
                // a library function called by name is bound at compile time, not read from a slot
                if (!(n.procedure.type === 'variable' && (BUILTINS.has(n.procedure.value) || registered.has(n.procedure.value))))
                    collect(n.procedure, s, inLambda);
                for (const e of n.arguments)
                    collect(e, s, inLambda);
                return;
            case 'apply':
                calls.push({ site: n, scope: s, inLambda });
                collect(n.lhs, s, inLambda);
                collect(n.rhs, s, inLambda);
                return;
            case 'lambda':
                collect(n.body, n.thunk ? s : a.scopeOf.get(n), n.thunk ? inLambda : n);
                return;
            case 'block':
                for (const e of n.expressions)
                    collect(e, a.scopeOf.get(n), inLambda);
                return;
            case 'bind':
                collect(n.rhs, s, inLambda);
                return;
            case 'binary':
                collect(n.lhs, s, inLambda);
                collect(n.rhs, s, inLambda);
                return;
            case 'unary':
                if (n.value === '-')
                    collect(n.expression, s, inLambda);
                else if (n.value === '[')
                    for (const e of n.expressions)
                        collect(e, s, inLambda);
                else
                    for (const [k, v] of n.lhs) {
                        collect(k, s, inLambda);
                        collect(v, s, inLambda);
                    }
                return;
            case 'condition':
                collect(n.condition, s, inLambda);
                collect(n.then, s, inLambda);
                collect(n.else, s, inLambda);
                return;
            case 'path': {
                const tuple = a.tupleScopeOf.get(n);
                let here = s;
                for (const step of n.steps) {
                    if (step.tuple && tuple)
                        here = tuple;
                    collect(step, here, inLambda);
                    for (const st of step.stages ?? [])
                        if (st.type === 'filter')
                            collect(st.expr, here, inLambda);
                }
                if (n.group)
                    for (const [k, v] of n.group.lhs) {
                        collect(k, here, inLambda);
                        collect(v, here, inLambda);
                    }
                return;
            }
        }
    };
    collect(ast, a.root, null);
    a.free = [...free];
    // Which calls can return a Promise. A call of a free name that is not a library function reaches
    // a binding ($recall, $remember): the expression is tainted, and then calls whose callee cannot be
    // known (a parameter, a looked-up value) count as async too.
    for (const c of calls) {
        const p = c.site.type === 'function' ? c.site.procedure : null;
        if (p?.type === 'variable' && p.value !== '' && declaring(p.value, c.scope).length === 0 && !BUILTINS.has(p.value) && !registered.has(p.value))
            a.tainted = true;
    }
    if (a.tainted) {
        for (let changed = true; changed;) {
            changed = false;
            for (const c of calls) {
                if (c.inLambda && !a.asyncLambdas.has(c.inLambda) && callMayAwait(c.site, c.scope, a, registered)) {
                    a.asyncLambdas.add(c.inLambda);
                    changed = true;
                }
            }
        }
    }
    return a;
}
function newScope(parent) {
    return { parent, names: new Map(), level: 0, creates: false, values: new Map() };
}
/** How many frames up from code in scope `from` the frame of scope `to` is. */
export function hops(from, to) {
    return (from.creates ? from.level : from.level - 1) - to.level;
}
function assignLevels(a) {
    const all = [a.root, ...a.scopeOf.values(), ...a.tupleScopeOf.values()];
    const levelOf = (s) => {
        let n = 0;
        for (let t = s.parent; t; t = t.parent)
            if (t.creates)
                n++;
        return n;
    };
    for (const s of all)
        s.level = levelOf(s);
}
/** The scopes that bind a name, innermost first (none: the name is free). */
export function declaring(name, s) {
    const out = [];
    for (let t = s; t; t = t.parent)
        if (t.names.has(name))
            out.push(t);
    return out;
}
/** Whether a call can return a Promise (the expression being tainted). */
export function callMayAwait(site, s, a, registered) {
    if (site.type === 'apply')
        return true;
    const p = site.procedure;
    if (p.type !== 'variable')
        return true;
    const decl = declaring(p.value, s);
    if (decl.length === 0) {
        if (registered.has(p.value))
            return false;
        const b = BUILTINS.get(p.value);
        if (!b)
            return true;
        // a higher-order function awaits what it calls
        return b.hof ? site.arguments.some((arg, i) => callsArgument(b, i, site.arguments.length) && valueMayAwait(arg, s, a, registered, 0)) : false;
    }
    return decl.some((d) => boundMayAwait(d.values.get(p.value), d, a, registered, 0));
}
function boundMayAwait(values, s, a, registered, depth) {
    if (values === undefined || values === 'unknown')
        return true;
    return values.some((v) => valueMayAwait(v, s, a, registered, depth + 1));
}
/** Whether calling the value of an expression can return a Promise. */
function valueMayAwait(v, s, a, registered, depth) {
    if (depth > 20)
        return true;
    switch (v.type) {
        case 'lambda': return a.asyncLambdas.has(v);
        case 'condition': return valueMayAwait(v.then, s, a, registered, depth + 1) || (v.else !== undefined && valueMayAwait(v.else, s, a, registered, depth + 1));
        case 'string':
        case 'number':
        case 'value':
        case 'regex': return false;
        case 'unary': return v.value !== '{' && v.value !== '[';
        case 'variable': {
            if (v.value === '' || v.value === '$')
                return false;
            const decl = declaring(v.value, s);
            if (decl.length === 0)
                return !BUILTINS.has(v.value) && !registered.has(v.value);
            return decl.some((d) => boundMayAwait(d.values.get(v.value), d, a, registered, depth + 1));
        }
        default: return true;
    }
}
//# sourceMappingURL=scope.js.map