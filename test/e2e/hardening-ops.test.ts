// Operations through the built CLI: graceful SIGTERM with a stream in flight, Prometheus /metrics,
// /readyz, the header-size limit, TLS with a renewed certificate picked up without a restart, and
// --workers reloading together.
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import type { ServerResponse } from 'node:http'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect as tlsConnect } from 'node:tls'
import { Agent, request } from 'undici'
import { serveCli } from '../helpers/cli-server.js'
import { mockUpstream, parseSse, type Mock } from '../helpers/server.js'
import { copyChatWriter } from '../helpers/stream.js'

const rules = (says: string) => `
errors:
  - write: chat-errors.jsonata
upstreams:
  mock: { base: "\${OPS_MOCK_URL}" }
  dead: { base: "\${OPS_DEAD_URL}" }
rules:
  - name: says
    match: { method: POST, path: /says }
    reply: { body: '{"says": "${says}"}' }
  - name: stream
    match: { method: POST, path: /stream }
    upstream: { to: dead, path: /sse }
    retry: { attempts: 1, backoff: 10 }
    fallback:
      - upstream: { to: mock, path: /sse }
    response:
      stream:
        done: "[DONE]"
        on:
          delta: { emit: '{"text": text}' }
          "*": {}
`

let mock: Mock
let release: () => void = () => {}
let deadUrl = ''
t.before(async () => {
  // Each stream: one event now, the rest when the test releases it.
  mock = await mockUpstream(async (_seen, res: ServerResponse) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    res.write('event: delta\ndata: {"text":"a"}\n\n')
    await new Promise<void>((r) => { const prev = release; release = () => { prev(); r() } })
    res.end('event: delta\ndata: {"text":"b"}\n\n')
  })
  const dead = await mockUpstream(() => {})
  deadUrl = dead.url
  await dead.close()
})
t.teardown(() => mock.close())

function rulesDir(says = 'one'): { dir: string; file: string } {
  const dir = mkdtempSync(join(tmpdir(), 're-ops-'))
  writeFileSync(join(dir, 'rules.yaml'), rules(says))
  copyChatWriter(dir)
  return { dir, file: join(dir, 'rules.yaml') }
}

const env = () => ({ OPS_MOCK_URL: mock.url, OPS_DEAD_URL: deadUrl })

/** Starts a stream and resolves once its first frame arrived; `rest` reads it to the end. */
async function openStream(url: string, dispatcher?: Agent) {
  const r = await request(url + '/stream', { method: 'POST', body: '{}', dispatcher })
  const it = r.body[Symbol.asyncIterator]()
  let text = String((await it.next()).value)
  return {
    status: r.statusCode,
    headers: r.headers,
    async rest() {
      for (let x = await it.next(); !x.done; x = await it.next()) text += String(x.value)
      return parseSse(text).frames
    },
  }
}

t.test('metrics, readyz, header limit; SIGTERM lets the stream in flight finish, refuses new connections, exits 0', async (t) => {
  const { dir, file } = rulesDir()
  const s = await serveCli(['--rules', dir, '--max-header-size', '4096', '--drain-timeout', '20000'], env())
  t.teardown(() => s.stop('SIGKILL'))

  const ready = await request(s.url + '/readyz')
  t.equal(ready.statusCode, 200)
  t.same(await ready.body.json(), { ready: true })

  const big = await request(s.url + '/says', { method: 'POST', body: '{}', headers: { 'x-big': 'b'.repeat(5000) } }).catch((e) => e)
  t.equal(big.statusCode, 431, 'a head over --max-header-size')
  t.same(await big.body.json(), { error: { message: 'bad input: the request line and headers are larger than the limit of 4096 bytes', type: 'invalid_request_error', param: null, code: 'RE_HEADERS_TOO_LARGE' } })

  const reloaded = s.next((r) => r.msg === 'rules reloaded')
  writeFileSync(file, rules('two'))
  await reloaded

  const st = await openStream(s.url)
  t.equal(st.status, 200)
  t.match(String(st.headers['server-timing']), /^match;dur=[\d.]+, transforms;dur=[\d.]+, connect;dur=[\d.]+, firstbyte;dur=[\d.]+$/)
  const draining = s.next((r) => r.msg?.startsWith('draining'))
  const exit = s.stop('SIGTERM')
  await draining
  const refused = await new Promise<string | undefined>((resolve) => {
    const c = connect(Number(new URL(s.url).port), '127.0.0.1', () => { c.destroy(); resolve('connected') })
    c.on('error', (e: NodeJS.ErrnoException) => resolve(e.code))
  })
  t.equal(refused, 'ECONNREFUSED', 'no new connections once draining')
  release()
  t.same(await st.rest(), [{ text: 'a' }, { text: 'b' }, '[DONE]'], 'the stream in flight finished')
  t.equal(await exit, 0)
  t.match(s.logs.find((r) => r.msg === 'stopped'), { inFlight: 1, cut: 0 })

  const log = s.logs.find((r) => r.msg === 'request' && r.rule === 'stream')
  t.match(log, { status: 200, upstream: 'mock', retries: ['dead'], fallbacks: ['mock'], frames: 3 })
  t.type(log.ms.firstToken, 'number')
})

t.test('/metrics: requests by rule and status, latency, first token, chunks, upstream errors, retries, fallbacks, reloads', async (t) => {
  const { dir, file } = rulesDir()
  const s = await serveCli(['--rules', dir], env())
  t.teardown(() => s.stop('SIGKILL'))
  const reloaded = s.next((r) => r.msg === 'rules reloaded')
  writeFileSync(file, rules('two'))
  await reloaded
  for (let i = 0; i < 3; i++) await (await request(s.url + '/says', { method: 'POST', body: '{}' })).body.dump()
  await (await request(s.url + '/nowhere', { method: 'POST', body: '{}' })).body.dump()
  const st = await openStream(s.url)
  release()
  await st.rest()
  const m = await request(s.url + '/metrics')
  t.match(String(m.headers['content-type']), /^text\/plain/)
  const text = await m.body.text()
  const line = (re: RegExp) => text.split('\n').find((l) => re.test(l))
  t.match(line(/^route_engine_requests_total\{rule="says",status="200"\}/), / 3$/)
  t.match(line(/^route_engine_requests_total\{rule="\(none\)",status="404"\}/), / 1$/)
  t.match(line(/^route_engine_requests_total\{rule="stream",status="200"\}/), / 1$/)
  t.match(line(/^route_engine_request_duration_seconds_count\{rule="stream"\}/), / 1$/)
  t.match(line(/^route_engine_time_to_first_token_seconds_count\{rule="stream"\}/), / 1$/)
  t.match(line(/^route_engine_stream_chunks_total\{rule="stream"\}/), / 3$/, 'a, b and [DONE]')
  t.match(line(/^route_engine_upstream_errors_total\{upstream="dead",code="RE_UPSTREAM_UNREACHABLE"\}/), / 2$/)
  t.match(line(/^route_engine_retries_total\{rule="stream",upstream="dead"\}/), / 1$/)
  t.match(line(/^route_engine_fallbacks_total\{rule="stream",upstream="mock"\}/), / 1$/)
  t.match(line(/^route_engine_reloads_total\{result="ok"\}/), / 1$/)
  t.match(line(/^route_engine_upstream_in_flight\{upstream="mock"\}/), / 0$/)
  t.ok(line(/^route_engine_process_cpu_seconds_total/), 'process metrics too')
})

t.test('TLS: serves the certificate it was given, and a renewed one without a restart', async (t) => {
  const { dir } = rulesDir()
  const tls = mkdtempSync(join(tmpdir(), 're-tls-'))
  const make = (cn: string) => {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', `/CN=${cn}`, '-keyout', join(tls, `${cn}.key`), '-out', join(tls, `${cn}.crt`)], { stdio: 'ignore' })
    return { cert: readFileSync(join(tls, `${cn}.crt`)), key: readFileSync(join(tls, `${cn}.key`)) }
  }
  const first = make('first')
  const second = make('second')
  const certPath = join(tls, 'live.crt')
  const keyPath = join(tls, 'live.key')
  writeFileSync(certPath, first.cert)
  writeFileSync(keyPath, first.key)
  const s = await serveCli(['--rules', dir, '--tls-cert', certPath, '--tls-key', keyPath], env())
  t.teardown(() => s.stop('SIGKILL'))
  t.match(s.url, /^https:\/\/127\.0\.0\.1:\d+$/)
  const port = Number(new URL(s.url).port)
  const peer = () => new Promise<string>((resolve, reject) => {
    const c = tlsConnect({ port, host: '127.0.0.1', rejectUnauthorized: false }, () => { resolve(String(c.getPeerCertificate().subject.CN)); c.end() })
    c.on('error', reject)
  })
  t.equal(await peer(), 'first')
  const agent = new Agent({ connect: { ca: first.cert, servername: 'first', checkServerIdentity: () => undefined } })
  const r = await request(s.url + '/says', { method: 'POST', body: '{}', dispatcher: agent })
  t.same(await r.body.json(), { says: 'one' }, 'HTTPS answers, verified against the first certificate')
  await agent.close()

  const mismatched = s.next((r) => r.msg?.startsWith('certificate reload failed'))
  writeFileSync(certPath, second.cert) // the key still is the first one's
  await mismatched
  t.equal(await peer(), 'first', 'a certificate without its key is not taken')

  const renewed = s.next((r) => r.msg === 'certificate reloaded')
  writeFileSync(keyPath, second.key)
  await renewed
  t.equal(await peer(), 'second', 'the renewed certificate serves new connections')
  t.equal(await s.stop(), 0)
})

t.test('--workers 2: every worker serves, all reload together, metrics add up, SIGTERM drains them', async (t) => {
  const { dir, file } = rulesDir()
  const s = await serveCli(['--rules', dir, '--workers', '2'], env())
  t.teardown(() => s.stop('SIGKILL'))
  t.match(s.logs.find((r) => r.msg === 'route-engine listening'), { workers: 2 })
  const says = async () => ((await (await request(s.url + '/says', { method: 'POST', body: '{}', reset: true })).body.json()) as any).says
  t.same(await Promise.all(Array.from({ length: 10 }, says)), Array(10).fill('one'))

  let together = s.next((r) => r.msg === 'workers reloaded')
  writeFileSync(file, rules('two'))
  t.match(await together, { workers: 2, failed: 0, consistent: true })
  t.same(await Promise.all(Array.from({ length: 10 }, says)), Array(10).fill('two'), 'each worker has the new rules')

  together = s.next((r) => r.msg === 'workers reloaded')
  writeFileSync(file, rules('three').replace('rules:', 'rules: ['))
  t.match(await together, { workers: 2, failed: 2 }, 'a broken edit is refused by every worker')
  t.same(await Promise.all(Array.from({ length: 10 }, says)), Array(10).fill('two'))
  const health = await Promise.all(Array.from({ length: 4 }, async () => ((await (await request(s.url + '/healthz', { reset: true })).body.json()) as any).status))
  t.same(health, Array(4).fill('degraded'), 'and every worker says so on /healthz')

  const text = await (await request(s.url + '/metrics')).body.text()
  t.match(text, /^route_engine_requests_total\{rule="says",status="200"\} 30$/m, "/metrics adds up both workers' requests")
  t.match(text, /^route_engine_reloads_total\{result="ok"\} 1$/m, 'a reload counts once, not once per worker')

  const st = await openStream(s.url)
  const exit = s.stop('SIGTERM')
  await s.next((r) => r.msg === 'stopping: workers drain')
  release()
  t.same(await st.rest(), [{ text: 'a' }, { text: 'b' }, '[DONE]'], 'a stream in flight finishes')
  t.equal(await exit, 0)
})
