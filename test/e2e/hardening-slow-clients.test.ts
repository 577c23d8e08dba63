// Slow and odd clients, over raw sockets: the header deadline, the whole-request deadline (a body
// that trickles), the connection limit, a request without Host (all answered in JSON), and a client
// that stops reading a stream for longer than the upstream's idle timeout: it gets the whole stream,
// and the healthy upstream is not aborted.
import t from 'tap'
import { once } from 'node:events'
import { mkdtempSync, writeFileSync } from 'node:fs'
import type { ServerResponse } from 'node:http'
import { connect, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { mockUpstream, parseSse, startEngine, type Engine, type Mock } from '../helpers/server.js'
import { copyChatWriter } from '../helpers/stream.js'

const RULES = `
errors:
  - write: chat-errors.jsonata
upstreams:
  mock:
    base: "\${SLOW_MOCK_URL}"
    timeouts: { idle: 300 }
rules:
  - name: echo
    match: { method: POST, path: /echo }
    reply: { body: '{"ok": true}' }
  - name: stream
    match: { method: POST, path: /stream }
    upstream: { to: mock, path: /sse }
    response:
      stream:
        done: "[DONE]"
        on:
          delta: { emit: '{"n": n, "text": text}' }
          "*": {}
`

const EVENT_TEXT = 'z'.repeat(64 * 1024)
let mock: Mock
let engine: Engine
/** Set by the mock: resolves when its writes are held back by the engine (the client stopped reading). */
let blocked: () => void = () => {}
let upstreamEnd: { finished: boolean } = { finished: false }

t.before(async () => {
  // Writes 64 KB events until the engine stops taking them, then, once they flow again, 20 more.
  mock = await mockUpstream(async (_seen, res: ServerResponse) => {
    const state = { finished: false }
    upstreamEnd = state
    res.on('finish', () => { state.finished = true })
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    let n = 0
    const send = () => res.write(`event: delta\ndata: ${JSON.stringify({ n: n++, text: EVENT_TEXT })}\n\n`)
    while (send()) { /* until the buffers between here and the client are full */ }
    blocked()
    await once(res, 'drain')
    for (let i = 0; i < 20; i++) if (!send()) await once(res, 'drain')
    res.end()
  })
  process.env.SLOW_MOCK_URL = mock.url
  const dir = mkdtempSync(join(tmpdir(), 're-slow-'))
  writeFileSync(join(dir, 'rules.yaml'), RULES)
  copyChatWriter(dir)
  engine = await startEngine(dir, { headerTimeoutMs: 300, requestTimeoutMs: 600, maxConnections: 3 })
})
t.teardown(async () => { await engine.close(); await mock.close() })

const port = () => Number(new URL(engine.url).port)

/** A raw connection; `reply` resolves with all it received once it closed. */
async function raw(): Promise<{ socket: Socket; reply: Promise<string> }> {
  const socket = connect(port(), '127.0.0.1')
  let text = ''
  socket.on('data', (d) => { text += String(d) })
  socket.on('error', () => {})
  await once(socket, 'connect')
  return { socket, reply: once(socket, 'close').then(() => text) }
}

const bodyOf = (reply: string): any => JSON.parse(reply.slice(reply.indexOf('\r\n\r\n') + 4))

t.test('headers that do not arrive within the header deadline: 408 in JSON, connection closed', async (t) => {
  const { socket, reply } = await raw()
  socket.write('POST /echo HTTP/1.1\r\nhost: 127.0.0.1\r\n')
  const answer = await reply
  t.match(answer, /^HTTP\/1\.1 408 /)
  t.same(bodyOf(answer).error, { message: 'bad input: the request did not arrive in time (its headers within 300 ms, all of it within 600 ms)', type: 'invalid_request_error', param: null, code: 'RE_REQUEST_TIMEOUT' })
})

t.test('a body that trickles past the request deadline: 408 in JSON, and the log says so', async (t) => {
  const logged = engine.logs.length
  const { socket, reply } = await raw()
  socket.write('POST /echo HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"a":')
  // one byte now and then, never the whole body
  const drip = setInterval(() => socket.write(' '), 100)
  t.teardown(() => clearInterval(drip))
  const answer = await reply
  clearInterval(drip)
  t.match(answer, /^HTTP\/1\.1 408 /)
  t.equal(bodyOf(answer).error.code, 'RE_REQUEST_TIMEOUT')
  // the request's log line is written when its handler has seen the connection close
  const lines = () => engine.logs.slice(logged).map((l) => JSON.parse(l)).filter((l) => l.msg === 'request')
  while (!lines().length) await new Promise((r) => setImmediate(r))
  t.equal(lines().length, 1, 'logged once')
  t.match(lines()[0], { path: '/echo', status: 408, code: 'RE_REQUEST_TIMEOUT' }, 'as the 408 it got')
})

t.test('a request without Host: a JSON 400, not Node\'s bare one', async (t) => {
  const { socket, reply } = await raw()
  socket.write('GET /healthz HTTP/1.1\r\n\r\n')
  const answer = await reply
  t.match(answer, /^HTTP\/1\.1 400 /)
  t.match(answer, /\r\ncontent-type: application\/json\r\n/)
  t.same(bodyOf(answer).error, { message: 'bad input: the request has no Host header (HTTP/1.1 requires one)', type: 'invalid_request_error', param: null, code: 'RE_BAD_REQUEST' })
})

t.test('past the connection limit, a request is answered 503 with retry-after and its connection closed', async (t) => {
  const held = [await raw(), await raw(), await raw()]
  t.teardown(() => { for (const h of held) h.socket.destroy() })
  const extra = await raw()
  extra.socket.write('POST /echo HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-length: 2\r\n\r\n{}')
  const answer = await extra.reply
  t.match(answer, /^HTTP\/1\.1 503 /)
  t.match(answer, /\r\nretry-after: 1\r\n/)
  t.match(answer, /\r\nconnection: close\r\n/i)
  t.same(bodyOf(answer).error, { message: 'the server is busy: it has as many connections open as its limit (--max-connections); send the request again shortly', type: 'server_error', param: null, code: 'RE_SERVER_BUSY' })
  // one of the connections within the limit still gets its answer
  held[0]!.socket.write('POST /echo HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}')
  t.same(bodyOf(await held[0]!.reply), { ok: true })
})

t.test('a client that stops reading for longer than the upstream idle timeout gets the whole stream; the upstream is not aborted', async (t) => {
  const upstreamBlocked = new Promise<void>((r) => { blocked = r })
  const { socket, reply } = await raw()
  socket.pause()
  socket.write('POST /stream HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}')
  await upstreamBlocked
  // The stall itself is what is tested: three times the upstream's 300 ms idle timeout, not reading.
  await new Promise((r) => setTimeout(r, 900))
  socket.resume()
  const text = await reply
  const { frames } = parseSse(text.slice(text.indexOf('\r\n\r\n') + 4))
  const last = frames.at(-2)
  t.equal(frames.at(-1), '[DONE]', 'the stream ended normally')
  t.notOk(frames.some((f) => typeof f === 'object' && f.error), 'no error frame')
  t.equal(frames.length - 1, last.n + 1, 'every event arrived, in order')
  t.ok(upstreamEnd.finished, 'the upstream wrote its whole reply')
})
