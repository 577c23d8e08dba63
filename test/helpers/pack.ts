// The shipped rules as the engine compiles them, for tests of the pack's transforms: request
// pipelines run through the engine's own transformRequest (one matcher, one runner).
import { fileURLToPath } from 'node:url'
import { loadRuleset } from '../../engine/ruleset/compile.js'
import { formatProblem } from '../../engine/ruleset/problems.js'
import type { Ruleset } from '../../engine/ruleset/ruleset.js'
import { transformRequest } from '../../engine/pipeline/transform-request.js'
import { MemoryStore } from '../../engine/store/memory.js'
import { storeBindings, type RunOptions } from './transform.js'

export const SHIPPED_RULES = fileURLToPath(new URL('../../rules/', import.meta.url))

let shipped: Promise<Ruleset> | null = null

export function shippedRuleset(): Promise<Ruleset> {
  shipped ??= loadRuleset(SHIPPED_RULES).then(({ ruleset, problems }) => {
    if (!ruleset) throw new Error(problems.errors.map((p) => formatProblem(p)).join('\n'))
    return ruleset
  })
  return shipped
}

/** A client body → the neutral form, through the shipped `normalize` pipeline. Plain JSON out
 *  (JSONata builds null-prototype objects), as an upstream writer would serialise it. */
export async function normalize(request: unknown, opts: RunOptions = {}): Promise<any> {
  const steps = (await shippedRuleset()).pipelines.get('normalize')
  if (!steps) throw new Error('the shipped rules define no "normalize" pipeline')
  const store = opts.store ?? new MemoryStore()
  const bindings = {
    request,
    ctx: { id: 'test0000', created: 1767225600, model: (request as { model?: unknown })?.model, path: '/v1/chat/completions', method: 'POST', ...opts.ctx },
    vars: opts.vars ?? {},
    models: [],
    ...storeBindings(store),
  }
  return JSON.parse(JSON.stringify((await transformRequest(steps, request, bindings, 'normalize')) ?? null))
}
