// Bounded buffering: the budget for request bodies held at once across requests (503 with
// retry-after past it, and the bytes held back to 0 after), an over-limit chunked body answered 413
// (not a reset), and the cap on an upstream's JSON reply (502 naming the limit and the upstream).
import t from 'tap'
import { once } from 'node:events'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { connect, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { request } from 'undici'
import { mockUpstream, startEngine, type Engine, type Mock } from '../helpers/server.js'
import { copyChatWriter } from '../helpers/stream.js'

const RULES = `
errors:
  - write: chat-errors.jsonata
upstreams:
  mock: { base: "\${MEMORY_MOCK_URL}" }
rules:
  - name: echo
    match: { method: POST, path: /echo }
    reply: { body: '{"size": $length(text)}' }
  - name: json
    match: { method: POST, path: "/json/**" }
    upstream: { to: mock, path: '{raw: $ctx.path}' }
    response:
      body: '{"got": $length(text)}'
`

const BIG = 200_000
let mock: Mock
let engine: Engine
t.before(async () => {
  // /json/declared: a reply with its content-length; /json/chunked: the same without one
  mock = await mockUpstream((seen, res) => {
    const text = JSON.stringify({ text: 'y'.repeat(BIG) })
    if (seen.url.endsWith('/declared')) res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text)
    else if (seen.url.endsWith('/chunked')) { res.writeHead(200, { 'content-type': 'application/json' }); res.write(text.slice(0, 1000)); res.end(text.slice(1000)) }
    else res.writeHead(200, { 'content-type': 'application/json' }).end('{"text": "small"}')
  })
  process.env.MEMORY_MOCK_URL = mock.url
  const dir = mkdtempSync(join(tmpdir(), 're-memory-'))
  writeFileSync(join(dir, 'rules.yaml'), RULES)
  copyChatWriter(dir)
  engine = await startEngine(dir, { maxBodyBytes: 80_000, bodyBudgetBytes: 100_000, maxUpstreamReplyBytes: 100_000 })
})
t.teardown(async () => { await engine.close(); await mock.close() })

/** A raw connection to the engine; `reply` resolves with everything it sent back, once it closed. */
function raw(): { socket: Socket; reply: Promise<string> } {
  const socket = connect(Number(new URL(engine.url).port), '127.0.0.1')
  let text = ''
  socket.on('data', (d) => { text += String(d) })
  // the engine may reset a connection that goes on sending after its answer: what came before counts
  socket.on('error', () => {})
  return { socket, reply: once(socket, 'close').then(() => text) }
}

const bodyOf = (reply: string): any => JSON.parse(reply.slice(reply.indexOf('\r\n\r\n') + 4))

async function bytesHeld(): Promise<number> {
  const text = await (await request(engine.url + '/metrics')).body.text()
  return Number(/^route_engine_body_bytes_held (\d+)$/m.exec(text)![1])
}

t.test('the body budget: a body that would take the bytes held past it gets 503 with retry-after; the bytes held return to 0', async (t) => {
  const body = JSON.stringify({ text: 'x'.repeat(60_000) })
  // A request whose body is on its way holds its declared length from its first byte.
  const first = raw()
  first.socket.write(`POST /echo HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body.slice(0, 10)}`)
  while ((await bytesHeld()) < body.length) await new Promise((r) => setImmediate(r))
  t.equal(await bytesHeld(), body.length, 'the first body is counted whole')

  const second = await request(engine.url + '/echo', { method: 'POST', body, headers: { 'content-type': 'application/json' } })
  t.equal(second.statusCode, 503)
  t.equal(second.headers['retry-after'], '1')
  const err = (await second.body.json()) as any
  t.equal(err.error.code, 'RE_SERVER_BUSY')
  t.match(err.error.message, /exceed the limit of 100000 bytes held at once \(--body-budget\)/)

  first.socket.end(body.slice(10))
  const answer = await first.reply
  t.match(answer, /^HTTP\/1\.1 200 /)
  t.same(bodyOf(answer), { size: 60_000 })
  t.equal(await bytesHeld(), 0, 'every byte held is given back')

  const third = await request(engine.url + '/echo', { method: 'POST', body, headers: { 'content-type': 'application/json' } })
  t.equal(third.statusCode, 200, 'with the budget free again, the same body is taken')
  t.same(await third.body.json(), { size: 60_000 })
})

t.test('a chunked body over the size limit gets a 413 JSON answer, not a reset', async (t) => {
  const { socket, reply } = raw()
  socket.write('POST /echo HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n')
  const chunk = 'x'.repeat(16_000)
  // past the 80,000-byte limit, and still sending when the answer comes
  for (let i = 0; i < 8; i++) socket.write(`${chunk.length.toString(16)}\r\n${chunk}\r\n`)
  const answer = await reply
  t.match(answer, /^HTTP\/1\.1 413 /)
  t.match(answer, /\r\nconnection: close\r\n/i)
  t.same(bodyOf(answer), { error: { message: 'bad input: the request body is larger than the limit of 80000 bytes', type: 'invalid_request_error', param: null, code: 'RE_BODY_TOO_LARGE' } })
  t.equal(await bytesHeld(), 0)
})

t.test("an upstream JSON reply over the cap is a 502 naming the limit and the upstream, whether or not it declared its length", async (t) => {
  for (const path of ['/json/declared', '/json/chunked']) {
    const r = await request(engine.url + path, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } })
    t.equal(r.statusCode, 502, path)
    t.same(await r.body.json(), {
      error: { message: "upstream 'mock' answered with a body larger than the limit of 100000 bytes (--max-upstream-reply, rule 'json')", type: 'upstream_error', param: null, code: 'RE_UPSTREAM_TOO_LARGE' },
    }, path)
  }
  const small = await request(engine.url + '/json/small', { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } })
  t.same(await small.body.json(), { got: 5 }, 'a reply under the cap is read as before')
})
