// Picks the first rule whose conditions all hold, after resolving a model alias.
import { RouteError } from '../errors.js'
import { evaluate } from '../expr/evaluate.js'
import { deepMerge, isPlainObject } from '../expr/functions.js'
import type { Rule, Ruleset } from '../ruleset/ruleset.js'
import { truthy } from './transform-stream.js'

export interface Matched {
  rule: Rule
  /** The client's body with the alias applied. */
  request: unknown
  /** The model name the client sent. */
  clientModel: string | undefined
}

export interface MatchInput {
  method: string
  path: string
  headers: Record<string, string | string[] | undefined>
  body: unknown
}

export async function match(ruleset: Ruleset, input: MatchInput): Promise<Matched> {
  const clientModel = isPlainObject(input.body) && typeof input.body.model === 'string' ? input.body.model : undefined
  let request = input.body
  const alias = clientModel === undefined ? undefined : ruleset.aliases.get(clientModel)
  if (alias) request = { ...(deepMerge(input.body, alias.set ?? {}) as object), model: alias.model }
  const model = alias?.model ?? clientModel
  for (const rule of ruleset.rules) {
    const m = rule.match
    if (m.methods && !m.methods.has(input.method)) continue
    if (m.paths && !m.paths(input.path)) continue
    if (m.model && (model === undefined || !m.model(model))) continue
    if (m.fields && !m.fields(request, input.headers)) continue
    if (m.when && !truthy(await evaluate(m.when, request, {}, rule.name))) continue
    return { rule, request, clientModel }
  }
  throw new RouteError('RE_NO_RULE', `no rule matches ${input.method} ${input.path}${model !== undefined ? ` with model '${clientModel}'` : ''}`)
}
