// lint: every problem with its file:line:col, in one run; exit codes; the shipped rules are clean.
import t from 'tap'
import { cpSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { loadRuleset } from '../../engine/ruleset/compile.js'
import { lintRawTemplates } from '../../engine/ruleset/lint-raw-templates.js'
import { ProblemList } from '../../engine/ruleset/problems.js'

const shipped = new URL('../../rules/', import.meta.url).pathname

function at(problems: { file: string; line: number; col: number; code: string }[], code: string) {
  return problems.filter((p) => p.code === code).map((p) => ({ file: p.file.split('/').pop(), line: p.line, col: p.col }))
}

t.test('the shipped rules load with no errors', async (t) => {
  const { ruleset, problems } = await loadRuleset(shipped)
  t.same(problems.errors, [])
  t.ok(ruleset && ruleset.rules.length >= 9)
})

t.test('a YAML syntax error, a schema violation and a JSONata syntax error in three files: all three, placed', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 're-lint-'))
  cpSync(shipped, dir, { recursive: true })
  // 1. YAML: an unclosed flow sequence in the models file.
  const models = join(dir, '05-models.yaml')
  writeFileSync(models, readFileSync(models, 'utf8').replace('  - gpt-5.4\n', '  - [gpt-5.4\n'))
  // 2. Schema: a misspelt key in a rule's match.
  const local = join(dir, '20-local.yaml')
  writeFileSync(local, readFileSync(local, 'utf8').replace('      method: GET', '      methd: GET'))
  // 3. JSONata: a broken inline expression inside a rule file.
  const chat = join(dir, '30-chat.yaml')
  writeFileSync(chat, readFileSync(chat, 'utf8').replace('"param": "model"}', '"param": "model" +}'))
  const chatLines = readFileSync(chat, 'utf8').split('\n')
  const jsonataLine = chatLines.findIndex((l) => l.includes('"model" +}')) + 1
  const jsonataCol = chatLines[jsonataLine - 1]!.indexOf('+}') + 2

  const { ruleset, problems } = await loadRuleset(dir)
  t.equal(ruleset, null)
  const modelsLine = readFileSync(models, 'utf8').split('\n').findIndex((l) => l.includes('[gpt-5.4')) + 1
  t.ok(at(problems.errors, 'RE_YAML').some((p) => p.file === '05-models.yaml' && p.line >= modelsLine && p.line <= modelsLine + 2), JSON.stringify(at(problems.errors, 'RE_YAML')))
  const localLine = readFileSync(local, 'utf8').split('\n').findIndex((l) => l.includes('methd')) + 1
  t.same(at(problems.errors, 'RE_SCHEMA'), [{ file: '20-local.yaml', line: localLine, col: 7 }], 'schema violation at the misspelt key')
  t.same(at(problems.errors, 'RE_JSONATA'), [{ file: '30-chat.yaml', line: jsonataLine, col: jsonataCol }], 'JSONata error at its token, inside the rule file')
})

t.test('a value from a YAML anchor is placed at the anchor; a bad rule leaves its file\'s other rules checked', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 're-lint-'))
  writeFileSync(join(dir, 'a.yaml'), [
    'x-m: &m',
    '  method: 42',
    'rules:',
    '  - { name: one, match: { <<: *m, path: /a }, reply: { status: 200 } }',
    '  - { name: two, match: { <<: *m, path: /b }, reply: { status: 200 } }',
    '  - name: three',
    '    match: { path: /c }',
    '    request: ["$x +"]',
    '    reply: { status: 200 }',
    '',
  ].join('\n'))
  writeFileSync(join(dir, 'b.yaml'), 'rules:\n  - name: four\n    match: { path: [/d }\n')
  const { problems } = await loadRuleset(dir)
  const got = problems.errors.map((p) => `${p.file.split('/').pop()}:${p.line}:${p.col} ${p.code} ${p.message}`).sort()
  t.equal(got.length, 3, got.join('\n'))
  t.equal(got[0], 'a.yaml:2:11 RE_SCHEMA /rules/0/match/method must be one of "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS" or an array (also /rules/1/match/method)',
    'one problem at the anchored value, naming both rules that reach it, the oneOf branches said together')
  t.match(got[1], /^a\.yaml:8:\d+ RE_JSONATA /, 'the third rule of the same file is still compiled')
  t.match(got[2], /^b\.yaml:3:\d+ RE_YAML .*\(and \d+ later YAML errors? that may follow from it\)$/, 'one YAML syntax error, not a cascade')
})

t.test('unknown upstreams, pipelines, files and functions, duplicates, unset variables', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 're-lint-'))
  writeFileSync(join(dir, 'a.yaml'), [
    'upstreams:',
    '  u: { base: "${RE_TEST_UNSET_VAR}" }',
    'rules:',
    '  - name: one',
    '    match: { path: /a }',
    '    request: [{ use: nope }, missing.jsonata, "$nosuch(1)"]',
    '    upstream: { to: ghost }',
    '  - name: one',
    '    match: { path: /b }',
    '    reply: { status: 200 }',
    '',
  ].join('\n'))
  const { problems } = await loadRuleset(dir)
  const got = problems.items.map((p) => `${p.severity}:${p.code}@${p.line}:${p.col}`)
  t.same(got.sort(), [
    'error:RE_DUPLICATE@8:11',
    'error:RE_MISSING_FILE@6:30',
    'error:RE_UNKNOWN_FUNCTION@6:48',
    'error:RE_UNKNOWN_PIPELINE@6:22',
    'error:RE_UNKNOWN_UPSTREAM@7:21',
    'warning:RE_UNSET_ENV@2:14',
  ].sort())
})

t.test('raw path parts: a request value that can reach one warns; literals, $vars and $env() do not; raw in a header is an error', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 're-lint-'))
  const path = `/a/{raw: $ctx.path}/{raw: stream ? "s?alt=sse" : "g"}/{raw: $vars.v & "-" & $env("HOME")}/{raw: ($x := 1; $request.stream ? "a" : model)}/{model}`
  const line = `    upstream: { to: up, path: '${path}', headers: { x-m: "{raw: model}" } }`
  writeFileSync(join(dir, 'r.yaml'), ['upstreams:', '  up: { base: http://upstream.invalid }', 'rules:', '  - name: chat', '    match: { path: /chat }', line, ''].join('\n'))
  const { ruleset, problems } = await loadRuleset(dir)
  t.equal(ruleset, null, 'raw: in a header is an error')
  t.same(problems.items.map((p) => [p.severity, p.code, p.line, p.col]), [['error', 'RE_RAW_TEMPLATE', 6, line.indexOf('{raw: model}') + 2]])
  t.match(problems.items[0]!.message, /raw: applies to upstream\.path only/)

  writeFileSync(join(dir, 'r.yaml'), readFileSync(join(dir, 'r.yaml'), 'utf8').replace(', headers: { x-m: "{raw: model}" }', ''))
  const loaded = await loadRuleset(dir)
  const lint = new ProblemList()
  lintRawTemplates(loaded.ruleset!, lint)
  t.same(lint.items.map((p) => [p.severity, p.code, p.line, p.col]), [
    ['warning', 'RE_RAW_TEMPLATE', 6, line.indexOf('$ctx.path') + 1],
    ['warning', 'RE_RAW_TEMPLATE', 6, line.indexOf('model)}') + 1],
  ])
  t.match(lint.items[0]!.message, /\$ctx\.path can come from the request/)
  t.match(lint.items[1]!.message, /model can come from the request/)

  const shippedProblems = new ProblemList()
  lintRawTemplates((await loadRuleset(shipped)).ruleset!, shippedProblems)
  t.same(shippedProblems.items, [], 'the shipped gemini rule\'s raw part yields only literals')
})

t.test('engine/ names no vendor outside comments', async (t) => {
  const root = new URL('../../engine/', import.meta.url).pathname
  const files = (readdirSync(root, { recursive: true }) as string[]).filter((f) => f.endsWith('.ts'))
  t.ok(files.length > 10)
  for (const f of files) {
    const code = readFileSync(join(root, f), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '')
    const hit = /cursor|openai|anthropic|gemini|claude/i.exec(code)
    t.equal(hit, null, `${relative(root, join(root, f))}${hit ? `: "${hit[0]}" at ${hit.index}` : ''}`)
  }
})
