// Which client headers are credentials comes from the rules: HTTP's own, the headers that carry the
// inbound key, and every header an upstream takes from the environment (the header a client would
// put that upstream's key in; a constant header is not a key). They are left out of $ctx.headers and
// replaced in captures.
import t from 'tap'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { request } from 'undici'
import { captureTo } from '../../engine/commands/capture.js'
import { credentialHeaders } from '../../engine/credentials.js'
import { startEngine } from '../helpers/server.js'

const RULES = `
upstreams:
  vendor:
    base: http://127.0.0.1:1
    headers: { X-Vendor-Key: "\${CREDENTIALS_TEST_KEY}", x-vendor-version: "7" }
rules:
  - name: headers
    match: { method: POST, path: /headers }
    reply: { body: '$ctx.headers' }
`

const SENT = {
  'content-type': 'application/json',
  authorization: 'Bearer inbound-1',
  'x-api-key': 'inbound-2',
  'x-vendor-key': 'client-vendor-key',
  'x-vendor-version': 'client-version',
  cookie: 'session=1',
  'x-plain': 'shown',
}

t.test('credential headers: HTTP, inbound key and the upstreams\' key headers, hidden from $ctx.headers and captures', async (t) => {
  delete process.env.CREDENTIALS_TEST_KEY
  const dir = mkdtempSync(join(tmpdir(), 're-credentials-'))
  writeFileSync(join(dir, 'rules.yaml'), RULES)
  const captures = mkdtempSync(join(tmpdir(), 're-credentials-capture-'))
  let written!: (file: string) => void
  const captured = new Promise<string>((resolve) => { written = resolve })
  const engine = await startEngine(dir, { observe: captureTo(captures, { redact: [], keys: [], onWrite: (file) => written(file) }) })
  t.teardown(() => engine.close())

  t.same([...credentialHeaders(engine.holder.current)].sort(),
    ['authorization', 'cookie', 'proxy-authorization', 'set-cookie', 'x-api-key', 'x-vendor-key'],
    'a header from the environment counts even when its variable is unset (the upstream does not send it); a constant one does not')

  const r = await request(engine.url + '/headers', { method: 'POST', body: '{}', headers: SENT })
  const seen = (await r.body.json()) as Record<string, string>
  t.equal(seen['x-plain'], 'shown')
  t.same(Object.keys(seen).filter((k) => k in SENT).sort(), ['content-type', 'x-plain', 'x-vendor-version'], '$ctx.headers holds no credential')

  const example = readFileSync(await captured, 'utf8')
  for (const value of ['inbound-1', 'inbound-2', 'client-vendor-key', 'session=1']) t.notMatch(example, value, `the capture holds no ${value}`)
  t.match(example, /x-vendor-key: "\[redacted\]"/)
  t.match(example, /x-plain: shown/)
})
