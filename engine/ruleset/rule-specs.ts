// Each rule as written, for the tools that reason about a rule's source rather than run it (explain's
// failed conditions, shadowing, declared drops and output schemas): the YAML object with ${VAR}
// expanded, and where it is.
import { expandEnvDeep } from './env.js'
import { isRuleFile, type SourceSet, type YamlPath, type YamlSource } from './read.js'

export interface RuleSpec {
  name: string
  src: YamlSource
  /** The rule's path in its document, e.g. ['rules', 3]. */
  path: YamlPath
  /** The rule object (merge keys resolved). */
  raw: Record<string, any>
  /** `match:` with ${VAR} expanded, as the compiler saw it. */
  match: Record<string, unknown>
}

/** Rule name → spec; the first definition wins, as in the compiler. */
export function ruleSpecs(sources: SourceSet): Map<string, RuleSpec> {
  const out = new Map<string, RuleSpec>()
  for (const src of sources.yaml) {
    if (!isRuleFile(src)) continue
    const rules = (src.data as { rules?: unknown }).rules
    if (!Array.isArray(rules)) continue
    rules.forEach((r: Record<string, any>, i) => {
      if (!r || typeof r.name !== 'string' || out.has(r.name)) return
      const match = expandEnvDeep(r.match ?? {}, () => {}) as Record<string, unknown>
      out.set(r.name, { name: r.name, src, path: ['rules', i], raw: r, match })
    })
  }
  return out
}
