// A gateway without inbound keys listens on loopback, but a web page the user visits can reach
// loopback: a `text/plain` POST needs no CORS preflight (and used to get 200 with
// `access-control-allow-origin: *`), and DNS rebinding makes the page's own host name point at
// 127.0.0.1. Requests here are sent as a browser would send them: Origin, Host, content types.
import t, { type Test } from 'tap'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { request } from 'undici'
import type { ServerOptions } from '../../engine/server.js'
import { mockUpstream, startEngine, type Engine, type Mock } from '../helpers/server.js'

let mock: Mock
let dir: string
t.before(async () => {
  mock = await mockUpstream((_s, res) => { res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}') })
  dir = mkdtempSync(join(tmpdir(), 're-keyless-'))
  writeFileSync(join(dir, 'rules.yaml'), [
    'upstreams:',
    `  up: { base: "${mock.url}", headers: { authorization: Bearer operator-upstream-key } }`,
    'rules:',
    '  - { name: chat, match: { path: /v1/chat/completions }, upstream: { to: up, path: /chat } }',
    '',
  ].join('\n'))
})
t.teardown(() => mock.close())

async function engineWith(t: Test, opts: Partial<ServerOptions> = {}): Promise<Engine> {
  const engine = await startEngine(dir, opts)
  t.teardown(() => engine.close())
  return engine
}

type Answer = { status: number; headers: Record<string, string | string[] | undefined>; json: any; upstreamCalls: number }

async function send(engine: Engine, method: string, path: string, headers: Record<string, string>, body?: string | Uint8Array): Promise<Answer> {
  const before = mock.seen.length
  const r = await request(engine.url + path, { method: method as 'POST', headers, body })
  const text = await r.body.text()
  let json: any
  try { json = JSON.parse(text) } catch { json = text }
  return { status: r.statusCode, headers: r.headers, json, upstreamCalls: mock.seen.length - before }
}

const BODY = JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'spend the operator\'s tokens' }] })
const port = (engine: Engine) => new URL(engine.url).port

t.test('no keys: a page\'s simple POST (text/plain, a form, an untyped Blob) is refused and reaches no upstream', async (t) => {
  const engine = await engineWith(t)
  const cases: [string, Record<string, string>, number, string][] = [
    ['fetch text/plain from a page', { origin: 'https://evil.example', 'content-type': 'text/plain;charset=UTF-8' }, 403, 'RE_FORBIDDEN_ORIGIN'],
    ['fetch with an untyped Blob', { origin: 'https://evil.example' }, 403, 'RE_FORBIDDEN_ORIGIN'],
    ['a sandboxed page (Origin: null)', { origin: 'null', 'content-type': 'text/plain' }, 403, 'RE_FORBIDDEN_ORIGIN'],
    ['a form post by a browser that sends no Origin', { 'content-type': 'text/plain' }, 415, 'RE_UNSUPPORTED_MEDIA_TYPE'],
    ['an urlencoded form', { 'content-type': 'application/x-www-form-urlencoded' }, 415, 'RE_UNSUPPORTED_MEDIA_TYPE'],
    ['a multipart form', { 'content-type': 'multipart/form-data; boundary=x' }, 415, 'RE_UNSUPPORTED_MEDIA_TYPE'],
  ]
  for (const [what, headers, status, code] of cases) {
    const a = await send(engine, 'POST', '/v1/chat/completions', headers, BODY)
    t.equal(a.status, status, `${what}: ${status} (got ${a.status})`)
    t.equal(a.json?.error?.code, code, what)
    t.equal(a.upstreamCalls, 0, `${what}: no upstream call`)
    t.equal(a.headers['access-control-allow-origin'], undefined, `${what}: no allow-origin, the page cannot read the answer`)
  }
  const form = await send(engine, 'POST', '/v1/chat/completions', { 'content-type': 'text/plain' }, BODY)
  t.match(form.json.error.message, /content-type 'text\/plain' is not JSON/, 'the 415 names the content type')
})

t.test('no keys: DNS rebinding (a foreign Host name) is refused, loopback names with any port are served', async (t) => {
  const engine = await engineWith(t)
  for (const host of [`evil.example:${port(engine)}`, 'evil.example', `localhost.evil.example:${port(engine)}`, `127.0.0.1.nip.io:${port(engine)}`, `localhost.:${port(engine)}`]) {
    // A rebound page is same-origin with itself: JSON without a preflight.
    const a = await send(engine, 'POST', '/v1/chat/completions', { host, origin: `http://${host}`, 'content-type': 'application/json' }, BODY)
    t.equal(a.status, 403, `Host ${host}: 403 (got ${a.status})`)
    t.equal(a.json?.error?.code, 'RE_FORBIDDEN_HOST')
    t.match(a.json?.error?.message, host, 'the message names the host')
    t.equal(a.upstreamCalls, 0)
    const health = await send(engine, 'GET', '/healthz', { host })
    t.equal(health.status, 403, `Host ${host}: /healthz is not read either`)
  }
  for (const host of [`localhost:${port(engine)}`, `LOCALHOST:${port(engine)}`, 'localhost', `127.0.0.1:${port(engine)}`, '127.3.4.5:1', `[::1]:${port(engine)}`, '[::1]']) {
    const a = await send(engine, 'POST', '/v1/chat/completions', { host, 'content-type': 'application/json' }, BODY)
    t.equal(a.status, 200, `Host ${host}: served`)
    t.equal(a.upstreamCalls, 1)
  }
})

t.test('no keys: what CLI clients and SDKs send is served', async (t) => {
  const engine = await engineWith(t)
  for (const type of ['application/json', 'application/json; charset=utf-8', 'Application/JSON', 'application/vnd.api+json', undefined]) {
    const a = await send(engine, 'POST', '/v1/chat/completions', type ? { 'content-type': type } : {}, BODY)
    t.equal(a.status, 200, `content-type ${type ?? '(none)'}: 200`)
    t.equal(a.upstreamCalls, 1)
    t.equal(a.headers['access-control-allow-origin'], undefined, 'no origin is allowed by default')
  }
  t.equal((await send(engine, 'GET', '/healthz', {})).status, 200)
})

t.test('no keys: a preflight from a page gets no permission', async (t) => {
  const engine = await engineWith(t)
  const a = await send(engine, 'OPTIONS', '/v1/chat/completions', { origin: 'https://evil.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' })
  t.equal(a.status, 403)
  t.equal(a.json?.error?.code, 'RE_FORBIDDEN_ORIGIN')
  t.equal(a.headers['access-control-allow-origin'], undefined)
  t.equal(a.headers['access-control-allow-methods'], undefined)
})

t.test('no keys, origins configured: those pages may call (preflight, JSON, Private Network Access); others may not', async (t) => {
  const engine = await engineWith(t, { corsOrigins: ['http://localhost:3000', 'vscode-file://vscode-app/'] })
  const pre = await send(engine, 'OPTIONS', '/v1/chat/completions', { origin: 'http://localhost:3000', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type', 'access-control-request-private-network': 'true' })
  t.equal(pre.status, 204)
  t.equal(pre.headers['access-control-allow-origin'], 'http://localhost:3000')
  t.match(String(pre.headers['access-control-allow-methods']), /POST/)
  t.equal(pre.headers['access-control-allow-headers'], 'content-type')
  t.equal(pre.headers['access-control-allow-private-network'], 'true')
  t.match(String(pre.headers.vary), /origin/i)
  t.equal(pre.headers['access-control-allow-credentials'], undefined, 'never credentials')
  for (const origin of ['http://localhost:3000', 'vscode-file://vscode-app']) {
    const a = await send(engine, 'POST', '/v1/chat/completions', { origin, 'content-type': 'application/json' }, BODY)
    t.equal(a.status, 200, `${origin}: 200`)
    t.equal(a.headers['access-control-allow-origin'], origin)
  }
  const plain = await send(engine, 'POST', '/v1/chat/completions', { origin: 'http://localhost:3000', 'content-type': 'text/plain' }, BODY)
  t.equal(plain.status, 415, 'an allowed page still sends JSON')
  const other = await send(engine, 'POST', '/v1/chat/completions', { origin: 'http://localhost:3001', 'content-type': 'application/json' }, BODY)
  t.equal(other.status, 403)
  t.equal(other.upstreamCalls, 0)
  t.equal(other.headers['access-control-allow-origin'], undefined)
})

t.test('with keys: as before (any origin may read, any Host, any content type), a key is still needed', async (t) => {
  const engine = await engineWith(t, { keys: ['inbound-key'] })
  const auth = { authorization: 'Bearer inbound-key' }
  const pre = await send(engine, 'OPTIONS', '/v1/chat/completions', { origin: 'https://app.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' })
  t.equal(pre.status, 204)
  t.equal(pre.headers['access-control-allow-origin'], '*')
  t.equal(pre.headers['access-control-allow-credentials'], undefined, '* never goes with credentials')
  t.equal(pre.headers['access-control-allow-private-network'], undefined)
  const a = await send(engine, 'POST', '/v1/chat/completions', { ...auth, host: 'gateway.example', origin: 'https://app.example', 'content-type': 'text/plain' }, BODY)
  t.equal(a.status, 200)
  t.equal(a.headers['access-control-allow-origin'], '*')
  const anon = await send(engine, 'POST', '/v1/chat/completions', { origin: 'https://evil.example', 'content-type': 'text/plain' }, BODY)
  t.equal(anon.status, 401)
  t.equal(anon.upstreamCalls, 0)
})

t.test('with keys and origins configured: only those get allow-origin', async (t) => {
  const engine = await engineWith(t, { keys: ['inbound-key'], corsOrigins: ['https://app.example'] })
  const mine = await send(engine, 'OPTIONS', '/v1/chat/completions', { origin: 'https://app.example', 'access-control-request-method': 'POST' })
  t.equal(mine.headers['access-control-allow-origin'], 'https://app.example')
  const other = await send(engine, 'OPTIONS', '/v1/chat/completions', { origin: 'https://other.example', 'access-control-request-method': 'POST' })
  t.equal(other.status, 204)
  t.equal(other.headers['access-control-allow-origin'], undefined)
})
