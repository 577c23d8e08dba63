// route-engine lint: load the rules as serve would, start nothing, list every problem.
import { readFileSync } from 'node:fs'
import { loadRuleset } from '../ruleset/compile.js'
import { formatProblem } from '../ruleset/problems.js'

export async function lint(dir: string, format: 'text' | 'json'): Promise<number> {
  const { problems } = await loadRuleset(dir)
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
