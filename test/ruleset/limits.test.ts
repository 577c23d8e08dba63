// Rate limits in rule files: what compiles, and what is refused with its place.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { loadRuleset } from '../../engine/ruleset/compile.js'
import { formatProblem } from '../../engine/ruleset/problems.js'

async function load(t: Test, files: Record<string, string>) {
  const dir = mkdtempSync(join(tmpdir(), 'limits-rules-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text)
  const r = await loadRuleset(dir)
  return { ruleset: r.ruleset, problems: r.problems.errors.map((p) => formatProblem(p)) }
}

const UP = 'upstreams:\n  u:\n    base: http://127.0.0.1:9\n    limits: { requestsPerMinute: 10, tokensPerMinute: 5000 }\n'

t.test('limits by key and by upstream compile; usage only counted when a token limit needs it', async (t) => {
  const { ruleset, problems } = await load(t, {
    'a.yaml': UP,
    'b.yaml': 'limits:\n  usage: usage.total_tokens\n  keys:\n    alice: { requestsPerMinute: 60 }\n    "*": { tokensPerMinute: 1000 }\n',
  })
  t.same(problems, [])
  t.same(ruleset!.upstreams.get('u')!.limits, { requestsPerMinute: 10, tokensPerMinute: 5000 })
  t.same(ruleset!.limits.keys.get('alice'), { requestsPerMinute: 60, tokensPerMinute: null })
  t.same(ruleset!.limits.keys.get('*'), { requestsPerMinute: null, tokensPerMinute: 1000 })
  t.equal(ruleset!.limits.countTokens, true)
  t.ok(ruleset!.limits.usage)
})

t.test('tokensPerMinute without limits.usage is an error at the limit', async (t) => {
  const { ruleset, problems } = await load(t, { 'a.yaml': UP })
  t.equal(ruleset, null)
  t.match(problems, [/a\.yaml:4:\d+: RE_SCHEMA tokensPerMinute needs limits\.usage/])
})

t.test('a limit of 0, an unknown field: schema errors naming them', async (t) => {
  const { problems } = await load(t, {
    'a.yaml': 'limits:\n  keys:\n    alice: { requestsPerMinute: 0 }\n',
    'b.yaml': 'limits:\n  keys:\n    alice: { requestsPerMinute: 5, perHour: 3 }\n',
  })
  t.ok(problems.some((p) => /a\.yaml.*RE_SCHEMA.*requestsPerMinute/.test(p)), problems.join('\n'))
  t.ok(problems.some((p) => /b\.yaml.*RE_SCHEMA.*perHour/.test(p)), problems.join('\n'))
})

t.test('a key limited in two files: a duplicate', async (t) => {
  const { problems } = await load(t, {
    'a.yaml': 'limits:\n  keys:\n    alice: { requestsPerMinute: 5 }\n',
    'b.yaml': 'limits:\n  keys:\n    alice: { requestsPerMinute: 6 }\n',
  })
  t.match(problems, [/b\.yaml:3:\d+: RE_DUPLICATE key limit "alice" is already defined in \S*a\.yaml:3/])
})
