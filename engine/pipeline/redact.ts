// Masks the ruleset's secrets (upstream header values from the environment) in text that came back
// from an upstream: an upstream may quote the key it was sent in its error message, and that text
// reaches error bodies, stream error frames and logs. Built once per Ruleset.
import type { Ruleset } from '../ruleset/ruleset.js'

export type Redact = (text: string) => string

const MASK = '[redacted]'
const byRuleset = new WeakMap<Ruleset, Redact>()

export function redactorFor(ruleset: Ruleset): Redact {
  let r = byRuleset.get(ruleset)
  if (!r) {
    const secrets = [...new Set([...ruleset.upstreams.values()].flatMap((u) => u.secrets))].sort((a, b) => b.length - a.length)
    r = secrets.length ? (text) => (secrets.some((s) => text.includes(s)) ? secrets.reduce((t, s) => t.split(s).join(MASK), text) : text) : (text) => text
    byRuleset.set(ruleset, r)
  }
  return r
}
