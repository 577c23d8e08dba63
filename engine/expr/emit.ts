// The code generator behind program.ts: one method per node type, each emitting statements into the
// function being generated and returning an atom (an identifier or a literal) for the node's value.
// Paths, predicates and grouping are in the second half: evaluatePath's loop unrolled step by step.
import { BUILTINS, INTERPRETED_BUILTINS, positional } from './builtins.js'
import { Unsupported, type Shared } from './program.js'
import { matcherOf } from './regex.js'
import { callMayAwait, declaring, type Analysis, type Node, type Scope } from './scope.js'

/** A function being generated: its statements, temporaries and whether it awaits. */
interface Fn {
  lines: string[]
  temps: string[]
  async: boolean
  /** Set while emitting: await is allowed (an async lambda, or the main function). */
  canAwait: boolean
}

/** Node types whose value can be a sequence (the others never need unwrapping). */
const MAY_BE_SEQUENCE = new Set(['path', 'name', 'variable', 'condition', 'block', 'bind', 'function', 'apply'])

const lit = (v: unknown): string => {
  if (typeof v === 'string') return JSON.stringify(v)
  if (typeof v === 'number') return Object.is(v, -0) ? '(-0)' : `(${JSON.stringify(v)})`
  if (v === true || v === false || v === null) return String(v)
  throw new Unsupported('a literal that is not JSON')
}

export class Emitter {
  readonly constants: unknown[] = []
  /** Library functions called by name: a binding of the same name means the interpreter decides. */
  readonly calledLibrary = new Set<string>()
  private ids = 0
  private fn!: Fn
  private readonly varIds = new Map<Scope, Map<string, string>>()
  private readonly hoisted: string[] = []
  /** Temporaries that already hold evaluate()'s unwrapped value (node() does not unwrap them again). */
  private readonly unwrapped = new Set<string>()

  /** The source offset of the node being emitted (with `annotate`, each statement is marked with it, for profiles). */
  private at = 0

  /** Set while emitting a library definition: free names are read from the libraries, not from main's locals. */
  private inDefinition = false

  constructor(readonly a: Analysis, readonly registered: ReadonlySet<string>, readonly annotate = false, readonly shared?: Shared) {}

  program(ast: Node): string {
    const main = this.func('input', this.a.tainted, (ctx) => {
      this.declareScope(this.a.root)
      return this.v(ast, this.a.root, ctx)
    })
    const free = this.a.free.map((_, k) => `F${k} = rt.free[${k}]`)
    return `'use strict';\n${this.hoisted.join('\n')}\nreturn ${main.async ? 'async ' : ''}function main(input, rt) {\nconst root = rt.root${free.length ? ', ' + free.join(', ') : ''};\n${main.body}\n}`
  }

  /** A library definition (library.ts): `function (rt, ...params)`, whatever calls it. */
  definition(n: Node, name: string): string {
    this.inDefinition = true
    const ls = this.a.scopeOf.get(n)!
    const args = n.arguments as Node[]
    const params = args.map((p) => this.varId(ls, p.value))
    // a definition reads no input: its context is nothing (lint rejects one that reads it)
    const f = this.func('undefined', false, () => {
      this.declareScope(ls, new Set(args.map((p) => p.value as string)))
      return this.v(n.body, ls, 'undefined', true)
    })
    const id = name.replace(/[^A-Za-z0-9_]/g, '_')
    return `'use strict';\n${this.hoisted.join('\n')}\nreturn function def_${id}(rt${params.map((p) => ', ' + p).join('')}) {\nrt.enter(1);\ntry {\n${f.body}\n} finally { rt.depth--; }\n};`
  }

  // ---- functions, temporaries, statements ----

  private id(prefix: string): string {
    return `${prefix}${++this.ids}`
  }

  private tmp(): string {
    const t = this.id('t')
    this.fn.temps.push(t)
    return t
  }

  private out(s: string): void {
    this.fn.lines.push(this.annotate ? `/*@${this.at}*/ ${s}` : s)
  }

  /** A constant the generated code reads as K[i] (regexes, name lists). */
  private k(v: unknown): string {
    this.constants.push(v)
    return `K[${this.constants.length - 1}]`
  }

  /** Emits a function body in a fresh context; returns it and whether it awaits. */
  private func(ctx: string, canAwait: boolean, body: (ctx: string) => string): { body: string; async: boolean } {
    const saved = this.fn
    this.fn = { lines: [], temps: [], async: false, canAwait }
    const result = body(ctx)
    const f = this.fn
    this.fn = saved
    return { body: `${f.temps.length ? `let ${f.temps.join(', ')};\n` : ''}${f.lines.join('\n')}\nreturn ${result};`, async: f.async }
  }

  /** `x = await x` when it is a Promise (the function becomes async). */
  private settle(t: string): void {
    if (!this.fn.canAwait) throw new Unsupported('an await outside an async function')
    this.fn.async = true
    this.out(`if (H.isPromise(${t})) ${t} = await ${t};`)
  }

  // ---- variables ----

  private varId(s: Scope, name: string): string {
    let m = this.varIds.get(s)
    if (!m) this.varIds.set(s, (m = new Map()))
    let id = m.get(name)
    if (!id) m.set(name, (id = this.id('v')))
    return id
  }

  /** `let` for the names a scope binds (unbound until their `:=` runs). */
  private declareScope(s: Scope, except: ReadonlySet<string> = new Set()): void {
    const names = [...s.names.keys()].filter((n) => !except.has(n))
    if (names.length) this.out(`let ${names.map((n) => `${this.varId(s, n)} = U`).join(', ')};`)
  }

  private boundByAssignment(name: string, s: Scope): boolean {
    if (name === '' || name === '$') return false
    const decl = declaring(name, s)
    return decl.length > 0 && decl.every((d) => Array.isArray(d.values.get(name)))
  }

  private variable(name: string, s: Scope, ctx: string): string {
    if (name === '') return `(H.isArray(${ctx}) && ${ctx}.outerWrapper ? ${ctx}[0] : ${ctx})`
    if (name === '$') return 'root'
    const decl = declaring(name, s)
    if (decl.length === 0) {
      const shared = this.shared
      if (shared?.unsupported.has(name)) throw new Unsupported(`the library's $${name}: ${shared.unsupported.get(name)}`)
      if (!this.inDefinition) return `F${this.a.free.indexOf(name)}`
      const k = JSON.stringify(name)
      if (shared && Object.hasOwn(shared.fns, name)) return `H.bindRuntime(LF[${k}], rt)`
      if (this.registered.has(name) && !BUILTINS.has(name)) return `L[${k}]`
      return `(Object.hasOwn(LV, ${k}) ? LV[${k}] : rt.lookupFree(${k}))`
    }
    let x = `rt.lookupFree(${JSON.stringify(name)})`
    for (let i = decl.length - 1; i >= 0; i--) {
      const id = this.varId(decl[i]!, name)
      x = `(${id} !== U ? ${id} : ${x})`
    }
    return x
  }

  // ---- nodes ----

  /** A node with evaluate()'s full treatment. In a lambda body's tail, calls are not unwrapped (jsonata's thunks). */
  v(n: Node, s: Scope, ctx: string, tail = false, inline = false): string {
    const at = this.at
    if (typeof n.position === 'number') this.at = n.position
    const x = this.node(n, s, ctx, tail, inline)
    this.at = at
    return x
  }

  private node(n: Node, s: Scope, ctx: string, tail: boolean, inline: boolean): string {
    if (tail && tailCalls(n)) return this.tail(n, s, ctx, 0)
    if (!inline && OUTLINED.has(n.type) && size(n) > OUTLINE_NODES) return this.outline(n, s, ctx)
    let x = this.core(n, s, ctx)
    for (const p of n.predicate ?? []) x = this.filter(x, p.expr, s, null)
    if (n.group && n.type !== 'path') x = this.group(n.group, s, x)
    // a predicate or a grouping makes a sequence of any node (`[1, 2][0]`, `{…}[0]`)
    if (((MAY_BE_SEQUENCE.has(n.type) || n.predicate?.length || (n.group && n.type !== 'path')) && !this.unwrapped.has(x)) || n.keepArray || (n.type === 'binary' && n.value === '..')) {
      const t = this.tmp()
      this.out(`${t} = H.unwrap(${x}${n.keepArray ? ', true' : ''});`)
      x = t
    }
    return x
  }

  /**
   * A large subtree in a function of its own, called in place: V8 does not optimise very large
   * functions, and a transform's top level would otherwise be one.
   */
  private outline(n: Node, s: Scope, ctx: string): string {
    const f = this.func(ctx, this.fn.canAwait, () => this.v(n, s, ctx, false, true))
    const t = this.assign(`(${f.async ? 'async ' : ''}() => {\n${f.body}\n})()`)
    if (f.async) this.settle(t)
    return t
  }

  private assign(x: string): string {
    const t = this.tmp()
    this.out(`${t} = ${x};`)
    return t
  }

  private core(n: Node, s: Scope, ctx: string): string {
    switch (n.type) {
      case 'string': case 'number': case 'value': return lit(n.value)
      case 'regex': return this.k(matcherOf(n.value))
      case 'name': return this.assign(`H.lookup(${ctx}, ${JSON.stringify(n.value)})`)
      case 'variable': {
        const t = this.assign(this.variable(n.value, s, ctx))
        // a name only `:=` binds holds a value v() has already unwrapped
        if (this.boundByAssignment(n.value, s)) this.unwrapped.add(t)
        return t
      }
      case 'path': return this.path(n, s, ctx)
      case 'binary': return this.binary(n, s, ctx)
      case 'unary':
        if (n.value === '-') return this.assign(`H.negate(${this.v(n.expression, s, ctx)})`)
        return n.value === '[' ? this.array(n, s, ctx) : this.object(n.lhs, s, ctx)
      case 'condition': return this.condition(n, s, ctx, (b) => this.v(b, s, ctx))
      case 'block': return this.block(n, (x, bs) => this.v(x, bs, ctx))
      case 'bind': {
        const r = this.v(n.rhs, s, ctx)
        const id = this.varId(s, n.lhs.value)
        this.out(`${id} = ${r};`)
        return id
      }
      case 'function': return this.call(n, s, ctx)
      case 'lambda': return this.lambda(n, s, ctx)
      case 'apply': return this.apply(n, s, ctx)
      default: throw new Unsupported(`node type ${n.type}`)
    }
  }

  private binary(n: Node, s: Scope, ctx: string): string {
    const op: string = n.value
    const l = this.v(n.lhs, s, ctx)
    if (op === 'and' || op === 'or') {
      const t = this.assign(`H.toBoolean(${l}) === true`)
      this.out(op === 'and' ? `if (${t}) {` : `if (!${t}) {`)
      const r = this.v(n.rhs, s, ctx)
      this.out(`${t} = H.toBoolean(${r}) === true;\n}`)
      return t
    }
    // `x in ["a", "b"]` of literals: strict comparisons (the interpreter's `in` compares with ===)
    if (op === 'in' && n.rhs.type === 'unary' && n.rhs.value === '[' && isPlain(n.rhs) && n.rhs.expressions.every(isLiteral)) {
      const alts = (n.rhs.expressions as Node[]).map((e) => `${l} === ${lit(e.value)}`)
      return this.assign(alts.length ? `(${alts.join(' || ')})` : 'false')
    }
    const r = this.v(n.rhs, s, ctx)
    switch (op) {
      case '=': return this.assign(isLiteral(n.rhs) ? `${l} === ${r}` : isLiteral(n.lhs) ? `${r} === ${l}` : `H.eq(${l}, ${r})`)
      case '!=': return this.assign(isLiteral(n.rhs) ? `(${l} !== undefined && ${l} !== ${r})` : isLiteral(n.lhs) ? `(${r} !== undefined && ${r} !== ${l})` : `H.ne(${l}, ${r})`)
      case '+': case '-': case '*': case '/': case '%': return this.assign(`H.arith(${l}, ${r}) ? ${l} ${op} ${r} : undefined`)
      case '<': case '<=': case '>': case '>=': return this.assign(`H.compare(${l}, ${r}) ? ${l} ${op} ${r} : undefined`)
      case '&': return this.assign(`H.cat(${l}, ${r})`)
      case 'in': return this.assign(`H.in(${l}, ${r})`)
      case '..': return this.assign(`H.range(${l}, ${r})`)
      default: throw new Unsupported(`operator ${op}`)
    }
  }

  /** The array constructor: items appended (an array item flattened one level, a nested constructor kept whole). */
  private array(n: Node, s: Scope, ctx: string): string {
    const t = this.assign('[]')
    for (const e of n.expressions as Node[]) {
      const x = this.v(e, s, ctx)
      if (e.value === '[') this.out(`if (${x} !== undefined) ${t}.push(${x});`)
      else this.out(`if (${x} !== undefined) { if (H.isArray(${x})) H.pushAll(${t}, ${x}); else ${t}.push(${x}); }`)
    }
    if (n.consarray) this.out(`H.defineCons(${t});`)
    return t
  }

  private condition(n: Node, s: Scope, ctx: string, branch: (b: Node) => string): string {
    const c = this.v(n.condition, s, ctx)
    const t = this.tmp()
    this.out(`if (${c} === true || (${c} !== false && H.toBoolean(${c}))) {`)
    this.out(`${t} = ${branch(n.then)};\n} else {`)
    this.out(`${t} = ${n.else === undefined ? 'undefined' : branch(n.else)};\n}`)
    return t
  }

  private block(n: Node, each: (x: Node, bs: Scope, last: boolean) => string): string {
    const bs = this.a.scopeOf.get(n)!
    const t = this.tmp()
    this.out('{')
    this.declareScope(bs)
    let last = 'undefined'
    const xs = n.expressions as Node[]
    xs.forEach((x, i) => { last = each(x, bs, i === xs.length - 1) })
    this.out(`${t} = ${last};\n}`)
    return t
  }

  private lambda(n: Node, s: Scope, ctx: string): string {
    if (n.thunk) throw new Unsupported('a tail-call thunk outside a tail position')
    const ls = this.a.scopeOf.get(n)!
    const params = (n.arguments as Node[]).map((p) => this.varId(ls, p.value))
    const isAsync = this.a.asyncLambdas.has(n)
    const f = this.func(ctx, isAsync, () => {
      this.declareScope(ls, new Set((n.arguments as Node[]).map((p) => p.value as string)))
      return this.v(n.body, ls, ctx, true)
    })
    // the function's length is its arity (hofFuncArgs reads it)
    // named after the lambda's offset in the source, so that profiles can be read
    return this.assign(`${f.async ? 'async ' : ''}function at${n.position ?? 0}(${params.join(', ')}) {\nrt.enter(1);\ntry {\n${f.body}\n} finally { rt.depth--; }\n}`)
  }

  /** A call's own work (v() adds the wrapping): a library function bound by name, or a function value. */
  private call(n: Node, s: Scope, ctx: string, first?: string): string {
    const args = (n.arguments as Node[]).map((x) => this.v(x, s, ctx))
    if (first !== undefined) args.unshift(first)
    const p = n.procedure
    const free = p.type === 'variable' && p.value !== '' && p.value !== '$' && declaring(p.value, s).length === 0
    if (free && this.shared && (Object.hasOwn(this.shared.fns, p.value) || this.shared.unsupported.has(p.value))) {
      if (this.shared.unsupported.has(p.value)) throw new Unsupported(`the library's $${p.value}: ${this.shared.unsupported.get(p.value)}`)
      // a definition runs on its caller's runtime
      return this.assign(`LF[${JSON.stringify(p.value)}](rt${args.map((x) => ', ' + x).join('')})`)
    }
    if (free && !this.registered.has(p.value) && BUILTINS.has(p.value)) return this.builtin(n, s, p.value, args)
    if (free && this.registered.has(p.value)) {
      this.calledLibrary.add(p.value)
      this.spend(args)
      return this.assign(`L[${JSON.stringify(p.value)}](${args.join(', ')})`)
    }
    if (free && INTERPRETED_BUILTINS.has(p.value)) throw new Unsupported(`$${p.value}`)
    const callee = this.v(p, s, ctx)
    if (this.a.tainted && callMayAwait(n, s, this.a, this.registered)) {
      const t = this.assign(`H.callMaybe(${callee}, [${args.join(', ')}], ${ctx})`)
      this.settle(t)
      return t
    }
    // called directly: no function here reads `this`, and an argument array per call is what H.call costs
    const t = this.assign(`typeof ${callee} === 'function' ? ${callee}(${args.join(', ')}) : H.notCallable()`)
    this.out(`if (H.isPromise(${t})) H.unexpectedPromise();`)
    return t
  }

  private builtin(n: Node, s: Scope, name: string, args: string[]): string {
    const b = BUILTINS.get(name)!
    if (!positional(b, args.length)) throw new Unsupported(`$${name} with ${args.length} arguments`)
    this.calledLibrary.add(name)
    const [x, y] = args
    // the commonest calls, inline: their signatures accept any value
    if (name === 'exists' && args.length === 1) return this.assign(`${x} !== undefined`)
    if (name === 'count' && args.length === 1) return this.assign(`${x} === undefined ? 0 : H.isArray(${x}) ? ${x}.length : 1`)
    if (name === 'not' && args.length === 1) return this.assign(`${x} === undefined ? undefined : !H.toBoolean(${x})`)
    if (name === 'lookup' && args.length === 2 && isLiteralString(n.arguments[1])) return this.assign(`H.lookup(${x}, ${y})`)
    this.spend(args)
    if (b.hof && this.a.tainted && callMayAwait(n, s, this.a, this.registered)) {
      const t = this.assign(`BA.${name}(${args.join(', ')})`)
      this.settle(t)
      return t
    }
    return this.assign(`B.${name}(${args.join(', ')})`)
  }

  /** The time check before a library call, weighed by its arguments (Runtime.spend). */
  private spend(args: string[]): void {
    if (args.length) this.out(`rt.spend(${args.map((a) => `H.size(${a})`).join(' + ')});`)
  }

  /** `lhs ~> $f(args)` calls $f with lhs first; `lhs ~> $f` applies a function value. */
  private apply(n: Node, s: Scope, ctx: string): string {
    const lhs = this.v(n.lhs, s, ctx)
    // evaluateFunction is called directly: the rhs node's own predicates and exit do not apply
    if (n.rhs.type === 'function') return this.call(n.rhs, s, ctx, lhs)
    const f = this.v(n.rhs, s, ctx)
    const t = this.assign(`H.applyTo(${f}, ${lhs}, ${this.a.tainted})`)
    if (this.a.tainted) this.settle(t)
    return t
  }

  /** A lambda body's tail: calls return their raw value; other results get the exits of the nodes around them. */
  private tail(n: Node, s: Scope, ctx: string, exits: number): string {
    if (n.predicate || n.group || n.keepArray) throw new Unsupported('a predicate on a tail call')
    // the parser's thunk: a call in tail position, whose value the trampoline returns as it is
    if (n.type === 'lambda') return this.call(n.body, s, ctx)
    const branch = (b: Node, sc: Scope): string => {
      if (tailCalls(b)) return this.tail(b, sc, ctx, exits + 1)
      let x = this.v(b, sc, ctx)
      for (let k = 0; k <= exits; k++) x = this.assign(`H.unwrap(${x})`)
      return x
    }
    if (n.type === 'condition') return this.condition(n, s, ctx, (b) => branch(b, s))
    return this.block(n, (x, bs, last) => (last ? branch(x, bs) : this.v(x, bs, ctx)))
  }

  // ---- paths, predicates, grouping ----

  /** evaluatePath (v() adds the unwrapping). */
  private path(n: Node, s: Scope, ctx: string): string {
    const steps = n.steps as Node[]
    const firstIsVariable = steps[0]!.type === 'variable'
    const simple = !this.a.tupleScopeOf.has(n) && !n.group && !n.keepSingletonArray && steps.every((st) => !st.stages) &&
      steps.every((st, i) => (i === 0 && firstIsVariable) || isPlainName(st))
    return simple ? this.walk(n, s, ctx) : this.steps(n, s, ctx)
  }

  /** `$x.a.b` / `a.b`: own-property reads while the values are objects (H.walk); an array hands over to the general loop. */
  private walk(n: Node, s: Scope, ctx: string): string {
    const steps = n.steps as Node[]
    const first = steps[0]!
    if (first.type === 'variable') {
      const start = this.v(first, s, ctx)
      const names = steps.slice(1).map((st) => st.value as string)
      const k = this.k(names)
      return this.inlineWalk(start, names, k, `H.walk(${start}, ${k}, 0, rt)`, !n.keepArray)
    }
    const names = steps.map((st) => st.value as string)
    const k = this.k(names)
    return this.inlineWalk(ctx, names, k, `H.walkFrom(${ctx}, ${k}, rt)`, !n.keepArray)
  }

  /**
   * H.walk written out for objects: a read with a constant key at each step (an inline cache per
   * site, where H.field's variable key is megamorphic). Wherever a value is an array, H.walk takes
   * over from the object before it; a start that is not an object goes to `slow`. Keys that
   * Object.prototype has would read inherited values: those paths keep H.walk.
   */
  private inlineWalk(start: string, names: string[], k: string, slow: string, unwrap: boolean): string {
    if (names.length === 0 || names.some((name) => name in Object.prototype || name === '__proto__')) return this.assign(slow)
    const isObject = (x: string) => `(${x} !== null && typeof ${x} === 'object' && !H.isArray(${x}))`
    const r = this.tmp()
    const xs = names.map(() => this.tmp())
    this.out(`if (${isObject(start)}) {`)
    // with `unwrap`, every branch unwraps what H.walk returns (a value read from an object is never a
    // sequence to unwrap) and node() need not; a path kept as an array (keepArray) is unwrapped there
    const u = (x: string) => (unwrap ? `H.unwrap(${x})` : x)
    names.forEach((name, i) => {
      const before = i === 0 ? start : xs[i - 1]!
      this.out(`${xs[i]} = ${before}[${JSON.stringify(name)}];`)
      if (i < names.length - 1) this.out(`if (${isObject(xs[i]!)}) {`)
      else this.out(`${r} = H.isArray(${xs[i]}) ? ${u(`H.walk(${before}, ${k}, ${i}, rt)`)} : ${xs[i]};`)
    })
    // a value that is neither an object nor an array ends the path: a name step on it is nothing
    for (let i = names.length - 2; i >= 0; i--) {
      this.out(`} else ${r} = H.isArray(${xs[i]}) ? ${u(`H.walk(${i === 0 ? start : xs[i - 1]}, ${k}, ${i}, rt)`)} : undefined;`)
    }
    this.out(`} else ${r} = ${u(slow)};`)
    if (unwrap) this.unwrapped.add(r)
    return r
  }

  /** The general path: evaluatePath's loop unrolled, a loop over the items for each step. */
  private steps(n: Node, s: Scope, ctx: string): string {
    const steps = n.steps as Node[]
    const tupleScope = this.a.tupleScopeOf.get(n)
    if (tupleScope && n.group) throw new Unsupported('grouping a tuple stream')
    const input = this.id('i')
    const result = this.tmp()
    const tuples = this.id('u')
    const inTuples = this.id('m')
    const label = this.id('S')
    this.out(`let ${input} = ${steps[0]!.type === 'variable' ? `H.seq1(${ctx})` : `H.isArray(${ctx}) ? ${ctx} : H.seq1(${ctx})`}, ${tuples}, ${inTuples} = false;`)
    this.out(`${label}: {`)
    let tupleMode = false
    steps.forEach((st, i) => {
      if (st.tuple) tupleMode = true
      const last = i === steps.length - 1
      if (i === 0 && st.consarray) {
        this.out(`${result} = ${this.v(st, s, input)};`)
      } else if (tupleMode) {
        this.out(`${inTuples} = true;`)
        this.tupleStep(st, tupleScope!, input, tuples)
        return
      } else {
        const o = this.assign('[]')
        const j = this.id('j'), c = this.id('c')
        this.out(`for (let ${j} = 0; ${j} < ${input}.length; ${j}++) {\nconst ${c} = ${input}[${j}];\nrt.tick();`)
        let x = this.v(st, s, c)
        for (const g of st.stages ?? []) x = this.filter(x, g.expr, s, null)
        this.out(`if (${x} !== undefined) ${o}.push(${x});\n}`)
        this.out(`${result} = H.flatten(${o}, ${last});`)
      }
      // (a first step that constructs an array is evaluated whole: with a predicate it may be nothing, or one value)
      this.out(`if (${result} === undefined || ${result}.length === 0) break ${label};`)
      if (!last) this.out(`${input} = ${result};`)
    })
    this.out('}')
    if (tupleMode) this.out(`if (${inTuples}) ${result} = H.fromTuples(${tuples});`)
    if (n.keepSingletonArray) this.out(`${result} = H.keepSingleton(${result});`)
    if (n.group) return this.group(n.group, s, result)
    return result
  }

  /** evaluateTupleStep: the step evaluated in each tuple's frame, then its stages on the new tuple stream. */
  private tupleStep(st: Node, ts: Scope, input: string, tuples: string): void {
    const tin = this.assign(`${tuples} === undefined ? H.tuples(${input}) : ${tuples}`)
    const to = this.assign('H.tupleStream()')
    const j = this.id('j'), tu = this.id('w'), c = this.id('c')
    this.out(`for (let ${j} = 0; ${j} < ${tin}.length; ${j}++) {\nconst ${tu} = ${tin}[${j}], ${c} = ${tu}['@'];\nrt.tick();`)
    this.bindTuple(ts, tu)
    const x = this.v(st, ts, c)
    this.out(`H.addTuples(${to}, ${tu}, ${x}, ${st.index === undefined ? 'undefined' : JSON.stringify(st.index)});\n}`)
    let cur = to
    for (const g of st.stages ?? []) {
      if (g.type === 'index') this.out(`H.indexStage(${cur}, ${JSON.stringify(g.value)});`)
      else cur = this.filter(cur, g.expr, ts, ts)
    }
    this.out(`${tuples} = ${cur};`)
  }

  /** createFrameFromTuple: the tuple scope's names, from the tuple's own keys. */
  private bindTuple(ts: Scope, tu: string): void {
    const names = [...ts.names.keys()]
    if (names.length) this.out(`let ${names.map((nm) => `${this.varId(ts, nm)} = H.has(${tu}, ${JSON.stringify(nm)}) ? ${tu}[${JSON.stringify(nm)}] : U`).join(', ')};`)
  }

  /** evaluateFilter: a number literal indexes; any other predicate keeps the items it holds for. */
  private filter(x: string, pred: Node, s: Scope, tuple: Scope | null): string {
    if (pred.type === 'number') return this.assign(`H.index(${x}, ${Math.floor(pred.value)})`)
    const r = this.assign(`H.filterStart(${x})`)
    const items = this.assign(`H.items(${x})`)
    const j = this.id('j'), c = this.id('c')
    this.out(`for (let ${j} = 0; ${j} < ${items}.length; ${j}++) {\nconst ${c} = ${items}[${j}];\nrt.tick();`)
    let ctx = c
    if (tuple) {
      this.bindTuple(tuple, c)
      ctx = this.id('c')
      this.out(`const ${ctx} = ${c}['@'];`)
    }
    const p = this.v(pred, tuple ?? s, ctx)
    this.out(`if (${p} === true) ${r}.push(${c}); else if (${p} !== false && ${p} !== undefined) H.keep(${r}, ${items}, ${j}, ${c}, ${p});\n}`)
    return r
  }

  /**
   * An object constructor on the context: each pair evaluated in place. On an array context it would
   * group the items (evaluateGroupExpression); that case is left to the interpreter, so that nested
   * constructors do not carry a second, grouping copy of their code.
   */
  private object(pairs: Node[][], s: Scope, ctx: string): string {
    this.out(`if (H.isArray(${ctx})) H.grouping();`)
    return this.pairs(pairs, s, ctx)
  }

  /** The pairs of a constructor on one item; keys must be strings, and two pairs must not make the same key. */
  private pairs(pairs: Node[][], s: Scope, ctx: string): string {
    const t = this.assign('{}')
    const keys = pairs.map(([k]) => (k!.type === 'string' && isPlain(k!) ? (k!.value as string) : null))
    const constant = keys.filter((k) => k !== null)
    if (new Set(constant).size !== constant.length) this.out('H.duplicateKey();')
    const seen = keys.some((k) => k === null) && pairs.length > 1 ? this.assign('new Set()') : null
    pairs.forEach(([kn, vn], p) => {
      const constantKey = keys[p]
      let key: string
      if (constantKey !== null) key = JSON.stringify(constantKey)
      else {
        key = this.assign(`H.key(${this.v(kn!, s, ctx)})`)
        this.out(`if (${key} !== undefined) {`)
      }
      if (seen) this.out(`if (${seen}.has(${key})) H.duplicateKey();\n${seen}.add(${key});`)
      const v = this.v(vn!, s, ctx)
      if (constantKey !== null && constantKey !== '__proto__') this.out(`if (${v} !== undefined) ${t}[${key}] = ${v};`)
      else this.out(`if (${v} !== undefined) H.setKey(${t}, ${key}, ${v});`)
      if (constantKey === null) this.out('}')
    })
    return t
  }

  /** A grouping on a node's value (`$x{key: value}`): evaluateGroupExpression over its items. */
  private group(g: Node, s: Scope, input: string): string {
    const pairs = g.lhs as Node[][]
    const keyFn = this.func('c', false, (c) => {
      this.out('switch (p) {')
      pairs.forEach(([kn], p) => { this.out(`case ${p}: {`); this.out(`return ${this.v(kn!, s, c)};\n}`) })
      this.out('}')
      return 'undefined'
    })
    const valueFn = this.func('c', this.fn.canAwait, (c) => {
      this.out('switch (p) {')
      pairs.forEach(([, vn], p) => { this.out(`case ${p}: {`); this.out(`return ${this.v(vn!, s, c)};\n}`) })
      this.out('}')
      return 'undefined'
    })
    if (keyFn.async) throw new Unsupported('an object key that awaits')
    const t = this.assign(`H.${valueFn.async ? 'groupAsync' : 'group'}(${input}, ${pairs.length}, (p, c) => {\n${keyFn.body}\n}, ${valueFn.async ? 'async ' : ''}(p, c) => {\n${valueFn.body}\n})`)
    if (valueFn.async) this.settle(t)
    return t
  }
}

/** Node types worth a function of their own when large (a lambda already is one). */
const OUTLINED = new Set(['block', 'condition', 'unary', 'path', 'function', 'bind'])
const OUTLINE_NODES = 60

/** Nodes in a subtree, lambda bodies excluded (they are functions of their own). */
const sizes = new WeakMap<Node, number>()
function size(n: Node | undefined): number {
  if (!n || typeof n !== 'object') return 0
  let k = sizes.get(n)
  if (k !== undefined) return k
  k = 1
  if (n.type === 'lambda' && !n.thunk) return k
  for (const key of CHILDREN) {
    const c = n[key]
    if (!c) continue
    if (Array.isArray(c)) for (const x of c) k += Array.isArray(x) ? size(x[0]) + size(x[1]) : size(x.expr ?? x)
    else k += key === 'group' ? size({ type: 'group', lhs: c.lhs } as Node) : size(c)
  }
  sizes.set(n, k)
  return k
}
const CHILDREN = ['steps', 'lhs', 'rhs', 'expression', 'expressions', 'condition', 'then', 'else', 'procedure', 'arguments', 'body', 'predicate', 'stages', 'group'] as const

/** Whether this node's tail holds one of the parser's tail-call thunks. */
function tailCalls(n: Node): boolean {
  if (n.type === 'lambda') return !!n.thunk
  if (n.type === 'condition') return tailCalls(n.then) || (n.else !== undefined && tailCalls(n.else))
  if (n.type === 'block') return n.expressions.length > 0 && tailCalls(n.expressions[n.expressions.length - 1])
  return false
}

const isPlain = (n: Node): boolean => !n.predicate && !n.group && !n.keepArray && !n.stages
const isPlainName = (st: Node): boolean => st.type === 'name' && isPlain(st) && !st.tuple
const isLiteral = (n: Node): boolean => (n.type === 'string' || n.type === 'number' || n.type === 'value') && isPlain(n)
const isLiteralString = (n: Node): boolean => n.type === 'string' && isPlain(n)
