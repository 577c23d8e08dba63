// Fault injection with real sockets: a scriptable upstream that refuses, resets, stalls, garbles and
// fails in-band, and for each fault exactly what the client receives. Also retries (429 with
// retry-after, 5xx, in-band errors before the first frame), fallbacks to a second upstream, the
// concurrent-call limit, and a client disconnect reaching the upstream.
import t from 'tap'
import { mkdtempSync, writeFileSync } from 'node:fs'
import type { ServerResponse } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { request } from 'undici'
import { mockUpstream, parseSse, startEngine, type Engine, type Mock, type Seen } from '../helpers/server.js'
import { copyChatWriter } from '../helpers/stream.js'

const PROGRAM = `
        done: "[DONE]"
        on:
          delta: { emit: '{"text": text}' }
          bad: { fail: '{"message": "in-band: " & msg, "status": status}' }
          "*": {}
        error: { emit: '{"text": "[error] " & $error.message}' }`

const RULES = `
errors:
  - write: chat-errors.jsonata
upstreams:
  flaky:
    base: \${FAULT_URL}
    timeouts: { connect: 500, firstByte: 400, idle: 400 }
  backup:
    base: \${BACKUP_URL}
  refused:
    base: \${REFUSED_URL}
  narrow:
    base: \${FAULT_URL}
    maxConcurrent: 1
rules:
  - name: plain
    match: { path: "/plain/**" }
    request: ['$merge([$, {"via": "flaky"}])']
    upstream: { to: flaky, path: '{raw: $ctx.path}' }
    response:
      stream:${PROGRAM}
  - name: retry
    match: { path: "/retry/**" }
    upstream: { to: flaky, path: '{raw: $ctx.path}' }
    retry: { attempts: 3, backoff: 20, maxDelay: 1500 }
    response:
      stream:${PROGRAM}
  - name: fallback
    match: { path: "/fallback/**" }
    upstream: { to: flaky, path: '{raw: $ctx.path}' }
    retry: { attempts: 1, backoff: 20, on: [connect, timeout, 429, 5xx] }
    response:
      stream:${PROGRAM}
    fallback:
      - upstream: { to: refused, path: /never }
      - request: ['$merge([$, {"via": "backup"}])']
        upstream: { to: backup, path: /sse }
        retry: { attempts: 0 }
  - name: refused
    match: { path: /refused }
    upstream: { to: refused }
  - name: whole
    match: { path: "/whole/**" }
    upstream: { to: flaky, path: '{raw: $ctx.path}' }
    retry: { attempts: 1, backoff: 20, on: [connect] }
    response:
      body: '{"got": $}'
  - name: narrow
    match: { path: "/narrow/**" }
    upstream: { to: narrow, path: '{raw: $ctx.path}' }
    response:
      stream:${PROGRAM}
  - name: narrow-fallback
    match: { path: "/narrow-fb/**" }
    upstream: { to: narrow, path: /narrow/hold }
    response:
      stream:${PROGRAM}
    fallback:
      - upstream: { to: backup, path: /sse }
`

type Handler = (res: ServerResponse, seen: Seen) => unknown

let flaky: Mock
let backup: Mock
let engine: Engine
/** Per path, the handlers for successive calls; the last one repeats. */
const script = new Map<string, Handler[]>()
const calls = new Map<string, number[]>()

const sse = (res: ServerResponse) => res.writeHead(200, { 'content-type': 'text/event-stream' })
const ev = (name: string, data: unknown) => `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`
const ok: Handler = (res) => { sse(res); res.write(ev('delta', { text: 'a' })); res.end(ev('delta', { text: 'b' })) }

t.before(async () => {
  flaky = await mockUpstream(async (seen, res) => {
    const path = seen.url.split('?')[0]!
    const at = calls.get(path) ?? []
    calls.set(path, at)
    at.push(performance.now())
    const hs = script.get(path) ?? [ok]
    await hs[Math.min(at.length, hs.length) - 1]!(res, seen)
  })
  backup = await mockUpstream((_seen, res) => { sse(res); res.end(ev('delta', { text: 'from backup' })) })
  const closed = await mockUpstream(() => {})
  const refusedUrl = closed.url
  await closed.close() // a port nobody listens on any more: connection refused
  process.env.FAULT_URL = flaky.url
  process.env.BACKUP_URL = backup.url
  process.env.REFUSED_URL = refusedUrl
  const dir = mkdtempSync(join(tmpdir(), 're-faults-'))
  writeFileSync(join(dir, 'rules.yaml'), RULES)
  copyChatWriter(dir)
  engine = await startEngine(dir)
})
t.teardown(async () => { await engine.close(); await flaky.close(); await backup.close() })

async function post(path: string, body: unknown = { model: 'm' }) {
  const r = await request(engine.url + path, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } })
  const text = await r.body.text()
  let json: any
  try { json = JSON.parse(text) } catch { json = undefined }
  return { status: r.statusCode, headers: r.headers, text, json, frames: parseSse(text).frames }
}

/** Starts a request and resolves once the client has read `marker`; the rest of the body follows. */
async function readUntil(path: string, marker: string) {
  const r = await request(engine.url + path, { method: 'POST', body: '{"model":"m"}' })
  let text = ''
  const it = r.body[Symbol.asyncIterator]()
  while (!text.includes(marker)) {
    const { value, done } = await it.next()
    if (done) break
    text += String(value)
  }
  return {
    status: r.statusCode,
    body: r.body,
    async rest() {
      for (let x = await it.next(); !x.done; x = await it.next()) text += String(x.value)
      return parseSse(text).frames
    },
  }
}

function gate(): { wait: Promise<void>; open: () => void } {
  let open!: () => void
  const wait = new Promise<void>((r) => { open = r })
  return { wait, open }
}

const lastLog = (rule: string) => JSON.parse(engine.logs.filter((l) => l.includes(`"rule":"${rule}"`)).at(-1)!)

t.test('connection refused: 502 RE_UPSTREAM_UNREACHABLE', async (t) => {
  const r = await post('/refused')
  t.equal(r.status, 502)
  t.equal(r.headers['content-type'], 'application/json')
  t.same(Object.keys(r.json.error).sort(), ['code', 'message', 'param', 'type'])
  t.equal(r.json.error.code, 'RE_UPSTREAM_UNREACHABLE')
  t.match(r.json.error.message, /^upstream 'refused' is unreachable: ECONNREFUSED .+ \(rule 'refused'\)$/)
})

t.test('reset before the headers: 502, real HTTP error', async (t) => {
  script.set('/plain/reset-before', [(res) => { res.socket!.destroy() }])
  const r = await post('/plain/reset-before')
  t.equal(r.status, 502)
  t.same(Object.keys(r.json.error).sort(), ['code', 'message', 'param', 'type'])
  t.equal(r.json.error.code, 'RE_UPSTREAM_UNREACHABLE')
  t.equal(r.json.error.type, 'upstream_error')
})

t.test('reset during the stream: the frames so far, the error step, an error frame, [DONE]', async (t) => {
  const g = gate()
  script.set('/plain/reset-during', [async (res) => { sse(res); res.write(ev('delta', { text: 'a' })); await g.wait; res.socket!.destroy() }])
  const c = await readUntil('/plain/reset-during', '"text":"a"')
  g.open()
  const frames = await c.rest()
  t.equal(c.status, 200)
  t.equal(frames.length, 4)
  t.same(frames[0], { text: 'a' })
  t.match(frames[1], { text: /^\[error\] upstream 'flaky' is unreachable: UND_ERR_SOCKET the stream broke: other side closed \(rule 'plain'\)$/ })
  t.match(frames[2], { error: { code: 'RE_UPSTREAM_UNREACHABLE', type: 'upstream_error', param: null } })
  t.equal(frames[3], '[DONE]')
})

t.test('a JSON body broken off mid-way: the upstream failed (502), retried as a reset (connect)', async (t) => {
  const cut: Handler = (res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': '40' })
    res.write('{"answer": "half', () => res.destroy())
  }
  const whole: Handler = (res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"answer": "all"}')
  script.set('/whole/cut-once', [cut, whole])
  const once = await post('/whole/cut-once')
  t.same({ status: once.status, json: once.json, calls: calls.get('/whole/cut-once')!.length }, { status: 200, json: { got: { answer: 'all' } }, calls: 2 })

  script.set('/whole/cut-always', [cut])
  const always = await post('/whole/cut-always')
  t.equal(always.status, 502)
  t.same(always.json.error, {
    message: "upstream 'flaky' broke off its reply: UND_ERR_SOCKET other side closed (rule 'whole')",
    type: 'upstream_error',
    param: null,
    code: 'RE_UPSTREAM_UNREACHABLE',
  })
  t.equal(calls.get('/whole/cut-always')!.length, 2, 'tried twice')
})

t.test('no response headers in time: 504 RE_UPSTREAM_TIMEOUT', async (t) => {
  script.set('/plain/no-headers', [() => { /* never answers */ }])
  const r = await post('/plain/no-headers')
  t.equal(r.status, 504)
  t.equal(r.json.error.code, 'RE_UPSTREAM_TIMEOUT')
  t.match(r.json.error.message, /sent no response headers within 400 ms/)
})

t.test('a body that stalls: the frames so far, then a timeout error frame and [DONE]', async (t) => {
  script.set('/plain/stall', [(res) => { sse(res); res.write(ev('delta', { text: 'a' })) }])
  const r = await post('/plain/stall')
  t.equal(r.status, 200)
  t.same(r.frames, [
    { text: 'a' },
    { text: "[error] timeout: upstream 'flaky' sent nothing for 400 ms (rule 'plain')" },
    { error: { message: "timeout: upstream 'flaky' sent nothing for 400 ms (rule 'plain')", type: 'timeout_error', param: null, code: 'RE_UPSTREAM_TIMEOUT' } },
    '[DONE]',
  ])
})

t.test('malformed SSE: before the first frame a 502; after it an error frame and [DONE]', async (t) => {
  script.set('/plain/garbled-first', [(res) => { sse(res); res.end('event: delta\ndata: {"text": "a\n\n') }])
  const first = await post('/plain/garbled-first')
  t.equal(first.status, 502)
  t.equal(first.json.error.code, 'RE_UPSTREAM_STREAM')
  t.match(first.json.error.message, /^malformed stream from upstream 'flaky': event data is not valid JSON .+ \(rule 'plain'\)$/)

  script.set('/plain/garbled-mid', [(res) => { sse(res); res.write(ev('delta', { text: 'a' })); res.end('event: delta\ndata: {"text": \n\n') }])
  const mid = await post('/plain/garbled-mid')
  t.equal(mid.status, 200)
  t.equal(mid.frames.length, 4)
  t.same(mid.frames[0], { text: 'a' })
  t.match(mid.frames[1].text, /^\[error\] malformed stream from upstream 'flaky'/)
  t.match(mid.frames[2], { error: { code: 'RE_UPSTREAM_STREAM' } })
  t.equal(mid.frames[3], '[DONE]')

  // Built before the reply starts: making 17 MB inside the handler could outlast the 400 ms first-byte deadline on a loaded machine.
  const line = 'data: ' + 'x'.repeat(17 << 20)
  script.set('/plain/endless-line', [(res) => { sse(res); res.write(ev('delta', { text: 'a' })); res.end(line) }])
  const endless = await post('/plain/endless-line')
  t.same(endless.frames[0], { text: 'a' })
  t.match(endless.frames.at(-2), { error: { code: 'RE_UPSTREAM_STREAM', message: /more than 16777216 bytes without a complete event/ } })
  t.equal(endless.frames.at(-1), '[DONE]')
})

t.test('in-band error: first event → a real HTTP error with its status; mid-stream → error frames', async (t) => {
  script.set('/plain/inband-first', [(res) => { sse(res); res.end(ev('bad', { msg: 'overloaded', status: 529 })) }])
  const first = await post('/plain/inband-first')
  t.equal(first.status, 529)
  t.same(first.json, { error: { message: 'in-band: overloaded', type: 'upstream_error', param: null, code: 'RE_UPSTREAM_STREAM' } })

  script.set('/plain/inband-mid', [(res) => { sse(res); res.write(ev('delta', { text: 'a' })); res.end(ev('bad', { msg: 'overloaded', status: 529 })) }])
  const mid = await post('/plain/inband-mid')
  t.equal(mid.status, 200)
  t.same(mid.frames, [
    { text: 'a' },
    { text: '[error] in-band: overloaded' },
    { error: { message: 'in-band: overloaded', type: 'upstream_error', param: null, code: 'RE_UPSTREAM_STREAM' } },
    '[DONE]',
  ])
})

t.test('429 with retry-after: waited for, then retried', async (t) => {
  script.set('/retry/429', [
    (res) => res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '1' }).end('{"error":{"message":"slow down"}}'),
    ok,
  ])
  const r = await post('/retry/429')
  t.equal(r.status, 200)
  t.same(r.frames, [{ text: 'a' }, { text: 'b' }, '[DONE]'])
  const at = calls.get('/retry/429')!
  t.equal(at.length, 2, 'two upstream calls')
  t.ok(at[1]! - at[0]! >= 950, `the retry waited for retry-after: 1 (${Math.round(at[1]! - at[0]!)} ms)`)
  t.same(lastLog('retry').retries, ['flaky'])
  t.same(lastLog('retry').failures, [{ upstream: 'flaky', code: 'HTTP_429' }])

  script.set('/retry/429-long', [(res) => res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '30' }).end('{"error":{"message":"come back later"}}')])
  const long = await post('/retry/429-long')
  t.equal(long.status, 429, 'a retry-after longer than maxDelay is not waited for: the 429 goes to the client')
  t.equal(long.headers['retry-after'], '30')
  t.equal(long.json.error.message, "upstream 'flaky' returned 429: come back later (rule 'retry')")
  t.equal(calls.get('/retry/429-long')!.length, 1)
})

t.test('5xx, reset and in-band errors before the first frame are retried; exhausted retries answer the last error', async (t) => {
  script.set('/retry/mixed', [
    (res) => res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":{"message":"busy"}}'),
    (res) => { res.socket!.destroy() },
    (res) => { sse(res); res.end(ev('bad', { msg: 'overloaded', status: 529 })) },
    ok,
  ])
  const r = await post('/retry/mixed')
  t.equal(r.status, 200)
  t.same(r.frames, [{ text: 'a' }, { text: 'b' }, '[DONE]'])
  t.equal(calls.get('/retry/mixed')!.length, 4)
  t.same(lastLog('retry').failures, [{ upstream: 'flaky', code: 'HTTP_503' }, { upstream: 'flaky', code: 'RE_UPSTREAM_UNREACHABLE' }, { upstream: 'flaky', code: 'RE_UPSTREAM_STREAM' }])
  t.same(lastLog('retry').retries, ['flaky', 'flaky', 'flaky'])

  script.set('/retry/always-500', [(res) => res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":{"message":"boom"}}')])
  const gone = await post('/retry/always-500')
  t.equal(gone.status, 502)
  t.equal(gone.json.error.message, "upstream 'flaky' returned 500: boom (rule 'retry')")
  t.equal(calls.get('/retry/always-500')!.length, 4, '1 + 3 attempts')

  script.set('/retry/bad-request', [(res) => res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":{"message":"no"}}')])
  const bad = await post('/retry/bad-request')
  t.equal(bad.status, 400, 'a 4xx is not retried')
  t.equal(calls.get('/retry/bad-request')!.length, 1)

  script.set('/retry/inband-400', [(res) => { sse(res); res.end(ev('bad', { msg: 'invalid', status: 400 })) }])
  const inband = await post('/retry/inband-400')
  t.equal(inband.status, 400, 'an in-band error with a 4xx status is not retried either')
  t.equal(calls.get('/retry/inband-400')!.length, 1)

  const g = gate()
  script.set('/retry/after-first-frame', [async (res) => { sse(res); res.write(ev('delta', { text: 'a' })); await g.wait; res.end(ev('bad', { msg: 'late', status: 503 })) }, ok])
  const c = await readUntil('/retry/after-first-frame', '"text":"a"')
  g.open()
  const frames = await c.rest()
  t.same(frames.slice(1), [{ text: '[error] in-band: late' }, { error: { message: 'in-band: late', type: 'upstream_error', param: null, code: 'RE_UPSTREAM_STREAM' } }, '[DONE]'], 'once a frame went out there is no retry')
  t.equal(calls.get('/retry/after-first-frame')!.length, 1)
})

t.test('fallback: after the retries, on to the next upstreams with their own request steps', async (t) => {
  script.set('/fallback/500', [(res) => res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":{"message":"down"}}')])
  const before = backup.seen.length
  const r = await post('/fallback/500')
  t.equal(r.status, 200)
  t.same(r.frames, [{ text: 'from backup' }, '[DONE]'])
  t.equal(calls.get('/fallback/500')!.length, 2, 'the first upstream: 1 + 1 attempt')
  t.equal(backup.seen.length, before + 1)
  t.same(backup.seen.at(-1)!.json, { model: 'm', via: 'backup' }, "the fallback's own request step ran on the client's body")
  t.equal(backup.seen.at(-1)!.url, '/sse')
  const log = lastLog('fallback')
  t.same(log.fallbacks, ['refused', 'backup'])
  t.same(log.retries, ['flaky', 'refused'])
  t.same(log.failures.map((f: any) => f.code), ['HTTP_500', 'HTTP_500', 'RE_UPSTREAM_UNREACHABLE', 'RE_UPSTREAM_UNREACHABLE'])
  t.equal(log.upstream, 'backup')

  script.set('/fallback/inband', [(res) => { sse(res); res.end(ev('bad', { msg: 'overloaded', status: 503 })) }])
  const inband = await post('/fallback/inband')
  t.same(inband.frames, [{ text: 'from backup' }, '[DONE]'], 'an in-band error before the first frame falls back too')

  script.set('/fallback/timeout', [() => { /* no headers */ }])
  const slow = await post('/fallback/timeout')
  t.same(slow.frames, [{ text: 'from backup' }, '[DONE]'], "a timeout falls back when the rule's `on` lists it")
})

t.test('maxConcurrent: one call too many is a 503 with retry-after, or goes to a fallback', async (t) => {
  const g = gate()
  script.set('/narrow/hold', [async (res) => { sse(res); res.write(ev('delta', { text: 'held' })); await g.wait; res.end() }])
  const held = await readUntil('/narrow/hold', '"text":"held"')
  const busy = await post('/narrow/other')
  t.equal(busy.status, 503)
  t.equal(busy.headers['retry-after'], '1')
  t.equal(busy.json.error.code, 'RE_UPSTREAM_BUSY')
  t.match(busy.json.error.message, /upstream 'narrow' is busy: 1 requests in flight/)
  const fb = await post('/narrow-fb/x')
  t.same(fb.frames, [{ text: 'from backup' }, '[DONE]'], 'a rule with a fallback goes there instead')
  g.open()
  t.same(await held.rest(), [{ text: 'held' }, '[DONE]'])
  const after = await post('/narrow/other')
  t.equal(after.status, 200, 'the slot is free again once the stream ended')
})

t.test('client disconnect: the upstream sees the close', async (t) => {
  script.set('/plain/forever', [(res) => { sse(res); res.write(ev('delta', { text: 'a' })) }])
  const closed = flaky.closed()
  const c = await readUntil('/plain/forever', '"text":"a"')
  const t0 = performance.now()
  c.body.destroy()
  await closed
  const ms = performance.now() - t0
  t.pass('the upstream request was closed')
  t.comment(`client disconnect → upstream close: ${ms.toFixed(1)} ms`)
})

t.test('server-timing names the phases', async (t) => {
  const r = await post('/plain/timing')
  t.match(String(r.headers['server-timing']), /^match;dur=[\d.]+, transforms;dur=[\d.]+, connect;dur=[\d.]+, firstbyte;dur=[\d.]+$/)
})
