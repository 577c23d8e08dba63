// Paths and grouping, compiled: evaluatePath, evaluateStep, evaluateTupleStep, evaluateStages and
// evaluateGroupExpression of jsonata 2.2, with a fast lane for the common `$x.a.b` / `a.b` walk over
// objects that hands over to the general algorithm the moment it meets an array.
import { setKey } from './builtins.js'
import { tupleFrameOf, type Compiled, type Compiler } from './program.js'
import { fallback, type Fn, type Frame, type Runtime } from './runtime.js'
import type { Node, Scope } from './scope.js'
import { append, isSequence, seq, unwrap, type Sequence } from './values.js'

type Filter = (items: unknown, env: Frame) => unknown
type Stage = { filter: Filter } | { index: string }
interface Step {
  fn: Fn
  async: boolean
  /** Filters applied to each item's result (plain steps) or stages on the tuple stream. */
  stages: Stage[]
  tuple: boolean
  consarray: boolean
  index: string | undefined
  tupleFrame: ((t: Record<string, unknown>, env: Frame) => Frame) | null
}

const has = Object.prototype.hasOwnProperty
const rtOf = (e: Frame): Runtime => e[1] as Runtime
type Tuple = Record<string, unknown>

export function compilePath(c: Compiler, n: Node, s: Scope): Compiled {
  const tupleScope = c.a.tupleScopeOf.get(n)
  const tupleFrame = tupleScope ? tupleFrameOf(tupleScope) : null
  let inTuple = false
  const steps: Step[] = (n.steps as Node[]).map((st) => {
    if (st.tuple) inTuple = true
    const here = inTuple ? tupleScope! : s
    const fn = c.node(st, here)
    let async = fn.async
    const stages: Stage[] = (st.stages ?? []).map((g: Node): Stage => {
      if (g.type === 'index') return { index: g.value }
      const f = c.filter(g.expr, here, inTuple ? tupleScope : undefined)
      async ||= f.async
      return { filter: f.fn }
    })
    return { fn: fn.fn, async, stages, tuple: !!st.tuple, consarray: !!st.consarray, index: st.index, tupleFrame: inTuple ? tupleFrame : null }
  })
  const group = n.group ? compileGroup(c, n.group, tupleScope ?? s, undefined, tupleScope) : null
  const firstIsVariable = n.steps[0].type === 'variable'
  const keepSingleton = !!n.keepSingletonArray
  const last = steps.length - 1

  if (steps.some((st) => st.async) || group?.async) return { fn: asyncPath(steps, firstIsVariable, keepSingleton, group), async: true }

  const plainStep = (i: number, input: unknown[], env: Frame): unknown[] => {
    const st = steps[i]!
    const out: unknown[] = []
    const rt = rtOf(env)
    for (let k = 0; k < input.length; k++) {
      rt.tick()
      let res = st.fn(input[k], env)
      for (const g of st.stages) res = (g as { filter: Filter }).filter(res, env)
      if (res !== undefined) out.push(res)
    }
    return flatten(out, i === last)
  }
  const tupleStep = (i: number, input: unknown[], tuples: Tuple[] | undefined, env: Frame): Sequence => {
    const st = steps[i]!
    let out = seq() as Sequence
    out.tupleStream = true
    for (const t of tuples ?? input.map((item) => ({ '@': item }))) {
      const r = st.fn(t['@'], st.tupleFrame!(t, env))
      addTuples(out, t, r, st)
    }
    for (const g of st.stages) out = stage(g, out, env)
    return out
  }
  const run = (from: number, input: unknown[], env: Frame): unknown => {
    let result: unknown[] | undefined
    let tuples: Tuple[] | undefined
    let isTuple = false
    for (let i = from; i < steps.length; i++) {
      const st = steps[i]!
      if (st.tuple) isTuple = true
      if (i === 0 && st.consarray) result = st.fn(input, env) as unknown[]
      else if (isTuple) tuples = tupleStep(i, input, tuples, env) as Tuple[]
      else result = plainStep(i, input, env)
      if (!isTuple && (result === undefined || result.length === 0)) break
      input = result!
    }
    return finish(result, tuples, isTuple, keepSingleton, group?.fn ?? null, env)
  }

  // The fast lane: `$x.a.b` or `a.b` with plain name steps, while the values are objects.
  const simple = !tupleScope && !group && !keepSingleton && steps.every((st) => st.stages.length === 0) &&
    (n.steps as Node[]).every((st, i) => (i === 0 ? st.type === 'variable' || isPlainName(st) : isPlainName(st)))
  if (!simple) {
    return { fn: (input, env) => run(0, Array.isArray(input) && !firstIsVariable ? input : seq(input), env), async: false }
  }
  const names = (n.steps as Node[]).slice(1).map((st) => st.value as string)
  const first = steps[0]!.fn
  const firstName: string | null = firstIsVariable ? null : n.steps[0].value
  return {
    fn: (input, env) => {
      let v: unknown
      if (firstName === null) v = first(input, env)
      else if (Array.isArray(input)) return run(0, input, env)
      else v = input !== null && typeof input === 'object' && has.call(input, firstName) ? unwrap((input as Tuple)[firstName]) : undefined
      for (let k = 0; ; k++) {
        if (v === undefined) return undefined
        if (Array.isArray(v)) {
          // the step's result flattened, as evaluateStep does; the remaining steps run the general way
          if (k === names.length) return flatten([v], true)
          const next = flatten([v], false)
          return next.length === 0 ? undefined : run(k + 1, next, env)
        }
        if (k === names.length) return v
        v = v !== null && typeof v === 'object' && has.call(v, names[k]!) ? unwrap((v as Tuple)[names[k]!]) : undefined
      }
    },
    async: false,
  }
}

const isPlainName = (st: Node): boolean => st.type === 'name' && !st.predicate && !st.group && !st.keepArray && !st.stages && !st.tuple

/** evaluateStep's result: a lone plain array at the last step stays as it is; otherwise items are flattened one level. */
function flatten(out: unknown[], lastStep: boolean): unknown[] {
  if (lastStep && out.length === 1 && Array.isArray(out[0]) && !isSequence(out[0])) return out[0]
  const r = seq()
  for (const res of out) {
    if (!Array.isArray(res) || (res as Sequence).cons) r.push(res)
    else for (const v of res) r.push(v)
  }
  return r
}

function addTuples(out: Sequence, t: Tuple, r: unknown, st: Step): void {
  if (r === undefined) return
  const rs = Array.isArray(r) ? r : [r]
  if ((rs as Sequence).tupleStream) fallback('a nested tuple stream')
  for (let bb = 0; bb < rs.length; bb++) {
    const tuple: Tuple = { ...t, '@': rs[bb] }
    if (st.index !== undefined) tuple[st.index] = bb
    out.push(tuple)
  }
}

function stage(g: Stage, items: Sequence, env: Frame): Sequence {
  if ('index' in g) {
    for (let ee = 0; ee < items.length; ee++) (items[ee] as Tuple)[g.index] = ee
    return items
  }
  return g.filter(items, env) as Sequence
}

function finish(result: unknown[] | undefined, tuples: Tuple[] | undefined, isTuple: boolean, keepSingleton: boolean, group: Fn | null, env: Frame): unknown {
  if (isTuple) {
    result = seq()
    for (const t of tuples!) result.push(t['@'])
  }
  if (keepSingleton) {
    if (Array.isArray(result) && (result as Sequence).cons && !isSequence(result)) result = seq(result)
    ;(result as Sequence).keepSingleton = true
  }
  return group ? group(isTuple ? tuples : result, env) : result
}

function asyncPath(steps: Step[], firstIsVariable: boolean, keepSingleton: boolean, group: Compiled | null): Fn {
  const last = steps.length - 1
  return async (input0, env) => {
    let input: unknown[] = Array.isArray(input0) && !firstIsVariable ? input0 : seq(input0)
    let result: unknown[] | undefined
    let tuples: Tuple[] | undefined
    let isTuple = false
    for (let i = 0; i < steps.length; i++) {
      const st = steps[i]!
      if (st.tuple) isTuple = true
      if (i === 0 && st.consarray) result = (await st.fn(input, env)) as unknown[]
      else if (isTuple) {
        let out = seq() as Sequence
        out.tupleStream = true
        for (const t of tuples ?? input.map((item) => ({ '@': item }))) addTuples(out, t, await st.fn(t['@'], st.tupleFrame!(t, env)), st)
        for (const g of st.stages) out = 'index' in g ? stage(g, out, env) : ((await g.filter(out, env)) as Sequence)
        tuples = out as Tuple[]
      } else {
        const out: unknown[] = []
        for (const item of input) {
          let res = await st.fn(item, env)
          for (const g of st.stages) res = await (g as { filter: Filter }).filter(res, env)
          if (res !== undefined) out.push(res)
        }
        result = flatten(out, i === last)
      }
      if (!isTuple && (result === undefined || result.length === 0)) break
      input = result!
    }
    if (group) {
      const r = finish(result, tuples, isTuple, keepSingleton, null, env)
      return group.fn(isTuple ? tuples : r, env)
    }
    return finish(result, tuples, isTuple, keepSingleton, null, env)
  }
}

/**
 * evaluateGroupExpression: an object constructor on the input, or a group-by on a source's result.
 * Keys must be strings; items whose keys are equal are appended; each value is evaluated on its group.
 */
export function compileGroup(c: Compiler, g: Node, s: Scope, source?: Compiled, tupleScope?: Scope): Compiled {
  const pairs = (g.lhs as Node[][]).map(([k, v]) => [c.node(k!, s), c.node(v!, s)] as const)
  const keys = pairs.map((p) => p[0].fn)
  const values = pairs.map((p) => p[1].fn)
  const tupleFrame = tupleScope ? tupleFrameOf(tupleScope) : null
  const anyAsync = pairs.some(([k, v]) => k.async || v.async)
  const literal = (g.lhs as Node[][]).map(([k]) => (k!.type === 'string' ? (k!.value as string) : null))
  const constantKeys = !source && literal.every((k) => k !== null) && new Set(literal).size === literal.length

  const groupSync = (input: unknown, env: Frame): Record<string, unknown> => {
    if (constantKeys && !Array.isArray(input)) {
      // one item, keys known: the object straight away
      const out: Record<string, unknown> = {}
      for (let k = 0; k < values.length; k++) {
        const v = values[k]!(input, env)
        if (v !== undefined) setKey(out, literal[k]!, v)
      }
      return out
    }
    const reduce = !!(input && (input as Sequence).tupleStream)
    const items = (Array.isArray(input) ? input : seq(input)) as unknown[]
    if (items.length === 0 && !reduce) items.push(undefined)
    const groups = new Map<string, { data: unknown; exprIndex: number }>()
    for (const item of items) {
      const env2 = reduce ? tupleFrame!(item as Tuple, env) : env
      for (let p = 0; p < keys.length; p++) collectKey(groups, keys[p]!(reduce ? (item as Tuple)['@'] : item, env2), p, item)
    }
    const out: Record<string, unknown> = {}
    for (const [key, entry] of groups) {
      const [ctx, env3] = reduce ? reduced(entry.data, env, tupleFrame!) : [entry.data, env]
      const v = values[entry.exprIndex]!(ctx, env3)
      if (v !== undefined) setKey(out, key, v)
    }
    return out
  }
  const groupAsync = async (input: unknown, env: Frame): Promise<Record<string, unknown>> => {
    const reduce = !!(input && (input as Sequence).tupleStream)
    const items = (Array.isArray(input) ? input : seq(input)) as unknown[]
    if (items.length === 0 && !reduce) items.push(undefined)
    const groups = new Map<string, { data: unknown; exprIndex: number }>()
    for (const item of items) {
      const env2 = reduce ? tupleFrame!(item as Tuple, env) : env
      for (let p = 0; p < keys.length; p++) collectKey(groups, await keys[p]!(reduce ? (item as Tuple)['@'] : item, env2), p, item)
    }
    const out: Record<string, unknown> = {}
    for (const [key, entry] of groups) {
      const [ctx, env3] = reduce ? reduced(entry.data, env, tupleFrame!) : [entry.data, env]
      const v = await values[entry.exprIndex]!(ctx, env3)
      if (v !== undefined) setKey(out, key, v)
    }
    return out
  }

  if (!source) return anyAsync ? { fn: groupAsync, async: true } : { fn: groupSync, async: false }
  const src = source.fn
  if (!anyAsync && !source.async) return { fn: (i, e) => groupSync(src(i, e), e), async: false }
  return { fn: async (i, e) => (anyAsync ? groupAsync : groupSync)(await src(i, e), e), async: true }
}

function collectKey(groups: Map<string, { data: unknown; exprIndex: number }>, key: unknown, p: number, item: unknown): void {
  if (key === undefined) return
  if (typeof key !== 'string') fallback('an object key that is not a string')
  if (key === '_jsonata_lambda' || key === '_jsonata_function') fallback('a reserved object key')
  const entry = groups.get(key as string)
  if (!entry) { groups.set(key as string, { data: item, exprIndex: p }); return }
  if (entry.exprIndex !== p) fallback('two key expressions with the same key')
  entry.data = append(entry.data, item)
}

/** reduceTupleStream: one tuple of a group, the bindings of its members appended; its '@' is the context. */
function reduced(data: unknown, env: Frame, tupleFrame: (t: Tuple, env: Frame) => Frame): [unknown, Frame] {
  let t: Tuple
  if (!Array.isArray(data)) t = { ...(data as Tuple) }
  else {
    t = { ...(data[0] as Tuple) }
    for (let i = 1; i < data.length; i++) for (const k of Object.keys(data[i] as Tuple)) t[k] = append(t[k], (data[i] as Tuple)[k])
  }
  const ctx = t['@']
  delete t['@']
  return [ctx, tupleFrame(t, env)]
}
