// `{raw: …}` parts of an upstream path are pasted unencoded: a value a client chose could change the
// path or add a query. A raw part is trusted when every value it can produce is: text and number
// literals, `$vars` fields, `$env()`, the engine's own `$ctx` fields (id, created, rule, upstream),
// joined with `&`, chosen by a condition (the condition itself may read the request: it only picks
// one of the trusted values). Anything else in a result position warns.
import jsonata from 'jsonata'
import { placeWithin } from '../expr/evaluate.js'
import type { ProblemList } from './problems.js'
import type { Ruleset } from './ruleset.js'

/** The parts of jsonata's AST this check reads. */
interface Node {
  type: string
  value?: unknown
  position?: number
  steps?: Node[]
  then?: Node
  else?: Node
  expressions?: Node[]
  lhs?: Node
  rhs?: Node
  procedure?: Node
  arguments?: Node[]
  stages?: unknown[]
  predicate?: unknown[]
}

const ENGINE_CTX = new Set(['id', 'created', 'rule', 'upstream'])

export function lintRawTemplates(ruleset: Ruleset, problems: ProblemList): void {
  const done = new Set<string>()
  for (const rule of ruleset.rules) {
    for (const target of rule.targets) {
      for (const part of target.upstream.path.parts) {
        if (typeof part === 'string' || !part.raw) continue
        const p = part.value
        const key = `${p.at.file}:${p.at.line}:${p.at.col}`
        if (done.has(key)) continue
        done.add(key)
        const found = untrusted(p.expr.source)
        if (found) {
          problems.warn(placeWithin(p, found.offset), 'RE_RAW_TEMPLATE', `{raw: …} pastes this value into the upstream URL unencoded, and ${found.what} can come from the request: a client could change the path or add a query parameter. Let raw: produce only literals, $vars, $env() or the engine's $ctx.id/created/rule/upstream, or drop raw: to have the value encoded`)
        }
      }
    }
  }
}

/** The first result position of an expression whose value is not trusted; null when all are. */
export function untrusted(source: string): { what: string; offset: number } | null {
  let ast: Node
  try { ast = jsonata(source).ast() as unknown as Node } catch { return null }
  return check(ast)
}

function check(n: Node): { what: string; offset: number } | null {
  switch (n.type) {
    case 'string': case 'number': case 'value': return null
    case 'condition': return check(n.then!) ?? (n.else ? check(n.else) : null)
    case 'block': return n.expressions?.length ? check(n.expressions.at(-1)!) : null
    case 'binary': if (n.value === '&') return check(n.lhs!) ?? check(n.rhs!); break
    case 'function':
      if (n.procedure?.type === 'variable' && n.procedure.value === 'env' && (n.arguments ?? []).every((a) => a.type === 'string')) return null
      break
    case 'path': {
      const [first, ...rest] = n.steps ?? []
      const plain = rest.every((s) => s.type === 'name' && !s.stages && !s.predicate) && !first?.stages && !first?.predicate
      if (first?.type === 'variable' && plain && (first.value === 'vars' || (first.value === 'ctx' && rest.length === 1 && ENGINE_CTX.has(String(rest[0]!.value))))) return null
      break
    }
  }
  return { what: describe(n), offset: startOf(n) }
}

/** `$request.model`, `$ctx.path`, `model`: how the warning names a value. */
function describe(n: Node): string {
  if (n.type === 'path' && n.steps?.every((s) => s.type === 'name' || s.type === 'variable')) return n.steps.map((s) => (s.type === 'variable' ? '$' : '') + String(s.value)).join('.')
  if (n.type === 'variable') return `$${String(n.value)}`
  if (n.type === 'name') return String(n.value)
  return `the ${n.type} expression`
}

/** 0-based offset of a node's first token (jsonata records where tokens end). */
function startOf(n: Node): number {
  const first = n.type === 'path' ? n.steps?.[0] : n
  if (!first) return 0
  const len = first.type === 'variable' ? String(first.value).length + 1 : first.type === 'name' ? String(first.value).length : 1
  return Math.max(0, (first.position ?? 1) - len)
}
