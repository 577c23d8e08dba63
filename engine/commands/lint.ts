// route-engine lint: load the rules as serve would, start nothing, list every problem; then the deep
// checks: unknown bindings and shadowed rules on the compiled rules, and, running the examples through
// the real pipeline, declared output schemas and dropped fields; unencoded (raw) path values a request
// could choose.
import { readFileSync } from 'node:fs'
import { loadExamples } from '../examples/load.js'
import { Runner } from '../examples/run.js'
import { loadRuleset } from '../ruleset/compile.js'
import { lintBindings } from '../ruleset/lint-bindings.js'
import { lintExamples } from '../ruleset/lint-examples.js'
import { lintRawTemplates } from '../ruleset/lint-raw-templates.js'
import { lintShadowed } from '../ruleset/lint-shadow.js'
import { formatProblem } from '../ruleset/problems.js'
import { ruleSpecs } from '../ruleset/rule-specs.js'

export async function lint(dir: string, format: 'text' | 'json'): Promise<number> {
  const loaded = await loadRuleset(dir)
  const { problems } = loaded
  if (loaded.ruleset && loaded.sources) {
    lintBindings(loaded.ruleset, problems)
    lintRawTemplates(loaded.ruleset, problems)
    lintShadowed(loaded.ruleset, ruleSpecs(loaded.sources), problems)
    const examples = await loadExamples(dir, problems)
    if (examples.length) {
      const runner = await Runner.start(loaded)
      try { await lintExamples(runner, examples, problems) } finally { await runner.close() }
    }
  }
  const errors = problems.errors.length
  const warnings = problems.items.length - errors
  if (format === 'json') {
    process.stdout.write(JSON.stringify({ errors, warnings, problems: problems.items }, null, 2) + '\n')
  } else {
    const texts = new Map<string, string | undefined>()
    const source = (file: string) => {
      if (!texts.has(file)) { try { texts.set(file, readFileSync(file, 'utf8')) } catch { texts.set(file, undefined) } }
      return texts.get(file)
    }
    for (const p of problems.items) process.stdout.write(formatProblem(p, source(p.file)) + '\n')
    process.stdout.write(`${dir}: ${errors} error(s), ${warnings} warning(s)\n`)
  }
  return errors ? 1 : 0
}
