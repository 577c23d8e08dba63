// serve --capture: a real request and the upstream's real reply become an example that
// `route-engine test` runs as it is, with every credential and the named fields redacted.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { cpSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { request } from 'undici'
import { captureTo } from '../../engine/commands/capture.js'
import { mockUpstream, startEngine } from '../helpers/server.js'

const bin = new URL('../../bin/route-engine.js', import.meta.url).pathname
const shipped = new URL('../../rules/', import.meta.url).pathname
const fixtures = new URL('../fixtures/', import.meta.url).pathname

const UPSTREAM_KEY = 'sk-upstream-capture-secret-42'
const INBOUND_KEY = 'inbound-capture-key-77'

t.test('a captured Cursor turn is a ready-to-run example with nothing secret in it', async (t) => {
  const transcript = readFileSync(fixtures + 'streams/responses/text.sse', 'utf8')
  // The mock echoes the key it got (as an upstream error message might) and a user id, in a frame of its own.
  const mock = await mockUpstream((seen, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    res.end(`event: debug\ndata: {"type":"debug","echo":"${seen.headers.authorization}","user":"u-1234"}\n\n` + transcript)
  })
  t.teardown(() => mock.close())
  process.env.OPENAI_BASE_URL = mock.url + '/v1'
  process.env.OPENAI_API_KEY = UPSTREAM_KEY
  const dir = mkdtempSync(join(tmpdir(), 're-capture-'))
  let done!: () => void
  const complete = new Promise<void>((resolve) => { done = resolve })
  const engine = await startEngine(shipped, {
    observe: captureTo(dir, {
      redact: ['metadata.cursorConversationId', 'user'],
      keys: [INBOUND_KEY],
      onWrite: (file) => { if (readFileSync(file, 'utf8').includes('upstreamReply:')) done() },
    }),
  })
  t.teardown(() => engine.close())

  const body = readFileSync(fixtures + 'cursor/gpt5-agent-responses-full-turn.json', 'utf8')
  const res = await request(engine.url + '/cursor/chat/completions', {
    method: 'POST', body, headers: { 'content-type': 'application/json', authorization: `Bearer ${INBOUND_KEY}`, 'x-client-note': `key ${INBOUND_KEY}` },
  })
  t.equal(res.statusCode, 200)
  await res.body.text()
  await complete

  const ruleDir = join(dir, 'cursor-openai')
  const files = readdirSync(ruleDir).sort()
  t.equal(files.length, 3, files.join(', '))
  const yaml = readFileSync(join(ruleDir, files.find((f) => f.endsWith('.yaml'))!), 'utf8')
  const req = readFileSync(join(ruleDir, files.find((f) => f.endsWith('.request.json'))!), 'utf8')
  const reply = readFileSync(join(ruleDir, files.find((f) => f.endsWith('.reply.sse'))!), 'utf8')
  t.match(yaml, /^# yaml-language-server: \$schema=.*schemas\/example\.schema\.json\n/)
  t.match(yaml, /path: \/cursor\/chat\/completions/)
  t.match(yaml, /authorization: "\[redacted\]"/)
  t.match(yaml, /expect:\n {2}rule: cursor-openai\n {2}upstream:\n {4}name: openai\n {4}method: POST\n {4}path: \/responses/)
  for (const [name, text] of [['example', yaml], ['request', req], ['reply', reply]]) {
    t.notMatch(text, UPSTREAM_KEY, `no upstream key in the ${name}`)
    t.notMatch(text, INBOUND_KEY, `no inbound key in the ${name}`)
  }
  const captured = JSON.parse(req)
  t.equal(captured.metadata.cursorConversationId, '[redacted]')
  t.equal(captured.user, '[redacted]')
  t.same(captured.input, JSON.parse(body).input, 'the rest of the body is kept as sent')
  t.match(reply, /^event: debug\ndata: \{"type":"debug","echo":"\[redacted\]","user":"\[redacted\]"\}\n\n/)
  t.ok(reply.endsWith(transcript), 'the upstream bytes after the redacted frame are unchanged')

  // The capture runs as an example of the rules it was captured with.
  const rules = mkdtempSync(join(tmpdir(), 're-capture-rules-'))
  cpSync(shipped, rules, { recursive: true })
  cpSync(dir, join(rules, 'examples/captured'), { recursive: true })
  const r = spawnSync(process.execPath, [bin, 'test', rules, '--filter', 'captured/'], { encoding: 'utf8' })
  t.equal(r.status, 0, r.stdout)
  t.match(r.stdout, /1 passed, 0 failed/)
})

t.test('a request no rule matches is captured without a reply, under unmatched/', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 're-capture-'))
  let done!: (file: string) => void
  const written = new Promise<string>((resolve) => { done = resolve })
  const engine = await startEngine(shipped, { observe: captureTo(dir, { redact: [], keys: [], onWrite: (file) => done(file) }) })
  t.teardown(() => engine.close())
  const res = await request(engine.url + '/cursor/embeddings', { method: 'POST', body: '{"model":"x","input":"hi"}', headers: { 'content-type': 'application/json' } })
  t.equal(res.statusCode, 404)
  await res.body.text()
  const file = await written
  t.match(file, /\/unmatched\/[^/]+\.yaml$/)
  const yaml = readFileSync(file, 'utf8')
  t.match(yaml, /path: \/cursor\/embeddings/)
  t.notMatch(yaml, /upstreamReply/)
})
