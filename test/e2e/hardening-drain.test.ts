// RunningServer.drain() in process: /readyz turns 503 and new requests on open connections are
// refused while draining; a stream still running at the deadline ends with an error frame and its
// done sentinel rather than a cut connection.
import t from 'tap'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { request } from 'undici'
import { createLogger } from '../../engine/log.js'
import { loadRuleset } from '../../engine/ruleset/compile.js'
import { startServer } from '../../engine/server.js'
import { MemoryStore } from '../../engine/store/memory.js'
import { mockUpstream, parseSse } from '../helpers/server.js'
import { copyChatWriter } from '../helpers/stream.js'

const RULES = `
errors:
  - write: chat-errors.jsonata
upstreams:
  mock: { base: "\${DRAIN_MOCK_URL}" }
rules:
  - name: stream
    match: { method: [GET, POST], path: /stream }
    upstream: { to: mock, path: /sse, method: POST }
    response:
      stream:
        done: "[DONE]"
        on:
          delta: { emit: '{"text": text}' }
          "*": {}
        error: { emit: '{"text": "[error] " & $error.message}' }
`

t.test('draining: readyz 503, new requests refused, the deadline ends a stream cleanly', async (t) => {
  const mock = await mockUpstream((_seen, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    res.write('event: delta\ndata: {"text":"a"}\n\n') // and never more
  })
  t.teardown(() => mock.close())
  process.env.DRAIN_MOCK_URL = mock.url
  const dir = mkdtempSync(join(tmpdir(), 're-drain-'))
  writeFileSync(join(dir, 'rules.yaml'), RULES)
  copyChatWriter(dir)
  const { ruleset } = await loadRuleset(dir)
  const server = await startServer({
    host: '127.0.0.1', port: 0, holder: { current: ruleset!, lastError: null, reloads: 0 }, store: new MemoryStore(),
    logger: createLogger('silent'), keys: [], maxBodyBytes: 1 << 20, maxJsonDepth: 64,
  })
  const port = Number(new URL(server.url).port)

  // One connection, two requests: the stream, and (pipelined, once the drain began) /readyz and another stream.
  const socket = connect(port, '127.0.0.1')
  let raw = ''
  socket.on('data', (d) => { raw += String(d) })
  const ended = new Promise<void>((r) => socket.on('close', () => r()))
  socket.write('GET /stream HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n')
  while (!raw.includes('"text":"a"')) await new Promise((r) => socket.once('data', r))

  const drained = server.drain(300)
  socket.write('GET /readyz HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\nGET /stream HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n')
  const r = await drained
  t.equal(r.inFlight, 1, 'the stream was in flight when the drain began')
  t.ok(r.cut >= 1, 'and was cut at the deadline (with the requests queued behind it)')
  await ended

  const [first, readyz, refused] = raw.split(/(?=HTTP\/1\.1 )/)
  t.match(first, /^HTTP\/1\.1 200 OK/)
  const frames = parseSse(first!.split('\r\n\r\n').slice(1).join('\r\n\r\n').replace(/\r\n[0-9a-f]+\r\n/g, '')).frames
  t.same(frames, [
    { text: 'a' },
    { text: '[error] the server is shutting down: the answer was cut at the 300 ms drain deadline' },
    { error: { message: 'the server is shutting down: the answer was cut at the 300 ms drain deadline', type: 'server_error', param: null, code: 'RE_UNAVAILABLE' } },
    '[DONE]',
  ])
  t.match(readyz, /^HTTP\/1\.1 503 /)
  t.match(readyz, /\{"ready":false,"reason":"draining"\}/)
  t.match(refused, /^HTTP\/1\.1 503 /)
  t.match(refused, /retry-after: 1/i)
  t.match(refused, /connection: close/i)
  t.match(refused, /"code":"RE_UNAVAILABLE"/)
  const after = await request(server.url + '/readyz').catch((e: NodeJS.ErrnoException) => e.code)
  t.equal(after, 'ECONNREFUSED', 'closed')
})
