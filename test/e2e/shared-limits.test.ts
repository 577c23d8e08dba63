// Limits that hold across instances: two `route-engine serve` processes sharing one real Redis
// (started here on a free port), load spread over both. maxConcurrent: 2 lets 2 calls in flight
// in all; a rate limit of N per minute lets N requests through in all; a token limit counts the
// usage the replies report; an upstream's own limit sends calls to its fallback.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import type { ServerResponse } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { request } from 'undici'
import { serveCli, type CliServer } from '../helpers/cli-server.js'
import { startRedis } from '../helpers/redis.js'
import { mockUpstream } from '../helpers/server.js'

const RULES = `
limits:
  usage: usage.total_tokens
  keys:
    alice: { requestsPerMinute: 5 }
    bob: { tokensPerMinute: 100 }
upstreams:
  narrow:
    base: \${LIMITS_MOCK_URL}
    maxConcurrent: 2
  metered:
    base: \${LIMITS_MOCK_URL}
    limits: { requestsPerMinute: 3 }
  spare:
    base: \${LIMITS_MOCK_URL}
rules:
  - name: narrow
    match: { path: /narrow }
    upstream: { to: narrow, path: /hold }
  - name: json
    match: { path: /json }
    upstream: { to: spare, path: /json }
    response: { body: '$' }
  - name: metered
    match: { path: /metered }
    upstream: { to: metered, path: /json }
    response: { body: '$' }
    fallback:
      - upstream: { to: spare, path: /spare }
`

const redis = await startRedis()
t.teardown(() => redis.stop())

// /hold answers only when the test lets it; /json at once, with 60 tokens of usage
let held: ServerResponse[] = []
let heldWaiters: (() => void)[] = []
let inFlight = 0
let maxInFlight = 0
const mock = await mockUpstream((req, res) => {
  if (req.url === '/hold') {
    inFlight++
    maxInFlight = Math.max(maxInFlight, inFlight)
    res.on('close', () => { inFlight-- })
    held.push(res)
    for (const w of heldWaiters.splice(0)) w()
    return
  }
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: true, via: req.url, usage: { total_tokens: 60 } }))
})
t.teardown(() => mock.close())
const heldCount = (n: number) => new Promise<void>((resolve) => {
  const check = () => (held.length >= n ? resolve() : heldWaiters.push(check))
  check()
})

const dir = mkdtempSync(join(tmpdir(), 'limits-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))
writeFileSync(join(dir, 'rules.yaml'), RULES)

// One pair for every test: each test uses limits (keys, upstreams) of its own.
const env = { LIMITS_MOCK_URL: mock.url, ROUTE_ENGINE_KEYS: 'alice:key-a,bob:key-b,key-c' }
const args = ['--rules', dir, '--no-watch', '--store', redis.url]
const [a, b] = await Promise.all([serveCli(args, env), serveCli(args, env)]) as [CliServer, CliServer]
t.teardown(async () => { await a.stop(); await b.stop() })

const post = async (url: string, key: string) => {
  const r = await request(url, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: '{}' })
  const text = await r.body.text()
  return { status: r.statusCode, headers: r.headers, json: text ? JSON.parse(text) : undefined }
}

t.test('maxConcurrent: 2 holds at 2 across two instances; a released slot is free on the other', async (t) => {
  held = []
  maxInFlight = 0
  // two in flight, one on each instance
  const first = [post(`${a.url}/narrow`, 'key-c'), post(`${b.url}/narrow`, 'key-c')]
  await heldCount(2)
  // six more, three on each: all refused while both slots are held
  const refused = await Promise.all([a, b, a, b, a, b].map((s) => post(`${s.url}/narrow`, 'key-c')))
  t.same(refused.map((r) => r.status), Array(6).fill(503))
  t.ok(refused.every((r) => r.json.error.code === 'RE_UPSTREAM_BUSY' && r.headers['retry-after'] === '1'))
  t.equal(maxInFlight, 2, 'the upstream never saw more than 2 at once')
  // one call ends (whichever instance held it): the slot is free for the other instances too
  held[0]!.end('{"done":true}')
  t.equal((await Promise.race(first)).status, 200)
  // a request is logged once its slot is back in the store
  const answered = (r: any) => r.msg === 'request' && r.rule === 'narrow' && r.status === 200
  if (!a.logs.some(answered) && !b.logs.some(answered)) await Promise.race([a.next(answered), b.next(answered)])
  const third = [post(`${a.url}/narrow`, 'key-c'), post(`${b.url}/narrow`, 'key-c')]
  await heldCount(3)
  t.equal(maxInFlight, 2, 'still 2')
  const late = await Promise.race(third)
  t.equal(late.status, 503, 'of two more, one got the freed slot, the other is refused')
  for (const r of held.slice(1)) r.end('{"done":true}')
  t.same((await Promise.all([...first, ...third])).map((r) => r.status).sort(), [200, 200, 200, 503])
})

t.test('a rate limit of 5 per minute across two instances lets 5 through', async (t) => {
  const all = await Promise.all(Array.from({ length: 12 }, (_, i) => post(`${(i % 2 ? a : b).url}/json`, 'key-a')))
  const ok = all.filter((r) => r.status === 200)
  const limited = all.filter((r) => r.status === 429)
  t.equal(ok.length, 5, '5 answered')
  t.equal(limited.length, 7, 'the other 7: 429')
  for (const r of limited) {
    t.equal(r.json.error.code, 'RE_RATE_LIMITED')
    t.match(r.json.error.message, /inbound key 'alice' has used its 5 requests per minute/)
    const after = Number(r.headers['retry-after'])
    t.ok(after >= 1 && after <= 61, `retry-after ${after} s`)
  }
  t.notOk(JSON.stringify(limited).includes('key-a'), 'the key itself appears nowhere, its name does')
  t.equal((await post(`${a.url}/json`, 'key-c')).status, 200, 'a key without a limit is not limited')
})

t.test('tokens per minute: counted from the usage replies report, across instances', async (t) => {
  // each reply reports 60 tokens; bob may use 100 a minute: the first two pass (0, then 60 used),
  // the third finds 120 used
  t.equal((await post(`${a.url}/json`, 'key-b')).status, 200)
  // the tokens of a request are counted once it ended, before its log line
  const counted = (r: any) => r.msg === 'request' && r.client === 'bob' && r.tokens === 60
  if (!a.logs.some(counted)) await a.next(counted)
  t.equal((await post(`${b.url}/json`, 'key-b')).status, 200)
  const third = await post(`${a.url}/json`, 'key-b')
  t.equal(third.status, 429)
  t.match(third.json.error.message, /inbound key 'bob' has used its 100 tokens per minute/)
  t.ok(a.logs.some(counted), 'the request log line carries the key name and the tokens')
})

t.test('an upstream over its own limit falls back, as on a 429', async (t) => {
  const all = []
  for (let i = 0; i < 5; i++) all.push(await post(`${(i % 2 ? a : b).url}/metered`, 'key-c'))
  t.same(all.map((r) => r.status), Array(5).fill(200), 'every request answered')
  t.same(all.map((r) => r.json.via), ['/json', '/json', '/json', '/spare', '/spare'], 'metered took 3, its limit; spare the rest')
  // the log lines come after the answers: wait for all five (b had three, a two)
  const metered = (r: any) => r.msg === 'request' && r.rule === 'metered'
  for (const [s, n] of [[a, 2], [b, 3]] as const) while (s.logs.filter(metered).length < n) await s.next(metered)
  const fellBack = [...a.logs, ...b.logs].filter((r) => metered(r) && r.fallbacks?.includes('spare'))
  t.equal(fellBack.length, 2, 'metered took 3 (its limit), the other 2 went to spare')
  t.ok(fellBack.every((r) => r.failures?.some((f: any) => f.upstream === 'metered' && f.code === 'RE_RATE_LIMITED')))
})
