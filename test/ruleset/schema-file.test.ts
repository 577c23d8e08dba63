// validate: schema files are rule sources like transforms: read with the rules, compiled again when
// their text changes (they were compiled once per process, so an edit never took effect), and
// looked for in the rules directory only.
import t from 'tap'
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadRuleset } from '../../engine/ruleset/compile.js'

const rules = (schema: string) => `rules:\n  - name: v\n    match: { path: /v }\n    request:\n      - validate: ${schema}\n    reply: { body: '{}' }\n`
const schema = (type: string) => JSON.stringify({ $id: 'https://example.test/body', type: 'object', properties: { n: { type } } })

/** The rule's compiled validate step, tried on {n: 1}. */
async function acceptsNumber(dir: string): Promise<boolean> {
  const { ruleset, problems } = await loadRuleset(dir)
  if (!ruleset) throw new Error(JSON.stringify(problems.errors))
  const step = ruleset.rules[0]!.request[0]!
  if (step.kind !== 'validate') throw new Error(step.kind)
  return step.schema({ n: 1 }) as boolean
}

t.test('an edited schema file (with an $id) takes effect on the next load', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 're-schema-'))
  mkdirSync(join(dir, 'schemas'))
  writeFileSync(join(dir, 'r.yaml'), rules('schemas/body.json'))
  writeFileSync(join(dir, 'schemas', 'body.json'), schema('number'))
  t.equal(await acceptsNumber(dir), true)
  writeFileSync(join(dir, 'schemas', 'body.json'), schema('string'))
  t.equal(await acceptsNumber(dir), false, 'the edited schema is the one used')
  t.equal(await acceptsNumber(dir), false, 'and loading it again (unchanged) still works')
})

t.test('a schema file outside the rules directory, or missing, is RE_MISSING_FILE', async (t) => {
  const outside = mkdtempSync(join(tmpdir(), 're-schema-'))
  const dir = join(outside, 'rules')
  mkdirSync(dir)
  writeFileSync(join(outside, 'body.json'), schema('number'))
  writeFileSync(join(dir, 'r.yaml'), rules('../body.json'))
  const { ruleset, problems } = await loadRuleset(dir)
  t.equal(ruleset, null)
  t.match(problems.errors, [{ code: 'RE_MISSING_FILE', message: 'schema file ../body.json not found in the rules directory' }])
})
