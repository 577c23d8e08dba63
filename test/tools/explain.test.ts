// route-engine explain on every Cursor request fixture: it names the rule, says why each earlier rule
// did not match, prints the upstream request with credentials masked; with --upstream-reply on a
// transcript it prints the client's stream.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { readdirSync } from 'node:fs'

const bin = new URL('../../bin/route-engine.js', import.meta.url).pathname
const cursor = new URL('../fixtures/cursor/', import.meta.url).pathname
const streams = new URL('../fixtures/streams/', import.meta.url).pathname
const examples = new URL('../../rules/examples/', import.meta.url).pathname

const SECRET = 'sk-explain-test-secret-0123456789'
const env = { ...process.env, OPENAI_API_KEY: SECRET, ANTHROPIC_API_KEY: SECRET, GEMINI_API_KEY: SECRET, OPENAI_COMPAT_BASE_URL: '', OPENAI_COMPAT_API_KEY: '' }
const explain = (...args: string[]) => spawnSync(process.execPath, [bin, 'explain', ...args], { encoding: 'utf8', env })

// Which rule each request must reach (by its model name: Cursor's own routing).
const EXPECTED: Record<string, { rule: string; path: RegExp }> = {
  'anthropic-model-hybrid-input.json': { rule: 'cursor-anthropic', path: /^\/messages$/ },
  'anthropic-model-messages-variant.json': { rule: 'cursor-anthropic', path: /^\/messages$/ },
  'chat-dialect-legacy-2025-agent-turn.json': { rule: 'cursor-openai', path: /^\/responses$/ },
  'chat-dialect-mixed-tools-applypatch-history.json': { rule: 'cursor-openai', path: /^\/responses$/ },
  'gemini-model-chat-dialect.json': { rule: 'cursor-gemini', path: /^\/models\/gemini-3-pro:streamGenerateContent\?alt=sse$/ },
  'gpt5-agent-responses-first-turn-minimal.json': { rule: 'cursor-openai', path: /^\/responses$/ },
  'gpt5-agent-responses-full-turn.json': { rule: 'cursor-openai', path: /^\/responses$/ },
  'thinking-model-chat-history-missing-reasoning.json': { rule: 'cursor-compat', path: /^\/chat\/completions$/ },
  'verify-ping-key-check-2025.json': { rule: 'cursor-openai', path: /^\/responses$/ },
  'verify-ping-legacy-2024.json': { rule: 'cursor-openai', path: /^\/responses$/ },
}

t.test('every Cursor request fixture: the rule, the rules before it, the steps, the upstream request', async (t) => {
  const requests = readdirSync(cursor).filter((f) => f.endsWith('.json') && !f.startsWith('expected-'))
  t.same(requests.sort(), Object.keys(EXPECTED).sort(), 'every request fixture is covered')
  for (const f of requests) {
    const r = explain(cursor + f, '--route', '/cursor/chat/completions', '--format', 'json')
    t.equal(r.status, 0, `${f}: ${r.stderr}`)
    const out = JSON.parse(r.stdout)
    const want = EXPECTED[f]!
    t.equal(out.rule.name, want.rule, `${f} → ${want.rule}`)
    const before = out.rules.slice(0, -1)
    t.ok(before.every((c: { matched: boolean; failed: { condition: string; detail: string } }) => !c.matched && c.failed.condition && c.failed.detail), `${f}: each earlier rule with its failed condition`)
    t.same(out.rules.at(-1), { name: want.rule, at: out.rule.at, matched: true, failed: null })
    t.match(out.upstream.path, want.path, `${f}: upstream path`)
    t.equal(out.upstream.method, 'POST')
    t.type(out.upstream.body, 'object', `${f}: the upstream body`)
    t.ok(out.steps.filter((s: { n: number | null; body?: unknown }) => s.n !== null && s.body !== undefined).length >= 2, `${f}: the body after each step`)
    t.notMatch(r.stdout, SECRET, `${f}: no secret in the output`)
  }
})

t.test('text output: rules with their failed condition, steps, the masked upstream request', async (t) => {
  const r = explain(cursor + 'anthropic-model-hybrid-input.json', '--route', '/cursor/chat/completions')
  t.equal(r.status, 0, r.stderr)
  t.match(r.stdout, /^POST \/cursor\/chat\/completions {2}\(model claude-sonnet-4-6\)/)
  t.match(r.stdout, /✗ models +rules\/20-local\.yaml:\d+:\d+ +method: POST is not GET/)
  t.match(r.stdout, /✗ cursor-openai +rules\/30-chat\.yaml:\d+:\d+ +model: "claude-sonnet-4-6" does not match \["gpt-\*","o1\*","o3\*","o4\*","codex\*"\]/)
  t.match(r.stdout, /✓ cursor-anthropic +rules\/30-chat\.yaml:\d+:\d+ +matched/)
  t.match(r.stdout, /Request steps \(rule cursor-anthropic\)\n/)
  t.match(r.stdout, /\d+\. normalize › rules\/transforms\/normalize\/merge-envelopes\.jsonata/)
  t.match(r.stdout, /\d+\. rules\/transforms\/to-anthropic\.jsonata\n/)
  t.match(r.stdout, /Upstream request \(anthropic\)\n  POST https:\/\/api\.anthropic\.com\/v1\/messages\n/)
  t.match(r.stdout, /\n  x-api-key: \*\*\*\n/, 'the key is masked')
  t.notMatch(r.stdout, SECRET)
  t.match(r.stdout, /Client reply: give --upstream-reply FILE/)
})

t.test('--upstream-reply with a transcript prints the client stream', async (t) => {
  const r = explain(cursor + 'gpt5-agent-responses-first-turn-minimal.json', '--route', '/cursor/chat/completions', '--upstream-reply', streams + 'responses/text.sse')
  t.equal(r.status, 0, r.stderr)
  const reply = r.stdout.slice(r.stdout.indexOf('\nClient reply\n'))
  t.match(reply, /^\nClient reply\n  200 text\/event-stream/)
  const frames = [...reply.matchAll(/^ {2}data: (.*)$/gm)].map((m) => m[1]!)
  t.equal(frames.at(-1), '[DONE]')
  const content = frames.slice(0, -1).map((f) => JSON.parse(f)).map((f) => f.choices[0]?.delta?.content ?? '').join('')
  t.equal(content, 'The capital of France is Paris.')

  const json = JSON.parse(explain(cursor + 'anthropic-model-messages-variant.json', '--route', '/cursor/chat/completions', '--upstream-reply', streams + 'anthropic-messages/reasoning.sse', '--format', 'json').stdout)
  t.match(json.client, { status: 200, headers: { 'content-type': /text\/event-stream/ } })
  t.match(json.client.frames.map((f: any) => f?.choices?.[0]?.delta?.content ?? '').join(''), /<summary>Thinking<\/summary>/, 'the Cursor mirror of thinking')
})

t.test('an upstream error status and a JSON body; an example file; a request no rule matches', async (t) => {
  const err = JSON.parse(explain(cursor + 'anthropic-model-messages-variant.json', '--route', '/cursor/chat/completions', '--upstream-reply', streams + 'anthropic-messages/error.response.json', '--upstream-status', '401', '--format', 'json').stdout)
  t.equal(err.client.status, 400, 'Cursor gets a 401 as 400')

  const ex = explain(examples + 'cursor-compat/thinking-history.yaml')
  t.equal(ex.status, 0, ex.stderr)
  t.match(ex.stdout, /✓ cursor-compat/)
  t.match(ex.stdout, /note: upstream 'openai-compat' has no base URL \(set OPENAI_COMPAT_BASE_URL\)/)
  t.match(ex.stdout, /Client reply\n  200 text\/event-stream/, 'the example\'s recorded reply is used')

  const none = explain(cursor + 'gemini-model-chat-dialect.json', '--route', '/nowhere')
  t.equal(none.status, 0)
  t.match(none.stdout, /no rule matched/)
  t.match(none.stdout, /Error RE_NO_RULE: no rule matches POST \/nowhere/)
})

t.test('usage errors exit 2', async (t) => {
  t.equal(explain().status, 2)
  t.equal(explain(cursor + 'verify-ping-legacy-2024.json', '--upstream-status', 'abc', '--route', '/x').status, 2)
  const noRoute = explain(cursor + 'verify-ping-legacy-2024.json')
  t.equal(noRoute.status, 1)
  t.match(noRoute.stderr, /give --route PATH/)
})
