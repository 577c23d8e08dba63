// Secrets never leave: the built CLI with inbound keys, an upstream key from the environment, an
// upstream that quotes the key it was sent back in every error (HTTP, in-band before and after the
// first frame), a transform that fails on the key's value, a rule that echoes the request headers,
// and --capture on. Every log line (at trace level), every response body and every capture file is
// searched for every configured secret.
import t from 'tap'
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { request } from 'undici'
import { serveCli } from '../helpers/cli-server.js'
import { mockUpstream } from '../helpers/server.js'

const INBOUND = ['inbound-key-AAAA1111', 'inbound-key-BBBB2222']
const UPSTREAM_KEY = 'sk-up-secret-CCCC3333'
const SECRETS = [...INBOUND, UPSTREAM_KEY]

const RULES = `
upstreams:
  echo:
    base: "\${SECRETS_MOCK_URL}"
    headers: { authorization: "Bearer \${SECRETS_UP_KEY}" }
rules:
  - name: upstream
    match: { method: POST, path: "/up/**" }
    upstream: { to: echo, path: '{raw: $ctx.path}' }
    response:
      stream:
        done: "[DONE]"
        on:
          delta: { emit: '{"text": text}' }
          failed: { fail: '{"message": "upstream said: " & message, "status": 503}' }
          "*": {}
        error: { emit: '{"text": "[error] " & $error.message}' }
  - name: bad-transform
    match: { method: POST, path: /transform }
    request: ['$number($env("SECRETS_UP_KEY"))']
    upstream: { to: echo }
  - name: headers
    match: { method: POST, path: /headers }
    request: ['{"fail": $ctx.headers}']
    upstream: { to: echo }
    response: { body: '{"headers": $ctx.headers}' }
`

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? walk(join(dir, f)) : [join(dir, f)]))
}

t.test('no configured secret in any log line, error body or capture', async (t) => {
  const mock = await mockUpstream((seen, res) => {
    const key = String(seen.headers.authorization)
    const quote = `Incorrect API key provided: ${key} (${key.slice(7)})`
    const path = seen.url
    if (path === '/up/401') return void res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: quote, type: 'invalid_request_error' } }))
    if (path === '/up/500-text') return void res.writeHead(500, { 'content-type': 'text/plain' }).end(quote)
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    if (path === '/up/inband-first') return void res.end(`event: failed\ndata: ${JSON.stringify({ message: quote })}\n\n`)
    if (path === '/up/inband-mid') return void res.end(`event: delta\ndata: {"text":"a"}\n\nevent: failed\ndata: ${JSON.stringify({ message: quote })}\n\n`)
    res.end('event: delta\ndata: {"text":"fine"}\n\n')
  })
  t.teardown(() => mock.close())
  const dir = mkdtempSync(join(tmpdir(), 're-secrets-'))
  writeFileSync(join(dir, 'rules.yaml'), RULES)
  const captures = mkdtempSync(join(tmpdir(), 're-captures-'))
  const s = await serveCli(['--rules', dir, '--capture', captures], { ROUTE_ENGINE_KEYS: INBOUND.join(','), SECRETS_UP_KEY: UPSTREAM_KEY, SECRETS_MOCK_URL: mock.url, LOG_LEVEL: 'trace' })
  t.teardown(() => s.stop('SIGKILL'))

  const bodies: { path: string; status: number; text: string }[] = []
  const call = async (path: string, headers: Record<string, string>, body = '{"model":"m"}') => {
    const captured = s.next((r) => r.msg === 'captured')
    const r = await request(s.url + path, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } })
    const text = await r.body.text()
    bodies.push({ path, status: r.statusCode, text })
    if (!text.includes('RE_UNAUTHORIZED')) await captured
    return { status: r.statusCode, text }
  }
  const auth = { authorization: `Bearer ${INBOUND[0]}` }
  const paths = ['/up/401', '/up/500-text', '/up/inband-first', '/up/inband-mid', '/up/ok', '/transform', '/headers']
  for (const p of paths) await call(p, auth)
  for (const p of paths) await call(p, { 'x-api-key': INBOUND[1]! })
  await call('/up/ok', { authorization: `Bearer ${INBOUND[0]}x` })
  await call('/up/ok', { authorization: `Bearer ${UPSTREAM_KEY}` })
  await call('/up/ok', auth, JSON.stringify({ model: 'm', note: 'a plain request after all that' }))

  // The secrets were in play: the upstream got its key and quoted it back; the client sees the mask.
  t.ok(mock.seen.every((x) => x.headers.authorization === `Bearer ${UPSTREAM_KEY}`), 'the upstream received its key')
  const by = (p: string) => bodies.find((b) => b.path === p)!
  t.equal(by('/up/401').status, 401)
  t.match(JSON.parse(by('/up/401').text).error.message, /Incorrect API key provided: \[redacted\] \(\[redacted\]\)/)
  t.match(JSON.parse(by('/up/500-text').text).error.message, /returned 500: Incorrect API key provided: \[redacted\]/)
  t.equal(by('/up/inband-first').status, 503)
  t.match(JSON.parse(by('/up/inband-first').text).error.message, /^upstream said: Incorrect API key provided: \[redacted\]/)
  t.match(by('/up/inband-mid').text, /\[error\] upstream said: Incorrect API key provided: \[redacted\]/)
  t.equal(by('/transform').status, 500)
  t.match(JSON.parse(by('/transform').text).error.message, /\[redacted\]/, 'a transform error quoting the value of the key')
  t.notMatch(by('/headers').text, /authorization|x-api-key/i, '$ctx.headers leaves credential headers out')
  t.equal(bodies.filter((b) => b.text.includes('RE_UNAUTHORIZED')).length, 2, 'a wrong key and an upstream key are not inbound keys')

  const stop = await s.stop()
  t.equal(stop, 0)
  const files = walk(captures)
  t.ok(files.length >= 14, `${files.length} capture files`)
  const places = [
    ...s.logs.map((l, i) => ({ where: `log line ${i + 1}`, text: JSON.stringify(l) })),
    ...bodies.map((b) => ({ where: `body of ${b.path}`, text: b.text })),
    ...files.map((f) => ({ where: f, text: readFileSync(f, 'utf8') })),
  ]
  const leaks = places.flatMap((p) => SECRETS.filter((k) => p.text.includes(k)).map((k) => `${p.where} holds ${k.slice(0, 12)}…`))
  t.comment(`searched ${s.logs.length} log lines, ${bodies.length} bodies, ${files.length} capture files for ${SECRETS.length} secrets`)
  t.same(leaks, [], 'no secret anywhere')
})
