// route-engine test: the shipped rules' examples pass (every rule has some); a broken transform fails
// with a diff that names the rule and the step; the partial matcher's operators.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ABSENT, compare, formatPath } from '../../engine/examples/partial.js'

const bin = new URL('../../bin/route-engine.js', import.meta.url).pathname
const shipped = new URL('../../rules/', import.meta.url).pathname
const run = (...args: string[]) => spawnSync(process.execPath, [bin, 'test', ...args], { encoding: 'utf8' })

function copyRules(): string {
  const dir = mkdtempSync(join(tmpdir(), 're-examples-'))
  cpSync(shipped, dir, { recursive: true })
  return dir
}

t.test('route-engine test passes on the shipped rules, with an example for every rule', async (t) => {
  const r = run(shipped)
  t.equal(r.status, 0, r.stdout)
  t.match(r.stdout, /^(\d+) passed, 0 failed$/m)
  t.notMatch(r.stdout, /rules without an example/)
  const json = JSON.parse(run(shipped, '--format', 'json').stdout)
  t.same(json.untested, [], 'every shipped rule has an example')
  t.ok(json.passed >= 20)
  const rules = new Set(json.examples.map((e: { rule: string }) => e.rule))
  for (const name of ['models', 'cursor-openai', 'cursor-anthropic', 'cursor-gemini', 'cursor-compat', 'openai', 'anthropic', 'gemini', 'compat', 'chat-without-model']) {
    t.ok(rules.has(name), `${name} has an example`)
  }
})

t.test('breaking one transform fails its examples with a diff that names the rule and the step', async (t) => {
  const dir = copyRules()
  const file = join(dir, 'transforms/to-anthropic.jsonata')
  const text = readFileSync(file, 'utf8')
  // The writer now sends every request to a fixed model.
  const broken = text.replace(/"model": (\$?[\w.]+),/, '"model": "claude-broken",')
  t.not(broken, text, 'the transform was edited')
  writeFileSync(file, broken)
  const r = run(dir, '--filter', 'anthropic/text-body')
  t.equal(r.status, 1)
  t.match(r.stdout, /✗ anthropic\/text-body/)
  t.match(r.stdout, /rule anthropic \(.*30-chat\.yaml:\d+:\d+\) matched/)
  t.match(r.stdout, /upstream\.body\.model\n\s+← step \d+ .*transforms\/to-anthropic\.jsonata \(rule anthropic\)\n\s+- expected "claude-sonnet-4-6"\n\s+\+ actual   "claude-broken"/)
  t.match(r.stdout, /0 passed, 1 failed/)
  const json = JSON.parse(run(dir, '--filter', 'anthropic/text-body', '--format', 'json').stdout)
  t.match(json.examples[0].failures, [{ path: 'upstream.body.model', expected: 'claude-sonnet-4-6', actual: 'claude-broken', blame: /to-anthropic\.jsonata/ }])
})

t.test('an example that matches the wrong rule says why the expected rule did not match', async (t) => {
  const dir = copyRules()
  const file = join(dir, 'examples/gemini/text-body.yaml')
  writeFileSync(file, readFileSync(file, 'utf8').replace('model: gemini-2.5-flash\n    messages', 'model: llama-3\n    messages'))
  const r = run(dir, '--filter', 'gemini/text-body')
  t.equal(r.status, 1)
  t.match(r.stdout, /rule\n\s+← gemini \(.*30-chat\.yaml:\d+:\d+\) did not match: model: "llama-3" does not match "gemini-\*"\n\s+- expected "gemini"\n\s+\+ actual   "compat"/)
})

t.test('no examples: exit 1 with a message; bad flags: exit 2', async (t) => {
  const empty = mkdtempSync(join(tmpdir(), 're-examples-none-'))
  writeFileSync(join(empty, 'r.yaml'), 'rules:\n  - { name: x, match: { path: /x }, reply: { status: 204 } }\n')
  const r = run(empty)
  t.equal(r.status, 1)
  t.match(r.stderr, /no examples in .*\/examples/)
  t.equal(run(shipped, '--format', 'xml').status, 2)
})

t.test('partial matching: only the keys written, arrays item by item, operators', async (t) => {
  const actual = { a: 1, b: { c: 'hello world', d: [1, 2, 3] }, list: [{ k: 'x', v: 1 }, { k: 'y', v: 2 }, { k: 'z', v: 3 }] }
  t.same(compare({ a: 1, b: { c: 'hello world' } }, actual), [], 'extra keys are fine')
  t.same(compare({ b: { d: [1, 2] } }, actual).map((m) => m.note), ['2 items expected, 3 found'])
  t.same(compare({ b: { c: { $match: '^hello' } } }, actual), [])
  t.same(compare({ missing: { $absent: true }, a: { $absent: false } }, actual), [])
  t.same(compare({ a: { $absent: true } }, actual).map((m) => formatPath(m.path)), ['a'])
  t.same(compare({ list: { $contains: [{ k: 'x' }, { k: 'z' }] } }, actual), [], 'in order, others between')
  const out = compare({ list: { $contains: [{ k: 'z' }, { k: 'x' }] } }, actual)
  t.equal(out.length, 1, 'order matters')
  t.match(out[0], { path: ['list'], expected: { k: 'x' }, note: /\$contains\[1\]/ })
  t.same(compare({ b: { $exact: { c: 'hello world', d: [1, 2, 3] } } }, actual), [])
  t.equal(compare({ b: { $exact: { c: 'hello world' } } }, actual).length, 1, '$exact is not partial')
  t.same(compare({ a: { $type: 'number' }, b: { $type: 'object' } }, actual), [])
  t.same(compare({ x: 1 }, actual), [{ path: ['x'], expected: 1, actual: ABSENT }])
  t.equal(formatPath(['client', 'frames', 0, 'choices', 'odd key']), 'client.frames[0].choices["odd key"]')
})
