// Values from a request must not shape the upstream URL or headers: a model name like
// `gemini-x/../../../v1/messages` once made the gateway call `POST /v1/messages:generateContent` on the
// Gemini host with the operator's key. Real mock upstream on 127.0.0.1; what it receives is checked.
import t from 'tap'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { request } from 'undici'
import { SHIPPED_RULES } from '../helpers/pack.js'
import { mockUpstream, startEngine, type Engine, type Mock } from '../helpers/server.js'

let mock: Mock
const saved: Record<string, string | undefined> = {}
t.before(async () => {
  // Gemini's own answer to a model it does not know.
  mock = await mockUpstream((_s, res) => { res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"code":404,"message":"model not found","status":"NOT_FOUND"}}') })
  for (const [k, v] of Object.entries({ GEMINI_BASE_URL: `${mock.url}/gemini/v1beta`, GEMINI_API_KEY: 'gemini-operator-key' })) { saved[k] = process.env[k]; process.env[k] = v }
})
t.teardown(async () => {
  await mock.close()
  for (const [k, v] of Object.entries(saved)) { if (v === undefined) delete process.env[k]; else process.env[k] = v }
})

const post = async (engine: Engine, path: string, body: unknown) => {
  const r = await request(engine.url + path, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } })
  return { status: r.statusCode, json: (await r.body.json()) as any }
}

/** What the mock received for one client request (none: undefined). */
const upstreamCall = async (engine: Engine, path: string, body: unknown) => {
  const before = mock.seen.length
  const reply = await post(engine, path, body)
  t.ok(mock.seen.length - before <= 1, 'at most one upstream call')
  return { reply, seen: mock.seen.length > before ? mock.seen.at(-1)! : undefined }
}

/** A value as JS source text, ASCII only (a raw U+2028 in a test name breaks TAP's lines). */
const show = (v: string): string => JSON.stringify(v).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)

const ATTACKS = [
  'gemini-x/../../../v1/messages',
  'gemini-x/../../../v1/messages?key=attacker#',
  'gemini-x?key=attacker',
  'gemini-x#fragment',
  'gemini-x\\..\\..\\..\\v1\\messages',
  'gemini-%2e%2e/%2e%2e/%2e%2e/v1/messages',
  'gemini-x%2F..%2F..%2Fv1%2Fmessages',
  'gemini-x/./../%2E%2E/v1',
  'gemini-x&key=attacker',
]

t.test('shipped gemini rule: an injected model name stays inside its path segment, the literal ?alt=sse still works', async (t) => {
  const engine = await startEngine(SHIPPED_RULES)
  t.teardown(() => engine.close())
  for (const model of ATTACKS) {
    for (const stream of [false, true]) {
      const { reply, seen } = await upstreamCall(engine, '/v1/chat/completions', { model, stream, messages: [{ role: 'user', content: 'hi' }] })
      t.ok(seen, `${model} (stream ${stream}): the upstream was called (status ${reply.status})`)
      if (!seen) continue
      const method = stream ? 'streamGenerateContent' : 'generateContent'
      const [path, query] = seen.url.split('?') as [string, string | undefined]
      t.equal(seen.method, 'POST')
      t.match(path, /^\/gemini\/v1beta\/models\/[^/]+$/, `${model}: the path stays under /gemini/v1beta/models/ (got ${seen.url})`)
      t.equal(decodeURIComponent(path.slice('/gemini/v1beta/models/'.length)), `${model}:${method}`, `${model}: the whole name is one segment`)
      t.equal(query, stream ? 'alt=sse' : undefined, `${model}: the query is the rule's own`)
      t.equal(reply.status, 404, 'the upstream answer (unknown model) reaches the client')
    }
  }
  // and an ordinary name is sent as it was
  const { seen } = await upstreamCall(engine, '/v1/chat/completions', { model: 'gemini-2.5-pro', stream: true, messages: [{ role: 'user', content: 'hi' }] })
  t.equal(seen?.url, '/gemini/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse')
})

/** A rules directory of one upstream at the mock and rules whose path and headers interpolate request values. */
function rulesDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 're-inject-'))
  writeFileSync(join(dir, 'rules.yaml'), [
    'upstreams:',
    `  up: { base: "${mock.url}/up/v1", headers: { x-api-key: operator-key } }`,
    'rules:',
    '  - name: segment',
    '    match: { path: /segment }',
    '    upstream: { to: up, path: "/m/{$request.model}/x" }',
    '  - name: query',
    '    match: { path: /query }',
    '    upstream: { to: up, path: "/q?model={$request.model}&fixed=1" }',
    '  - name: header',
    '    match: { path: /header }',
    '    upstream: { to: up, path: /h, headers: { x-model: "m={$request.model}" } }',
    '  - name: raw',
    '    match: { path: /raw }',
    '    upstream: { to: up, path: "/r/{$request.model}:{raw: $request.stream = true ? \\"s?alt=sse\\" : \\"g\\"}" }',
    '',
  ].join('\n'))
  return dir
}

t.test('dot segments, query parameters and raw parts in a rule\'s own template', async (t) => {
  const engine = await startEngine(rulesDir())
  t.teardown(() => engine.close())
  for (const model of ['..', '.']) {
    const { reply, seen } = await upstreamCall(engine, '/segment', { model })
    t.equal(reply.status, 400, `model ${show(model)}: refused (got ${reply.status}, upstream saw ${seen?.url})`)
    t.equal(reply.json.error?.code, 'RE_UNSAFE_TEMPLATE_VALUE')
    t.match(reply.json.error?.message, /rule 'segment'/, 'the message names the rule')
    t.equal(seen, undefined, 'nothing was sent upstream')
  }
  // Percent-encoded dots are encoded again: the upstream gets the text the client sent.
  for (const [model, sent] of [['%2e%2e', '%252e%252e'], ['.%2E', '.%252E'], ['...', '...'], ['a/../..', 'a%2F..%2F..']] as const) {
    const { reply, seen } = await upstreamCall(engine, '/segment', { model })
    t.equal(seen?.url, `/up/v1/m/${sent}/x`, `model ${show(model)} is one segment (status ${reply.status})`)
  }
  const lone = await upstreamCall(engine, '/segment', { model: 'a\ud800' })
  t.equal(lone.reply.status, 400, 'a lone surrogate cannot be encoded: 400')
  t.equal(lone.reply.json.error?.code, 'RE_UNSAFE_TEMPLATE_VALUE')
  t.equal(lone.seen, undefined)

  const q = await upstreamCall(engine, '/query', { model: 'a&key=attacker#x' })
  t.equal(q.seen?.url, '/up/v1/q?model=a%26key%3Dattacker%23x&fixed=1', 'a value in the query stays one parameter')

  const raw = await upstreamCall(engine, '/raw', { model: 'gem/x', stream: true })
  t.equal(raw.seen?.url, '/up/v1/r/gem%2Fx:s?alt=sse', 'a raw part is pasted as written; the encoded one next to it is not')
  const rawNo = await upstreamCall(engine, '/raw', { model: 'gem', stream: false })
  t.equal(rawNo.seen?.url, '/up/v1/r/gem:g')
})

t.test('CR, LF, other control characters and text beyond Latin-1 in a header template value: 400, nothing sent', async (t) => {
  const engine = await startEngine(rulesDir())
  t.teardown(() => engine.close())
  for (const model of ['a\r\nx-injected: 1', 'a\nx-injected: 1', 'a\rb', 'a\u0000b', 'a\u007fb', 'a\u2028b', 'a\u010ab', '😀']) {
    const { reply, seen } = await upstreamCall(engine, '/header', { model })
    t.equal(reply.status, 400, `${show(model)}: 400 (got ${reply.status}: ${reply.json.error?.message})`)
    t.equal(reply.json.error?.code, 'RE_UNSAFE_TEMPLATE_VALUE')
    t.match(reply.json.error?.message, /header 'x-model'/, 'the message names the header')
    t.equal(seen, undefined, 'nothing was sent upstream')
  }
  const fine = await upstreamCall(engine, '/header', { model: 'gpt-5 (tab\there) é' })
  t.equal(fine.seen?.headers['x-model'], 'm=gpt-5 (tab\there) é', 'tabs and Latin-1 text pass')
  t.equal(fine.seen?.headers['x-injected'], undefined)
})
