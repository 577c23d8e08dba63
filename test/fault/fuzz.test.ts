// Bad input against the real server process (the built CLI on the shipped rules): thousands of
// generated bodies (malformed JSON, wrong types at every depth of real Cursor requests, nesting
// 10,000 deep, oversize, model names that try to leave their URL segment or inject headers, odd
// content types) and headers (too large, invalid, conflicting lengths, broken chunking, bad request
// lines, foreign Host and Origin) from a seeded generator. Every answer must be a well-formed error;
// every upstream call must go to a path the rules intend; the process must live through it and stop
// cleanly.
import t from 'tap'
import { spawn } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { connect } from 'node:net'
import { createInterface } from 'node:readline'
import { Agent, request } from 'undici'
import { mockUpstream, type Mock } from '../helpers/server.js'

const bin = new URL('../../bin/route-engine.js', import.meta.url).pathname
const shipped = new URL('../../rules/', import.meta.url).pathname
const fixtures = new URL('../fixtures/cursor/', import.meta.url).pathname
const BODIES = 3000
const MAX_BODY = 256 * 1024
const MAX_HEADER = 8 * 1024

/** mulberry32: the same inputs on every run. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
}
const rand = prng(20261122)
const int = (n: number) => Math.floor(rand() * n)
const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!

const KEYS = ['model', 'messages', 'input', 'tools', 'tool_choice', 'stream', 'stream_options', 'role', 'content', 'type', 'text', 'image_url', 'url', 'function', 'arguments', 'name', 'id', 'call_id', 'output', 'reasoning', 'effort', 'max_tokens', 'temperature', 'instructions', 'previous_response_id', 'metadata', 'system', 'parts', 'tool_calls', 'tool_call_id', 'parameters', 'format', 'include_usage', '__proto__', 'constructor', '']
const STRINGS = ['', 'gpt-5', 'claude-sonnet-4-6', 'gemini-2.5-pro', 'deepseek-chat', 'gpt-55-xhigh', 'anthropic:opus', 'user', 'assistant', 'tool', 'system', 'function', 'custom', 'input_text', 'function_call', 'function_call_output', 'reasoning', 'image_url', 'text', '\u0000', '\ud800', '😀'.repeat(50), 'x'.repeat(5000), '{"a":', '<details>', '$', '**', 'null']
const MODELS = ['gpt-5', 'gpt-55-high', 'claude-sonnet-4-6', 'anthropic:sonnet', 'gemini-2.5-pro', 'google:gemini-flash', 'some-local-model', 'o3', 'codex-mini']
/** Names that try to move the upstream call: other paths, a query, a fragment, header lines. */
const INJECTIONS = [
  'gemini-x/../../../v1/messages', 'gemini-x/../../../v1/messages?key=attacker#', 'gemini-x?key=attacker', 'gemini-x#fragment',
  'gemini-x\\..\\..\\..\\v1\\messages', 'gemini-%2e%2e/%2e%2e/%2e%2e/v1/messages', 'gemini-x%2F..%2F..%2Fv1', 'gemini-x/./../%2E%2E/v1',
  'gemini-..', 'gemini-x&key=attacker', 'gemini-a\r\nx-injected: 1', 'gemini-\ud800', 'gemini-x\u0000', 'claude-x/../../admin',
  'gpt-5?x=1#y', '../../etc/passwd', '..', '.', '%2e%2e', 'x\r\nhost: evil.example', '//evil.example/x', 'http://evil.example/',
]
const JSON_TYPES = ['application/json', 'application/json; charset=utf-8', 'APPLICATION/JSON', 'application/vnd.api+json', 'application/json;charset=UTF-8;x=y']
const OTHER_TYPES = ['text/plain', 'text/plain;charset=UTF-8', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=----x', 'application/jsonx', 'application/json-patch', 'application/xml', '', ';', 'application/', '*/*', 'json', 'text/json']

function value(depth: number): unknown {
  switch (int(depth > 4 ? 6 : 9)) {
    case 0: return null
    case 1: return rand() < 0.5
    case 2: return pick([0, -1, 1e308, -0, 3.5, 2 ** 53 + 1, 42])
    case 3: case 4: return pick(STRINGS)
    case 5: return int(100000)
    case 6: return Array.from({ length: int(5) }, () => value(depth + 1))
    default: return Object.fromEntries(Array.from({ length: int(5) }, () => [pick(KEYS), value(depth + 1)]))
  }
}

const requests = readdirSync(fixtures).filter((f) => f.endsWith('.json') && !f.startsWith('expected-')).map((f) => JSON.parse(readFileSync(fixtures + f, 'utf8')))

/** A real request with a few nodes replaced, removed or retyped, anywhere in it. */
function mutate(body: unknown): unknown {
  const copy = structuredClone(body) as Record<string, unknown>
  for (let n = 1 + int(4); n > 0; n--) {
    let node: any = copy
    for (let d = 0; d < 8 && node && typeof node === 'object'; d++) {
      const keys = Object.keys(node)
      if (!keys.length) break
      const k = pick(keys)
      if (d > 0 && rand() < 0.3) {
        const r = int(3)
        if (r === 0) delete node[k]
        else if (r === 1) node[k] = value(3)
        else node[k] = Array.isArray(node[k]) ? {} : [node[k]]
        break
      }
      if (!node[k] || typeof node[k] !== 'object') { node[k] = value(3); break }
      node = node[k]
    }
  }
  if (rand() < 0.5) copy.model = rand() < 0.6 ? pick(MODELS) : rand() < 0.75 ? pick(INJECTIONS) : value(2)
  return copy
}

const deep = (n: number, open: string, close: string) => open.repeat(n) + close.repeat(n)

/** One bad body (as bytes or text) and a label for the tally. */
function badBody(): { kind: string; body: string | Buffer } {
  const r = int(20)
  const real = JSON.stringify(mutate(pick(requests)))
  if (r < 9) return { kind: 'wrong types', body: real }
  if (r < 11) return { kind: 'wrong types', body: JSON.stringify(value(0)) }
  if (r < 14) return { kind: 'malformed JSON', body: real.slice(0, int(real.length)) }
  if (r === 14) return { kind: 'malformed JSON', body: Buffer.from(Array.from({ length: 1 + int(400) }, () => int(256))) }
  if (r === 15) return { kind: 'malformed JSON', body: pick(['{', '}', '[1,]', "{'a':1}", 'NaN', '{"a":1}{"b":2}', '\u0000', '{"model":"gpt-5",}', '"\\ud800"x', 'nul']) }
  if (r === 16) return { kind: 'depth', body: deep(10_000, '[', ']') }
  if (r === 17) return { kind: 'depth', body: `{"model":"gpt-5","messages":${deep(200 + int(9800), '[{"content":', '}]').replace(/\}\]$/, '1}]')}}` }
  if (r === 18) return { kind: 'depth', body: deep(10_000, '{"a":', '}').replace('{"a":}', '{"a":1}') }
  return { kind: 'oversize', body: `{"model":"gpt-5","messages":[{"role":"user","content":"${'a'.repeat(MAX_BODY + int(MAX_BODY))}"}]}` }
}

const PATHS = ['/v1/chat/completions', '/cursor/chat/completions', '/cursor/v1/chat/completions']

function wellFormedError(status: number, contentType: string | undefined, text: string): string | null {
  if (status < 400) return `status ${status}`
  if (!String(contentType).startsWith('application/json')) return `content-type ${contentType}`
  let j: any
  try { j = JSON.parse(text) } catch { return `not JSON: ${text.slice(0, 200)}` }
  const e = j?.error
  if (!e || typeof e.message !== 'string' || !e.message || typeof e.type !== 'string' || typeof e.code !== 'string' || !(e.param === null || typeof e.param === 'string')) {
    return `not an error body: ${text.slice(0, 200)}`
  }
  return null
}

/** Raw bytes on a socket of its own; the answer as the server wrote it. */
function raw(port: number, bytes: string | Buffer): Promise<{ status: number; contentType?: string; body: string }> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1')
    const chunks: Buffer[] = []
    s.on('data', (c) => chunks.push(c))
    s.on('error', reject)
    s.on('close', () => {
      const text = Buffer.concat(chunks).toString('latin1')
      const [head = '', ...rest] = text.split('\r\n\r\n')
      const status = Number(/^HTTP\/1\.1 (\d{3}) /.exec(head)?.[1] ?? 0)
      const contentType = /\r\ncontent-type: ([^\r]*)/i.exec(head)?.[1]
      resolve({ status, contentType, body: rest.join('\r\n\r\n') })
    })
    s.end(bytes)
  })
}

function badHead(port: number): { kind: string; bytes: string } {
  const line = (h: string, body = '') => `POST /v1/chat/completions HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\nconnection: close\r\n${h}\r\n${body}`
  const r = int(13)
  if (r === 0) return { kind: 'header too large', bytes: line(`x-big: ${'b'.repeat(MAX_HEADER + int(MAX_HEADER))}\r\n`) }
  if (r === 1) return { kind: 'header too large', bytes: line(Array.from({ length: 400 + int(200) }, (_, i) => `x-h${i}: ${'v'.repeat(20)}\r\n`).join('')) }
  if (r === 2) return { kind: 'bad header', bytes: line(`bad header${pick([' ', '(', '@', '"'])}name: x\r\n`) }
  if (r === 3) return { kind: 'bad header', bytes: line(`x-ctl: a${pick(['\u0000', '\u0001', '\u007f'])}b\r\n`) }
  if (r === 4) return { kind: 'bad length', bytes: line(`content-length: ${pick(['abc', '-1', '1e3', '0x10', '99999999999999999999'])}\r\n`, '{}') }
  if (r === 5) return { kind: 'bad length', bytes: line('content-length: 2\r\ncontent-length: 3\r\n', '{}') }
  if (r === 6) return { kind: 'bad chunking', bytes: line('transfer-encoding: chunked\r\n', `${pick(['zz', '-1', 'fffffffffffffffffff', '2;'])}\r\n{}\r\n0\r\n\r\n`) }
  if (r === 7) return { kind: 'bad chunking', bytes: line('transfer-encoding: chunked\r\ncontent-length: 2\r\n', '2\r\n{}\r\n0\r\n\r\n') }
  if (r === 8) return { kind: 'bad request line', bytes: pick(['GARBAGE\r\n\r\n', 'POST  HTTP/1.1\r\n\r\n', 'POST /v1 HTTP/9.9\r\nconnection: close\r\n\r\n', '\u0000\u0001\u0002\r\n\r\n', 'GET /\u0000 HTTP/1.1\r\n\r\n']) }
  if (r === 9) return { kind: 'url too long', bytes: `GET /${'u'.repeat(MAX_HEADER + int(MAX_HEADER))} HTTP/1.1\r\nconnection: close\r\n\r\n` }
  if (r === 10) return { kind: 'bad body (valid HTTP)', bytes: line(`content-type: ${pick(['text/plain', 'application/json; charset=latin1', 'multipart/form-data', ''])}\r\ncontent-length: 9\r\n`, '{"model":') }
  // A page's request to a keyless loopback server: a rebound Host name, or its own Origin.
  const body = '{"model":"gpt-5","messages":[{"role":"user","content":"hi"}]}'
  const browser = `content-type: ${pick(['application/json', 'text/plain'])}\r\ncontent-length: ${body.length}\r\n`
  if (r === 11) return { kind: 'foreign host', bytes: `POST /v1/chat/completions HTTP/1.1\r\nhost: ${pick(['evil.example', `evil.example:${port}`, '127.0.0.1.nip.io', 'localhost.'])}\r\nconnection: close\r\n${browser}\r\n${body}` }
  return { kind: 'foreign origin', bytes: line(`origin: ${pick(['https://evil.example', 'null', `http://evil.example:${port}`, 'chrome-extension://abc'])}\r\n${browser}`, body) }
}

/** Each upstream's base path at the mock, and the paths the shipped rules call under it. */
const PREFIXES = { OPENAI_BASE_URL: '/openai', ANTHROPIC_BASE_URL: '/anthropic', GEMINI_BASE_URL: '/gemini', OPENAI_COMPAT_BASE_URL: '/compat' }
const INTENDED = /^(\/openai\/responses|\/anthropic\/messages|\/compat\/chat\/completions|\/gemini\/models\/[^/?#]+:(generateContent|streamGenerateContent\?alt=sse))$/

let mock: Mock
t.before(async () => {
  // An upstream that rejects everything it is sent, as a real one rejects garbage.
  mock = await mockUpstream((_seen, res) => { res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":{"message":"rejected by the fuzz upstream","type":"invalid_request_error"}}') })
})
t.teardown(() => mock.close())

t.test(`${BODIES} bad bodies and hundreds of bad heads against a running server: every answer a well-formed error, no crash`, async (t) => {
  const env: NodeJS.ProcessEnv = { ...process.env, ROUTE_ENGINE_KEYS: '', LOG_LEVEL: 'info' }
  for (const [v, prefix] of Object.entries(PREFIXES)) env[v] = mock.url + prefix
  const child = spawn(process.execPath, [bin, 'serve', '--rules', shipped, '--port', '0', '--no-watch', '--max-body', String(MAX_BODY), '--max-header-size', String(MAX_HEADER), '--transform-timeout', '2000'], { env, stdio: ['ignore', 'pipe', 'pipe'] })
  t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL') })
  const logs: any[] = []
  let url = ''
  const lines = createInterface({ input: child.stdout! })
  await new Promise<void>((resolve, reject) => {
    lines.on('line', (l) => {
      const rec = JSON.parse(l)
      logs.push(rec)
      if (rec.msg === 'route-engine listening') { url = rec.url; resolve() }
    })
    child.once('exit', (code) => reject(new Error(`the server exited (${code})`)))
  })
  const port = Number(new URL(url).port)
  const agent = new Agent({ connections: 8 })
  const tally: Record<string, number> = {}
  const codes: Record<string, number> = {}
  const bad: string[] = []
  const note = (kind: string, status: number, contentType: string | undefined, text: string) => {
    tally[kind] = (tally[kind] ?? 0) + 1
    const wrong = wellFormedError(status, contentType, text)
    if (wrong) bad.push(`${kind}: ${wrong}`)
    else { const c = JSON.parse(text).error.code; codes[c] = (codes[c] ?? 0) + 1 }
  }

  let next = 0
  const cases = Array.from({ length: BODIES }, badBody)
  await Promise.all(Array.from({ length: 8 }, async () => {
    while (next < cases.length) {
      const { kind, body } = cases[next++]!
      const method = rand() < 0.9 ? 'POST' : pick(['PUT', 'PATCH', 'DELETE'])
      const headers: Record<string, string> = {}
      const type = rand() < 0.6 ? pick(JSON_TYPES) : rand() < 0.9 ? pick(OTHER_TYPES) : undefined
      if (type !== undefined) headers['content-type'] = type
      if (rand() < 0.1) headers['authorization'] = pick(['Bearer', 'Bearer ' + 'k'.repeat(300), 'Basic xyz', ''])
      if (rand() < 0.05) headers['x-fuzz'] = 'h'.repeat(MAX_HEADER)
      const r = await request(url + pick(PATHS), { method: method as 'POST', body, headers, dispatcher: agent }).catch((e: Error) => ({ statusCode: 0, headers: {} as Record<string, string>, body: { text: async () => e.message } }))
      note(headers['x-fuzz'] ? 'header too large' : kind, r.statusCode, r.headers['content-type'] as string | undefined, await r.body.text())
    }
  }))
  const heads = Array.from({ length: 300 }, () => badHead(port))
  for (let i = 0; i < heads.length; i += 10) {
    await Promise.all(heads.slice(i, i + 10).map(async (h) => { const r = await raw(port, h.bytes); note(h.kind, r.status, r.contentType, r.body) }))
  }
  await agent.close()

  const total = Object.values(tally).reduce((a, b) => a + b, 0)
  t.comment(`requests: ${total}; by kind: ${JSON.stringify(tally)}`)
  t.comment(`answers by code: ${JSON.stringify(codes)}`)
  t.equal(total, BODIES + heads.length)
  t.same(bad.slice(0, 20), [], `every answer is a well-formed error (${bad.length} are not)`)
  t.notOk(codes.RE_INTERNAL, 'no internal error: every failure is one the engine knows')
  t.ok(codes.RE_TOO_DEEP && codes.RE_BODY_TOO_LARGE && codes.RE_BAD_JSON && codes.RE_HEADERS_TOO_LARGE && codes.RE_BAD_REQUEST, 'each limit was hit')
  t.ok(codes.RE_UNSUPPORTED_MEDIA_TYPE && codes.RE_FORBIDDEN_HOST && codes.RE_FORBIDDEN_ORIGIN, 'a page\'s requests were refused')
  const strays = mock.seen.map((s) => s.url).filter((u) => !INTENDED.test(u))
  const gemini = mock.seen.filter((s) => s.url.startsWith('/gemini/models/')).map((s) => decodeURIComponent(s.url.slice(15).replace(/:(stream)?[gG]enerateContent(\?alt=sse)?$/, '')))
  t.comment(`upstream calls: ${mock.seen.length}; to gemini with an injection name: ${gemini.filter((m) => INJECTIONS.includes(m)).length}`)
  t.ok(mock.seen.length > 100, 'requests reached the upstream')
  t.same(strays.slice(0, 20), [], `every upstream call went to a path the rules intend (${strays.length} did not)`)
  t.ok(gemini.some((m) => INJECTIONS.includes(m)), 'injection names reached the gemini upstream, each inside its segment')
  t.notOk(mock.seen.some((s) => 'x-injected' in s.headers), 'no injected header reached the upstream')
  t.equal(child.exitCode, null, 'the server is still running')
  const health = await request(url + '/healthz')
  t.equal(health.statusCode, 200)
  await health.body.dump()
  t.notOk(logs.some((l) => l.level >= 50), 'no error logged')
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  child.kill('SIGTERM')
  t.equal(await exit, 0, 'and it stops cleanly')
})
