// Unknown bindings: a `$name` that is neither a binding the engine passes ($request, $ctx, …), nor a
// function, nor a library definition, nor defined in the expression itself (`$x := …`, a lambda's parameters, `@$x`, `#$i`).
// JSONata reads an unknown variable as undefined without a word, so `$reqest.model` is silently
// nothing: lint says where.
import jsonata from 'jsonata'
import { placeWithin } from '../expr/evaluate.js'
import { FUNCTION_NAMES } from '../expr/functions.js'
import { BINDINGS, JSONATA_BUILTINS } from './compile.js'
import type { ProblemList } from './problems.js'
import type { PlacedExpr, Ruleset } from './ruleset.js'

/** Every compiled expression of a ruleset, once each (rules, pipelines, stream programs, templates, error writers). */
export function expressions(ruleset: Ruleset): PlacedExpr[] {
  const out = new Set<PlacedExpr>()
  const seen = new Set<object>()
  const walk = (v: unknown): void => {
    if (!v || typeof v !== 'object' || seen.has(v)) return
    seen.add(v)
    if (isPlaced(v)) { out.add(v); return }
    if (v instanceof Map) { for (const x of v.values()) walk(x); return }
    if (v instanceof RegExp || v instanceof Date) return
    for (const x of Object.values(v)) walk(x)
  }
  walk(ruleset.rules)
  walk((ruleset as { pipelines?: unknown }).pipelines)
  walk((ruleset as { errorWriters?: unknown }).errorWriters)
  return [...out]
}

const isPlaced = (v: object): v is PlacedExpr =>
  'expr' in v && 'at' in v && typeof (v as PlacedExpr).expr?.evaluate === 'function'

export function lintBindings(ruleset: Ruleset, problems: ProblemList): void {
  const done = new Set<string>()
  for (const p of expressions(ruleset)) {
    const key = `${p.at.file}:${p.at.line}:${p.at.col}`
    if (done.has(key)) continue
    done.add(key)
    for (const u of unknownVariables(p.expr.source, ruleset.library?.names)) {
      problems.error(placeWithin(p, u.offset), 'RE_UNKNOWN_BINDING', `unknown variable $${u.name}: not a binding (${[...BINDINGS].map((b) => '$' + b).join(', ')}), a function, a library definition, or defined in this expression`)
    }
  }
}

/** Variables an expression reads but neither the engine, the library nor the expression defines. */
export function unknownVariables(source: string, library: ReadonlySet<string> = new Set()): { name: string; offset: number }[] {
  let ast: jsonata.ExprNode
  try { ast = jsonata(source).ast() } catch { return [] }
  const defined = new Set<string>()
  const used: { name: string; offset: number }[] = []
  const walk = (n: unknown, procedure = false): void => {
    if (Array.isArray(n)) { n.forEach((x) => walk(x)); return }
    if (!n || typeof n !== 'object' || n instanceof RegExp) return
    const node = n as jsonata.ExprNode & { focus?: string; index?: string; lhs?: jsonata.ExprNode }
    if ((node.type as string) === 'bind' && node.lhs?.type === 'variable') defined.add(String(node.lhs.value))
    if (node.type === 'lambda') for (const a of node.arguments ?? []) defined.add(String(a.value))
    if (typeof node.focus === 'string') defined.add(node.focus)
    if (typeof node.index === 'string') defined.add(node.index)
    // `$` is the context and `$$` the root; a called name is the unknown-function check's.
    if (node.type === 'variable' && node.value !== '' && node.value !== '$' && !procedure) {
      used.push({ name: String(node.value), offset: Math.max(0, (node.position ?? 1) - 1 - String(node.value).length) })
    }
    for (const [k, v] of Object.entries(node)) if (v && typeof v === 'object') walk(v, k === 'procedure')
  }
  walk(ast)
  return used.filter((u) => !defined.has(u.name) && !BINDINGS.has(u.name) && !FUNCTION_NAMES.has(u.name) && !JSONATA_BUILTINS.has(u.name) && !library.has(u.name))
}
