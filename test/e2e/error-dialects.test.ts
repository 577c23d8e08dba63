// Errors in each client's own dialect: the rules' error writers, chosen by request path (`errors:`)
// or by the rule, write the engine's own errors (no rule, bad JSON, no key) and the upstreams'
// (HTTP statuses, in-band failures before and after the first frame). Exact bodies and frames.
import t from 'tap'
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { request } from 'undici'
import { mockUpstream, startEngine, type Engine, type Mock } from '../helpers/server.js'

const WRITERS = new URL('../fixtures/error-writers/', import.meta.url).pathname

const RULES = `
errors:
  - { path: /v1/messages, write: messages.jsonata }
  - { path: ["/v1/responses", "/v1/responses/**"], write: responses.jsonata }
upstreams:
  mock: { base: "\${DIALECT_MOCK_URL}" }
rules:
  - name: messages
    match: { method: POST, path: /v1/messages, model: claude-* }
    upstream: { to: mock, path: '/{$ctx.rule}' }
    response:
      stream:
        event: type
        on:
          text: { emit: '{"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": text}}' }
          bad: { fail: '{"message": "in-band: " & msg, "status": 529}' }
          "*": {}
        end: { emit: '{"type": "message_stop"}' }
  - name: responses
    match: { method: POST, path: /v1/responses }
    upstream: { to: mock, path: '/{$ctx.rule}' }
    response:
      error: '{"message": "upstream said: " & body.error.message, "code": body.error.code, "status": status = 400 ? 400 : 502}'
      stream:
        event: type
        on:
          text:
            - when: $state.started
              emit: '{"type": "response.output_text.delta", "delta": text}'
            - state: '{"started": true}'
              emit: '[{"type": "response.created", "response": {"id": "resp_" & $ctx.id}}, {"type": "response.output_text.delta", "delta": text}]'
          "*": {}
  - name: own-writer
    match: { method: POST, path: /v1/messages, model: own }
    errors: '{"status": 418, "body": {"rule": rule, "said": message}, "headers": {"x-written-by": "own-writer"}}'
    request: [{ fail: '{"message": "no, thanks", "status": 400}' }]
    upstream: { to: mock }
`

let mock: Mock
let engine: Engine
let locked: Engine
let upstream: Record<string, (res: any) => void> = {}

t.before(async () => {
  mock = await mockUpstream((seen, res) => upstream[seen.url]!(res))
  process.env.DIALECT_MOCK_URL = mock.url
  const dir = mkdtempSync(join(tmpdir(), 're-dialects-'))
  writeFileSync(join(dir, 'rules.yaml'), RULES)
  for (const f of ['messages.jsonata', 'responses.jsonata']) copyFileSync(WRITERS + f, join(dir, f))
  engine = await startEngine(dir)
  locked = await startEngine(dir, { keys: ['the-key'] })
})
t.teardown(async () => { await engine.close(); await locked.close(); await mock.close() })

async function post(path: string, body: unknown, on = engine) {
  const r = await request(on.url + path, { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': 'application/json' } })
  const text = await r.body.text()
  return { status: r.statusCode, headers: r.headers, text, json: JSON.parse(text) }
}

t.test("the engine's own errors, before any rule matched, in the dialect of the request path", async (t) => {
  const none = await post('/v1/messages', { model: 'gpt-9' })
  t.same([none.status, none.json], [404, { type: 'error', error: { type: 'not_found_error', message: "no rule matches POST /v1/messages with model 'gpt-9'" } }], 'no rule')
  const bad = await post('/v1/messages', '{"model": ')
  t.same([bad.status, bad.json.type, bad.json.error.type], [400, 'error', 'invalid_request_error'], 'bad JSON, Messages')
  t.match(bad.json.error.message, /^bad input: the request body is not valid JSON/)
  const badResponses = await post('/v1/responses', '{"model": ')
  t.same(Object.keys(badResponses.json.error), ['message', 'type', 'param', 'code'])
  t.same([badResponses.status, badResponses.json.error.type, badResponses.json.error.param, badResponses.json.error.code], [400, 'invalid_request_error', null, 'RE_BAD_JSON'], 'bad JSON, Responses')

  const keyless = await post('/v1/messages', { model: 'claude-x' }, locked)
  t.same([keyless.status, keyless.json], [401, { type: 'error', error: { type: 'authentication_error', message: 'missing or wrong API key: send one of ROUTE_ENGINE_KEYS as "Authorization: Bearer <key>"' } }], 'no key, Messages')
  const keylessResponses = await post('/v1/responses/compact', { model: 'gpt-x' }, locked)
  t.same([keylessResponses.status, keylessResponses.json], [401, { error: { message: 'missing or wrong API key: send one of ROUTE_ENGINE_KEYS as "Authorization: Bearer <key>"', type: 'invalid_request_error', param: null, code: 'RE_UNAUTHORIZED' } }], 'no key, Responses (a glob path)')

  const neutral = await post('/elsewhere', { model: 'x' })
  t.same([neutral.status, neutral.json], [404, { error: { message: "no rule matches POST /elsewhere with model 'x'", code: 'RE_NO_RULE' } }], 'a path no writer names: the neutral body')
})

t.test('a rule with its own writer writes its errors', async (t) => {
  const r = await post('/v1/messages', { model: 'own' })
  t.same([r.status, r.json, r.headers['x-written-by']], [418, { rule: 'own-writer', said: 'no, thanks' }, 'own-writer'])
})

t.test("upstream errors go through the same writer; retry-after is kept", async (t) => {
  upstream['/messages'] = (res) => res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '3' }).end('{"error":{"message":"slow down"}}')
  const limited = await post('/v1/messages', { model: 'claude-x' })
  t.same([limited.status, limited.headers['retry-after'], limited.json], [429, '3', { type: 'error', error: { type: 'rate_limit_error', message: "upstream 'mock' returned 429: slow down (rule 'messages')" } }])
  upstream['/messages'] = (res) => res.writeHead(500, { 'content-type': 'text/plain' }).end('boom')
  const failed = await post('/v1/messages', { model: 'claude-x' })
  t.same([failed.status, failed.json], [502, { type: 'error', error: { type: 'api_error', message: "upstream 'mock' returned 500: boom (rule 'messages')" } }], '5xx → 502')

  upstream['/responses'] = (res) => res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":{"message":"too long","code":"context_length_exceeded"}}')
  const mapped = await post('/v1/responses', { model: 'gpt-x' })
  t.same([mapped.status, mapped.json], [400, { error: { message: 'upstream said: too long', type: 'invalid_request_error', param: null, code: 'context_length_exceeded' } }], 'response.error maps, the writer writes')
})

const sse = (res: any, text: string) => res.writeHead(200, { 'content-type': 'text/event-stream' }).end(text)

t.test('streams: event lines named by the frame; a failure after the first frame is the writer\'s frame, no terminator', async (t) => {
  upstream['/messages'] = (res) => sse(res, 'event: text\ndata: {"text":"a"}\n\nevent: text\ndata: {"text":"b"}\n\n')
  const ok = await request(engine.url + '/v1/messages', { method: 'POST', body: '{"model":"claude-x"}' })
  t.equal(await ok.body.text(),
    'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"a"}}\n\n' +
    'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"b"}}\n\n' +
    'event: message_stop\ndata: {"type":"message_stop"}\n\n', 'every frame named, no [DONE]')

  upstream['/messages'] = (res) => sse(res, 'event: text\ndata: {"text":"a"}\n\nevent: bad\ndata: {"msg":"overloaded"}\n\n')
  const mid = await request(engine.url + '/v1/messages', { method: 'POST', body: '{"model":"claude-x"}' })
  t.equal(mid.statusCode, 200)
  t.equal(await mid.body.text(),
    'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"a"}}\n\n' +
    'event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"in-band: overloaded"}}\n\n', 'the Messages error event, then the end')

  upstream['/messages'] = (res) => sse(res, 'event: bad\ndata: {"msg":"overloaded"}\n\n')
  const first = await post('/v1/messages', { model: 'claude-x' })
  t.same([first.status, first.headers['content-type'], first.json], [529, 'application/json', { type: 'error', error: { type: 'overloaded_error', message: 'in-band: overloaded' } }], 'before the first frame: an HTTP error')

  upstream['/responses'] = (res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    res.write('event: text\ndata: {"text":"a"}\n\n')
    setTimeout(() => res.destroy(), 20)
  }
  const cut = await request(engine.url + '/v1/responses', { method: 'POST', body: '{"model":"gpt-x"}' })
  const text = await cut.body.text()
  const blocks = text.split('\n\n').filter(Boolean)
  t.equal(blocks.length, 3, text)
  const id = /"id":"(resp_[a-z0-9]{24})"/.exec(blocks[0]!)?.[1]
  t.ok(id, 'the response id the program wrote')
  t.equal(blocks[0], `event: response.created\ndata: {"type":"response.created","response":{"id":"${id}"}}`)
  t.equal(blocks[1], 'event: response.output_text.delta\ndata: {"type":"response.output_text.delta","delta":"a"}')
  const [line, data] = blocks[2]!.split('\n')
  t.equal(line, 'event: response.failed')
  const failed = JSON.parse(data!.slice('data: '.length))
  t.same(Object.keys(failed), ['type', 'response'])
  t.same({ ...failed.response, error: { ...failed.response.error, message: '' } }, { id, object: 'response', status: 'failed', error: { code: 'RE_UPSTREAM_UNREACHABLE', message: '' } }, 'response.failed under the same id')
  t.match(failed.response.error.message, /^upstream 'mock' is unreachable: .* \(rule 'responses'\)$/)
})
