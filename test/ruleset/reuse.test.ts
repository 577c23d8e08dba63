// A reload compiles only the expressions whose text changed: unchanged ones are the same compiled
// objects, and their problems are still reported, at each place the text is used.
import t from 'tap'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadRuleset } from '../../engine/ruleset/compile.js'
import type { ProblemList } from '../../engine/ruleset/problems.js'
import type { RequestStep, Ruleset } from '../../engine/ruleset/ruleset.js'

const rules = (first: string, second: string) => `
upstreams: { u: { base: "http://127.0.0.1:1" } }
rules:
  - name: one
    match: { path: /one }
    request: ['${first}']
    upstream: { to: u }
  - name: two
    match: { path: /two }
    request: ['${second}']
    upstream: { to: u }
`
const ONE = '$merge([$, {"one": true}])'
const exprOf = (r: Ruleset, name: string) => r.rules.find((x) => x.name === name)!.request
const first = (steps: readonly RequestStep[]) => (steps[0] as Extract<RequestStep, { kind: 'transform' }>).expr

t.test('unchanged expressions are reused, changed ones compiled again', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 're-reuse-'))
  writeFileSync(join(dir, 'rules.yaml'), rules(ONE, '{"two": 2}'))
  const a = (await loadRuleset(dir)).ruleset!
  writeFileSync(join(dir, 'rules.yaml'), rules(ONE, '{"two": 3}'))
  const b = (await loadRuleset(dir)).ruleset!
  t.equal(first(exprOf(b, 'one')).expr, first(exprOf(a, 'one')).expr, 'the unchanged transform is the one compiled before')
  t.not(first(exprOf(b, 'two')).expr, first(exprOf(a, 'two')).expr, 'the changed one is new')
  t.same(await first(exprOf(b, 'two')).expr.evaluate({}, {}), { two: 3 })
  const c = (await loadRuleset(dir, { limits: { timeoutMs: 1234, maxDepth: 50 } })).ruleset!
  t.not(first(exprOf(c, 'one')).expr, first(exprOf(b, 'one')).expr, 'other limits: compiled with them')
})

t.test('the problems of a reused expression are reported again, each at its own place', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 're-reuse-'))
  writeFileSync(join(dir, 'rules.yaml'), rules('$nosuch(1)', '$nosuch(1)'))
  const places = (p: ProblemList) => p.errors.map((e) => `${e.line}:${e.col} ${e.code} ${e.message}`)
  const before = places((await loadRuleset(dir)).problems)
  t.same(before, ['6:16 RE_UNKNOWN_FUNCTION unknown function $nosuch', '10:16 RE_UNKNOWN_FUNCTION unknown function $nosuch'])
  const again = await loadRuleset(dir)
  t.equal(again.ruleset, null, 'the reload fails as the first load did')
  t.same(places(again.problems), before)
})
