// Deep lint, each check on a small rules directory with one mistake in it: a shadowed rule, a
// dropped field, a transform output that breaks the rule's schema, catastrophic regexes (a model
// pattern, a JSONata literal), an unknown binding, an unused transform file; --format json; exit codes.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { slowRegex } from '../../engine/ruleset/lint-regex.js'

const bin = new URL('../../bin/route-engine.js', import.meta.url).pathname
const shipped = new URL('../../rules/', import.meta.url).pathname

interface Problem { file: string; line: number; col: number; code: string; message: string; severity: string }

function lint(dir: string, ...args: string[]) {
  const r = spawnSync(process.execPath, [bin, 'lint', dir, ...args], { encoding: 'utf8' })
  return { status: r.status, stdout: r.stdout, stderr: r.stderr }
}

function lintJson(dir: string): { status: number | null; problems: Problem[]; errors: number } {
  const r = lint(dir, '--format', 'json')
  const out = JSON.parse(r.stdout) as { errors: number; problems: Problem[] }
  return { status: r.status, problems: out.problems, errors: out.errors }
}

/** A rules directory from files (path → text); `examples/…` files become examples. */
function rulesDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 're-lint-deep-'))
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true })
    writeFileSync(join(dir, name), text)
  }
  return dir
}

const lineOf = (text: string, needle: string) => text.split('\n').findIndex((l) => l.includes(needle)) + 1

// One upstream, a rule that turns {model, prompt, user, meta} into {model, input}; an example for it.
const RULES = `upstreams:
  up: { base: http://upstream.invalid }
rules:
  - name: chat
    match: { method: POST, path: /chat }
    request: [to-up.jsonata]
    upstream: { to: up, path: /generate }
`
const TRANSFORM = '{"model": model, "input": prompt, "tag": user}\n'
const EXAMPLE = `request:
  path: /chat
  body: { model: m-1, prompt: Say hello, user: u-42 }
upstreamReply: { body: { text: hello } }
expect:
  rule: chat
  upstream: { path: /generate, body: { input: Say hello } }
`

t.test('the shipped rules lint clean: exit 0, no errors', async (t) => {
  const r = lint(shipped)
  t.equal(r.status, 0, r.stdout)
  t.match(r.stdout, /: 0 error\(s\)/)
  t.notMatch(r.stdout, /RE_RAW_TEMPLATE/, 'the gemini rule\'s raw part yields only literals')
})

t.test('a clean small rules directory with an example: exit 0', async (t) => {
  const r = lintJson(rulesDir({ 'rules.yaml': RULES, 'to-up.jsonata': TRANSFORM, 'examples/chat.yaml': EXAMPLE }))
  t.equal(r.status, 0, JSON.stringify(r.problems))
  t.equal(r.errors, 0)
})

t.test('a shadowed rule: the earlier rule catches every request it would match', async (t) => {
  const rules = RULES + `  - name: chat-m
    match: { method: POST, path: /chat, model: m-* }
    request: [to-up.jsonata]
    upstream: { to: up }
  - name: other-path
    match: { method: POST, path: /other, model: m-* }
    request: [to-up.jsonata]
    upstream: { to: up }
`
  const r = lintJson(rulesDir({ 'rules.yaml': rules, 'to-up.jsonata': TRANSFORM }))
  t.equal(r.status, 1)
  const shadowed = r.problems.filter((p) => p.code === 'RE_SHADOWED')
  t.equal(shadowed.length, 1, 'only chat-m: other-path has a path chat does not cover')
  t.match(shadowed[0], { file: /rules\.yaml$/, line: lineOf(rules, 'model: m-* }') , severity: 'error', message: /rule "chat-m" can never match: rule "chat"/ })
})

t.test('narrower rules after broader ones are not shadowed the other way round', async (t) => {
  const rules = `upstreams:
  up: { base: http://upstream.invalid }
rules:
  - { name: gpt, match: { path: /chat, model: [gpt-*, o3*] }, upstream: { to: up } }
  - { name: gpt-5, match: { path: /chat, model: gpt-5* }, upstream: { to: up } }
  - { name: with-input, match: { path: /chat, model: "*", body: { input: { exists: true } } }, upstream: { to: up } }
  - { name: any-model, match: { path: /chat, model: "*" }, upstream: { to: up } }
  - { name: no-model, match: { path: /chat }, upstream: { to: up } }
  - { name: input-array, match: { path: /chat, model: x, body: { input: { type: array } } }, upstream: { to: up } }
`
  const r = lintJson(rulesDir({ 'rules.yaml': rules }))
  const names = r.problems.filter((p) => p.code === 'RE_SHADOWED').map((p) => /rule "([^"]+)" can never/.exec(p.message)![1])
  t.same(names.sort(), ['gpt-5', 'input-array'], 'gpt-5* is inside gpt-*; model x with input:array is inside any-model')
})

t.test('a dropped field: a value of the example\'s body that reaches the upstream nowhere', async (t) => {
  const transform = '{"model": model, "input": prompt}\n'
  const r = lintJson(rulesDir({ 'rules.yaml': RULES, 'to-up.jsonata': transform, 'examples/chat.yaml': EXAMPLE }))
  t.equal(r.status, 1)
  const dropped = r.problems.filter((p) => p.code === 'RE_DROPPED_FIELD')
  t.equal(dropped.length, 1)
  t.match(dropped[0], { line: lineOf(RULES, 'request: [to-up.jsonata]'), message: /drops user of the client's body \(example .*chat\.yaml\)/ })

  const declared = RULES.replace('    upstream: { to: up, path: /generate }', '    upstream: { to: up, path: /generate }\n    drops: { user: the upstream has no user field }')
  const ok = lintJson(rulesDir({ 'rules.yaml': declared, 'to-up.jsonata': transform, 'examples/chat.yaml': EXAMPLE }))
  t.equal(ok.status, 0, 'declared under drops: with its reason, it is on purpose')

  const conditional = RULES.replace('    upstream: { to: up, path: /generate }', '    upstream: { to: up, path: /generate }\n    drops: { user: { reason: "test users only", match: "^t-" } }')
  const still = lintJson(rulesDir({ 'rules.yaml': conditional, 'to-up.jsonata': transform, 'examples/chat.yaml': EXAMPLE }))
  t.equal(still.problems.filter((p) => p.code === 'RE_DROPPED_FIELD').length, 1, 'a drop with match: covers only the values it finds')
})

t.test('a transform output that breaks the schema the rule declares for it', async (t) => {
  const rules = RULES.replace('    upstream: { to: up, path: /generate }', [
    '    upstream: { to: up, path: /generate }',
    '    outputs:',
    '      request: request.schema.json',
    '      body: { type: object, required: [text], properties: { text: { type: string } } }',
  ].join('\n'))
  const schema = JSON.stringify({ type: 'object', required: ['model', 'input'], properties: { input: { type: 'string', minLength: 20 } } })
  const r = lintJson(rulesDir({ 'rules.yaml': rules, 'to-up.jsonata': TRANSFORM, 'request.schema.json': schema, 'examples/chat.yaml': EXAMPLE }))
  t.equal(r.status, 1)
  const bad = r.problems.filter((p) => p.code === 'RE_OUTPUT_SCHEMA')
  t.equal(bad.length, 1, 'the request breaks its schema; the reply body satisfies its own')
  t.match(bad[0], { line: lineOf(rules, 'request: request.schema.json'), message: /the upstream request body breaks the rule's request schema: \/input must NOT have fewer than 20 characters/ })

  const fixed = schema.replace('"minLength":20', '"minLength":2')
  t.equal(lintJson(rulesDir({ 'rules.yaml': rules, 'to-up.jsonata': TRANSFORM, 'request.schema.json': fixed, 'examples/chat.yaml': EXAMPLE })).status, 0)
})

t.test('catastrophic regexes: a model pattern and a JSONata literal are rejected at load', async (t) => {
  const rules = RULES + '  - { name: slow-model, match: { path: /slow, model: { regex: "^(\\\\w+\\\\s?)*$" } }, upstream: { to: up } }\n'
  const transform = '{"model": model, "input": $replace(prompt, /(a+)+b/, "x"), "tag": user}\n'
  const r = lintJson(rulesDir({ 'rules.yaml': rules, 'to-up.jsonata': transform }))
  t.equal(r.status, 1)
  const slow = r.problems.filter((p) => p.code === 'RE_SLOW_REGEX').map((p) => ({ file: p.file.split('/').pop()!, line: p.line, col: p.col }))
  t.same(slow.sort((a, b) => a.file.localeCompare(b.file)), [
    { file: 'rules.yaml', line: lineOf(rules, 'regex:'), col: rules.split('\n')[lineOf(rules, 'regex:') - 1]!.indexOf('"^(') + 1 },
    { file: 'to-up.jsonata', line: 1, col: transform.indexOf('/(a+)+b/') + 1 },
  ].sort((a, b) => a.file.localeCompare(b.file)))
  // And the same check decides on patterns alone.
  for (const re of ['(a+)+b', '(a|aa)*', '(\\d|\\w)+', '(.*a){12}', '(x+x+)+y']) t.ok(slowRegex(re), `${re} is rejected`)
  for (const re of ['^gpt-', '(\\s*,\\s*\\w+)*', '(ab|ac)*', '^\\s*<(details|think)', '(\\d+\\.)+\\d+']) t.equal(slowRegex(re), null, `${re} passes`)
})

t.test('an unknown binding: $reqest is nothing JSONata will complain about', async (t) => {
  const transform = '(\n  $m := model;\n  {"model": $m, "input": prompt, "tag": $reqest.user, "n": $count($vars.x)}\n)\n'
  const r = lintJson(rulesDir({ 'rules.yaml': RULES, 'to-up.jsonata': transform }))
  t.equal(r.status, 1)
  const unknown = r.problems.filter((p) => p.code === 'RE_UNKNOWN_BINDING')
  t.same(unknown.map((p) => [p.line, p.col]), [[3, transform.split('\n')[2]!.indexOf('$reqest') + 1]])
  t.match(unknown[0]!.message, /unknown variable \$reqest/)
})

t.test('an unused transform file is a warning; lint still exits 0', async (t) => {
  const r = lintJson(rulesDir({ 'rules.yaml': RULES, 'to-up.jsonata': TRANSFORM, 'old/unused.jsonata': '$' }))
  t.equal(r.status, 0)
  t.match(r.problems.filter((p) => p.code === 'RE_UNUSED_FILE'), [{ file: /old\/unused\.jsonata$/, severity: 'warning' }])
})

t.test('an example that expects a rule no one defines', async (t) => {
  const r = lintJson(rulesDir({ 'rules.yaml': RULES, 'to-up.jsonata': TRANSFORM, 'examples/chat.yaml': EXAMPLE.replace('rule: chat', 'rule: chatt') }))
  t.equal(r.status, 1)
  t.match(r.problems.filter((p) => p.code === 'RE_EXAMPLE'), [{ file: /examples\/chat\.yaml$/, line: 6, message: /no rule is named "chatt"/ }])
})

t.test('text output places each problem; a bad flag is a usage error (exit 2)', async (t) => {
  const transform = '{"model": model, "input": prompt}\n'
  const r = lint(rulesDir({ 'rules.yaml': RULES, 'to-up.jsonata': transform, 'examples/chat.yaml': EXAMPLE }))
  t.equal(r.status, 1)
  t.match(r.stdout, /rules\.yaml:\d+:\d+: RE_DROPPED_FIELD rule "chat" drops user/)
  t.match(r.stdout, /1 error\(s\), 0 warning\(s\)/)
  t.equal(lint(shipped, '--format', 'yaml').status, 2)
  t.equal(lint(shipped, '--no-such-flag').status, 2)
})
