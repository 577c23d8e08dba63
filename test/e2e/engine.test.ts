// The engine end to end with generic rules (no shipped pack): every matcher kind, pipelines,
// aliases, templates, local replies, stream programs over real SSE, and every error path.
import t from 'tap'
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { once } from 'node:events'
import { connect } from 'node:net'
import { join } from 'node:path'
import { brotliCompressSync, deflateSync, gunzipSync, gzipSync } from 'node:zlib'
import { request } from 'undici'
import { mockUpstream, parseSse, startEngine, type Engine, type Mock } from '../helpers/server.js'
import { copyChatWriter } from '../helpers/stream.js'

const RULES = `
errors:
  - write: chat-errors.jsonata
vars: { greeting: hello }
models: [m-one]
aliases:
  fancy: { model: base-model, set: { opts: { level: 3 } } }
upstreams:
  mock:
    base: \${TEST_MOCK_URL}
    headers: { authorization: "Bearer \${TEST_SECRET_KEY}", x-static: yes }
  nowhere:
    base: \${TEST_UNSET_BASE_URL}
  refused:
    base: http://127.0.0.1:1
  slow:
    base: \${TEST_MOCK_URL}
    timeouts: { firstByte: 300, idle: 300 }
pipelines:
  tag:
    - transform: '$merge([$, {"tagged": true}])'
    - when: { kind: { equals: double } }
      transform: '$merge([$, {"n": n * 2}])'
rules:
  - name: models
    match: { method: GET, path: /models }
    reply: { body: '{"data": $models.id}' }
  - name: by-header
    match: { method: POST, path: /chat, headers: { x-route: special } }
    reply: { status: 202, body: '{"rule": "by-header"}' }
  - name: by-exists
    match: { method: POST, path: /chat, body: { flag: { exists: true }, "deep.list": { empty: false } } }
    reply: { body: '{"rule": "by-exists"}' }
  - name: by-in
    match: { method: POST, path: /chat, body: { color: { in: [red, blue] }, size: { type: number } } }
    reply: { body: '{"rule": "by-in"}' }
  - name: by-glob-field
    match: { method: POST, path: /chat, body: { "meta.kind": { glob: "tool-*" }, other: { absent: true } } }
    reply: { body: '{"rule": "by-glob-field"}' }
  - name: by-when
    match: { method: POST, path: /chat, when: '$count(items[type = "x"]) > 1' }
    reply: { body: '{"rule": "by-when"}' }
  - name: by-regex
    match: { method: POST, path: /chat, model: { regex: "^rx-[0-9]+$" } }
    reply: { body: '{"rule": "by-regex", "model": $ctx.model}' }
  - name: by-prefix
    match: { method: POST, path: { prefix: /pre/ } }
    reply: { body: '{"rule": "by-prefix", "path": $ctx.path}' }
  - name: by-glob-path
    match: { method: [POST, PUT], path: "/g/*/end" }
    reply: { body: '{"rule": "by-glob-path", "method": $ctx.method}' }
  - name: pipeline
    match: { method: POST, path: /chat, model: [pipe-*, base-model] }
    request:
      - use: tag
      - transform: '$merge([$, {"greeting": $vars.greeting, "client_model": $ctx.model, "original": $request.model}])'
      - when: 'tagged = true and n > 100'
        fail: '{"message": "n too big: " & $string(n), "status": 422, "param": "n", "code": "too_big"}'
    upstream: { to: mock, path: '/echo/{model}', headers: { x-model: '{$ctx.model}' } }
    vars: { greeting: hi }
  - name: stream
    match: { method: POST, path: /stream }
    upstream: { to: mock, path: /sse }
    response:
      stream:
        state: { n: 0 }
        envelope: '{"id": "x-" & $ctx.id, "model": $ctx.model}'
        done: "[DONE]"
        keepalive: 100
        on:
          delta: { state: '{"n": $state.n + 1}', emit: '{"text": text}' }
          bad: { fail: '{"message": "in-band: " & msg}' }
          "*": {}
        end: { emit: '{"count": $state.n}' }
        error: { emit: '{"text": "[error] " & $error.message}' }
  - name: body-transform
    match: { method: POST, path: /body }
    upstream: { to: mock, path: /json }
    response: { body: '{"wrapped": $, "oops": $boom ? $error("never") : undefined}' }
  - name: broken-transform
    match: { method: POST, path: /broken }
    request: ['$number("not a number")']
    upstream: { to: mock }
  - name: runaway
    match: { method: POST, path: /runaway }
    request: ['$reduce([1..9999999], function($a, $x){ $a + $x })']
    upstream: { to: mock }
  - name: recursion
    match: { method: POST, path: /recursion }
    request: ['($f := function($i){ $i > 100000 ? 0 : 1 + $f($i + 1) }; $f(0))']
    upstream: { to: mock }
  - name: unconfigured
    match: { method: POST, path: /nowhere }
    upstream: { to: nowhere }
  - name: refused
    match: { method: POST, path: /refused }
    upstream: { to: refused }
  - name: slow
    match: { method: POST, path: /slow }
    upstream: { to: slow, path: /slow }
  - name: passthrough
    match: { method: POST, path: /raw }
    upstream: { to: mock, path: /raw }
  - name: errors
    match: { method: POST, path: /err }
    upstream: { to: mock, path: /err }
`

let mock: Mock
let engine: Engine
let upstreamMode: Record<string, (res: any, seen: any) => void | Promise<void>> = {}

t.before(async () => {
  mock = await mockUpstream(async (seen, res) => {
    const path = seen.url.split('?')[0]!
    const handler = upstreamMode[path]
    if (handler) return handler(res, seen)
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ echo: seen.json, path: seen.url }))
  })
  process.env.TEST_MOCK_URL = mock.url
  process.env.TEST_SECRET_KEY = 'sk-test-secret-12345'
  delete process.env.TEST_UNSET_BASE_URL
  const dir = mkdtempSync(join(tmpdir(), 're-engine-'))
  writeFileSync(join(dir, 'rules.yaml'), RULES)
  copyChatWriter(dir)
  // No inbound keys: a web origin may call only when listed.
  engine = await startEngine(dir, { limits: { timeoutMs: 300, maxDepth: 500 }, corsOrigins: ['https://x'] })
})
t.teardown(async () => { await engine.close(); await mock.close() })

async function post(path: string, body: unknown, headers: Record<string, string> = {}) {
  const r = await request(engine.url + path, { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': 'application/json', ...headers } })
  const text = await r.body.text()
  let json: any
  try { json = JSON.parse(text) } catch { json = undefined }
  return { status: r.statusCode, headers: r.headers, text, json }
}

t.test('each matcher kind, in order (first match wins)', async (t) => {
  t.same((await post('/chat', { flag: 1, deep: { list: [1] } }, { 'x-route': 'special' })).json, { rule: 'by-header' }, 'headers')
  t.same((await post('/chat', { flag: 1, deep: { list: [1] } })).json, { rule: 'by-exists' }, 'exists + empty:false on a dotted path')
  t.same((await post('/chat', { flag: 1, deep: { list: [] }, color: 'red', size: 3 })).json, { rule: 'by-in' }, 'empty list fails, in + type')
  t.same((await post('/chat', { color: 'green', size: 3, meta: { kind: 'tool-x' } })).json, { rule: 'by-glob-field' }, 'glob + absent')
  t.same((await post('/chat', { meta: { kind: 'tool-x' }, other: 1, items: [{ type: 'x' }, { type: 'x' }] })).json, { rule: 'by-when' }, 'absent fails; JSONata predicate')
  t.same((await post('/chat', { model: 'rx-42' })).json, { rule: 'by-regex', model: 'rx-42' }, 'model regex')
  t.same((await post('/pre/any/thing', {})).json, { rule: 'by-prefix', path: '/pre/any/thing' }, 'path prefix')
  t.same((await post('/g/one/end', {})).json, { rule: 'by-glob-path', method: 'POST' }, 'path glob')
  t.equal((await post('/g/one/two/end', {})).status, 404, '* stays within one segment')
  const none = await post('/chat', { model: 'unknown-model' })
  t.equal(none.status, 404)
  t.same(none.json, { error: { message: "no rule matches POST /chat with model 'unknown-model'", type: 'invalid_request_error', param: null, code: 'RE_NO_RULE' } })
  const get = await request(engine.url + '/models')
  t.same(await get.body.json(), { data: ['m-one', 'fancy'] }, 'local reply with $models')
})

t.test('pipelines, named pipelines, step conditions, alias, vars, templates, upstream headers', async (t) => {
  const r = await post('/chat', { model: 'fancy', kind: 'double', n: 21 })
  t.equal(r.status, 200)
  const seen = mock.seen.at(-1)!
  t.equal(seen.url, '/echo/base-model', 'path template evaluated on the upstream body')
  t.same(seen.json, { model: 'base-model', kind: 'double', n: 42, opts: { level: 3 }, tagged: true, greeting: 'hi', client_model: 'fancy', original: 'base-model' })
  t.equal(seen.headers['authorization'], 'Bearer sk-test-secret-12345', 'header from the environment')
  t.equal(seen.headers['x-static'], 'yes')
  t.equal(seen.headers['x-model'], 'fancy', 'header template')
  const plain = await post('/chat', { model: 'pipe-1', kind: 'single', n: 5 })
  t.same(plain.json.echo, { model: 'pipe-1', kind: 'single', n: 5, tagged: true, greeting: 'hi', client_model: 'pipe-1', original: 'pipe-1' }, 'a step whose when fails is skipped')
  const failed = await post('/chat', { model: 'pipe-1', kind: 'double', n: 60 })
  t.equal(failed.status, 422)
  t.same(failed.json, { error: { message: 'n too big: 120', type: 'invalid_request_error', param: 'n', code: 'too_big' } })
})

t.test('stream program over real SSE: dispatch, state, envelope, end, keep-alive, in-band errors', async (t) => {
  upstreamMode['/sse'] = async (res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    res.write('event: delta\ndata: {"text":"hé')
    await new Promise((r) => setTimeout(r, 10))
    res.write('llo"}\n\nevent: ping\ndata: {}\n\n')
    res.write('event: delta\r\ndata: {"text":" world"}\r\n\r\n')
    res.end('event: delta\ndata: {"text":"!"}')
  }
  const r = await post('/stream', { model: 'm' })
  t.equal(r.headers['content-type'], 'text/event-stream; charset=utf-8')
  const { frames } = parseSse(r.text)
  const id = frames[0].id
  t.match(id, /^x-[a-z0-9]{24}$/)
  t.same(frames, [{ id, model: 'm', text: 'héllo' }, { id, model: 'm', text: ' world' }, { id, model: 'm', text: '!' }, { id, model: 'm', count: 3 }, '[DONE]'])

  upstreamMode['/sse'] = async (res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    res.write('event: delta\ndata: {"text":"a"}\n\n')
    await new Promise((r) => setTimeout(r, 350)) // silence longer than the 100 ms keep-alive
    res.end('event: bad\ndata: {"msg":"overloaded"}\n\n')
  }
  const mid = await post('/stream', { model: 'm' })
  const parsed = parseSse(mid.text)
  t.ok(parsed.comments.includes('keep-alive'), 'keep-alive comment while the upstream is silent')
  t.same(parsed.frames.slice(1), [
    { id: parsed.frames[0].id, model: 'm', text: '[error] in-band: overloaded' },
    { error: { message: 'in-band: overloaded', type: 'upstream_error', param: null, code: 'RE_UPSTREAM_STREAM' } },
    '[DONE]',
  ], 'mid-stream error: error step, error frame, done')

  upstreamMode['/sse'] = (res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    res.end('event: bad\ndata: {"msg":"overloaded"}\n\n')
  }
  const first = await post('/stream', { model: 'm' })
  t.equal(first.status, 502, 'an in-band error before any frame is a real HTTP error')
  t.equal(first.json.error.message, 'in-band: overloaded')

  upstreamMode['/sse'] = (res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    res.write('event: delta\ndata: {"text":"a"}\n\n')
    setTimeout(() => res.destroy(), 20)
  }
  const reset = parseSse((await post('/stream', { model: 'm' })).text).frames
  t.equal(reset.at(-1), '[DONE]', 'an upstream reset mid-stream still ends the stream cleanly')
  t.match(reset.at(-2), { error: { code: 'RE_UPSTREAM_UNREACHABLE' } })
})

t.test('client disconnect aborts the upstream request', async (t) => {
  upstreamMode['/sse'] = (res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    res.write('event: delta\ndata: {"text":"a"}\n\n')
  }
  const closed = mock.closed()
  const r = await request(engine.url + '/stream', { method: 'POST', body: '{"model":"m"}' })
  const [first] = await Promise.all([new Promise((resolve) => r.body.once('data', resolve))])
  t.match(String(first), /"text":"a"/)
  r.body.destroy()
  await closed
  t.pass('the upstream saw the close')
})

t.test('a client that disconnects halfway through its body: the request ends, logged, and the upstream is not called', async (t) => {
  const calls = mock.seen.length
  const socket = connect(Number(new URL(engine.url).port), '127.0.0.1')
  await once(socket, 'connect')
  socket.write('POST /raw HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{"model": "m", "pad')
  await new Promise<void>((resolve) => socket.write('', () => resolve()))
  socket.destroy()
  const logged = () => engine.logs.find((l) => l.includes('"msg":"request"') && l.includes('"path":"/raw"') && l.includes('RE_BAD_REQUEST'))
  while (!logged()) await new Promise((resolve) => setImmediate(resolve))
  t.match(JSON.parse(logged()!), { method: 'POST', path: '/raw', code: 'RE_BAD_REQUEST', status: 499 })
  t.equal(mock.seen.length, calls, 'nothing went upstream')
})

t.test('compressed request bodies: gzip, deflate and br are read; the size limit holds for what they expand to', async (t) => {
  const send = async (body: Buffer | string, encoding: string) => {
    const r = await request(engine.url + '/chat', { method: 'POST', body, headers: { 'content-type': 'application/json', 'content-encoding': encoding } })
    return { status: r.statusCode, json: (await r.body.json()) as any }
  }
  const json = JSON.stringify({ model: 'rx-7' })
  for (const [encoding, compress] of [['gzip', gzipSync], ['deflate', deflateSync], ['br', brotliCompressSync]] as const) {
    t.same(await send(compress(json), encoding), { status: 200, json: { rule: 'by-regex', model: 'rx-7' } }, encoding)
  }
  // 4 MiB of spaces compress to a few KB: under the 1 MiB limit on the wire, over it expanded
  const bomb = await send(gzipSync(Buffer.alloc(4 << 20, 32)), 'gzip')
  t.same([bomb.status, bomb.json.error.code], [413, 'RE_BODY_TOO_LARGE'], 'a decompression bomb is refused by the size limit')
  const garbage = await send('{"not": "gzip"}', 'gzip')
  t.same([garbage.status, garbage.json.error.code], [400, 'RE_BAD_REQUEST'])
  t.match(garbage.json.error.message, /not valid gzip data/)
  const unknown = await send(json, 'zstd')
  t.same([unknown.status, unknown.json.error.message], [415, "bad input: the request body's content-encoding 'zstd' is not supported (gzip, deflate, br or none)"])
})

t.test('bad input and upstream errors are OpenAI-shaped, with kind and rule', async (t) => {
  const bad = await post('/chat', '{"model": ')
  t.equal(bad.status, 400)
  t.equal(bad.json.error.code, 'RE_BAD_JSON')
  const big = await post('/chat', { model: 'x', pad: 'a'.repeat(1100 * 1024) })
  t.equal(big.status, 413)
  t.equal(big.json.error.code, 'RE_BODY_TOO_LARGE')
  const deep = await post('/chat', '['.repeat(10000) + ']'.repeat(10000))
  t.equal(deep.status, 400)
  t.equal(deep.json.error.code, 'RE_TOO_DEEP')
  const tr = await post('/broken', {})
  t.equal(tr.status, 500)
  t.equal(tr.json.error.code, 'RE_TRANSFORM_FAILED')
  t.match(tr.json.error.message, /rule 'broken-transform' at .*rules\.yaml:\d+:\d+ failed/)
  const runaway = await post('/runaway', {})
  t.equal(runaway.json.error.code, 'RE_TRANSFORM_TIMEOUT', 'a runaway expression hits the time limit')
  const rec = await post('/recursion', {})
  t.equal(rec.json.error.code, 'RE_TRANSFORM_FAILED', 'deep recursion hits the depth limit, the process lives')
  t.match(rec.json.error.message, /recursion limit/)
  const unconf = await post('/nowhere', { model: 'mine' })
  t.equal(unconf.status, 400)
  t.match(unconf.json.error.message, /model 'mine' routes to upstream 'nowhere' .* set TEST_UNSET_BASE_URL/)
  const refused = await post('/refused', {})
  t.equal(refused.status, 502)
  t.equal(refused.json.error.code, 'RE_UPSTREAM_UNREACHABLE')
  upstreamMode['/slow'] = () => { /* never answers */ }
  const slow = await post('/slow', {})
  t.equal(slow.status, 504)
  t.equal(slow.json.error.code, 'RE_UPSTREAM_TIMEOUT')
  for (const [status, want] of [[500, 502], [503, 502], [429, 429], [400, 400]] as const) {
    upstreamMode['/err'] = (res) => res.writeHead(status, { 'content-type': 'application/json', 'retry-after': '7' }).end('{"error":{"message":"nope ' + status + '"}}')
    const e = await post('/err', {})
    t.equal(e.status, want, `upstream ${status} → ${want}`)
    t.equal(e.json.error.message, `upstream 'mock' returned ${status}: nope ${status} (rule 'errors')`)
    if (status === 429) t.equal(e.headers['retry-after'], '7', 'retry-after passed on')
  }
  upstreamMode['/json'] = (res) => res.writeHead(200, { 'content-type': 'application/json' }).end('not json')
  const nj = await post('/body', {})
  t.equal(nj.status, 502)
})

t.test('pass-through, body transform, CORS preflight, health; secrets never logged', async (t) => {
  upstreamMode['/raw'] = (res) => res.writeHead(201, { 'content-type': 'text/plain', 'x-up': '1' }).end('raw bytes')
  const raw = await post('/raw', {})
  t.equal(raw.status, 201)
  t.equal(raw.text, 'raw bytes')
  t.equal(raw.headers['x-up'], '1')
  // The upstream's bytes are passed unchanged, so their length and encoding go with them.
  const packed = gzipSync('{"packed": true}')
  upstreamMode['/raw'] = (res) => res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip', 'content-length': packed.length }).end(packed)
  const enc = await request(engine.url + '/raw', { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } })
  t.same([enc.headers['content-encoding'], enc.headers['content-length'], enc.headers['transfer-encoding']], ['gzip', String(packed.length), undefined])
  t.same(gunzipSync(Buffer.from(await enc.body.arrayBuffer())).toString(), '{"packed": true}')
  // A body slow to start: the client has the headers before the upstream sends a byte of it.
  let sendBody!: () => void
  const bodyAsked = new Promise<void>((resolve) => { sendBody = resolve })
  upstreamMode['/raw'] = async (res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    res.flushHeaders()
    await bodyAsked
    res.end('data: late\n\n')
  }
  const slowStart = await request(engine.url + '/raw', { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } })
  t.equal(slowStart.statusCode, 200, 'headers arrived while the upstream body had not started')
  sendBody()
  t.equal(await slowStart.body.text(), 'data: late\n\n')
  delete upstreamMode['/json']
  const body = await post('/body', { a: 1 })
  t.same(body.json, { wrapped: { echo: { a: 1 }, path: '/json' } })
  const pre = await request(engine.url + '/anything/at/all', { method: 'OPTIONS', headers: { origin: 'https://x', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' } })
  t.equal(pre.statusCode, 204)
  t.equal(pre.headers['access-control-allow-origin'], 'https://x')
  t.match(String(pre.headers['access-control-allow-headers']), /authorization/)
  await pre.body.dump()
  const h = await request(engine.url + '/healthz')
  const health = (await h.body.json()) as any
  t.equal(health.status, 'ok')
  t.match(health.ruleset.hash, /^[0-9a-f]{64}$/)
  t.ok(engine.logs.length > 10)
  const line = JSON.parse(engine.logs.find((l) => l.includes('"rule":"pipeline"'))!)
  t.match(line, { msg: 'request', method: 'POST', rule: 'pipeline', upstream: 'mock', upstreamStatus: 200, status: 200 })
  t.type(line.ms.total, 'number')
  t.notOk(engine.logs.join('').includes('sk-test-secret-12345'), 'the upstream key is in no log line')
})
