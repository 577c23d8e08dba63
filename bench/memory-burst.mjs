// Memory of `route-engine serve` (the built CLI, shipped rules) under large bodies: RSS before, at the
// peak and after a burst of N concurrent requests of SIZE MB each to an OpenAI-compatible upstream (a
// loopback mock), and around one large upstream JSON reply. Statuses are counted, not asserted.
//   npm run build && node bench/memory-burst.mjs [--n 12] [--mb 40] [--reply-mb 64] [-- serve flags…]
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { createInterface } from 'node:readline'
import { parseArgs } from 'node:util'
import { request } from 'undici'

const sep = process.argv.indexOf('--')
const { values } = parseArgs({ args: process.argv.slice(2, sep === -1 ? undefined : sep), options: { n: { type: 'string' }, mb: { type: 'string' }, 'reply-mb': { type: 'string' } } })
const serveFlags = sep === -1 ? [] : process.argv.slice(sep + 1)
const N = Number(values.n ?? 12)
const MB = Number(values.mb ?? 40)
const REPLY_MB = Number(values['reply-mb'] ?? 64)

const bigReply = JSON.stringify({ id: 'c', object: 'chat.completion', created: 1, model: 'm', choices: [{ index: 0, message: { role: 'assistant', content: 'y'.repeat(REPLY_MB << 20) }, finish_reason: 'stop' }] })
const small = JSON.stringify({ id: 'c', object: 'chat.completion', created: 1, model: 'm', choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }] })
const mock = createServer((req, res) => {
  req.resume()
  req.on('end', () => {
    const text = req.url?.startsWith('/big') ? bigReply : small
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text)
  })
})
await new Promise((r) => mock.listen(0, '127.0.0.1', r))
const mockUrl = `http://127.0.0.1:${mock.address().port}`

async function serve(base) {
  const child = spawn(process.execPath, ['bin/route-engine.js', 'serve', '--port', '0', '--no-watch', ...serveFlags], {
    env: { ...process.env, ROUTE_ENGINE_KEYS: '', OPENAI_COMPAT_BASE_URL: base, LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'ignore'],
  })
  const url = await new Promise((resolve) => createInterface({ input: child.stdout }).on('line', (l) => { const r = JSON.parse(l); if (r.url) resolve(r.url) }))
  return { child, url }
}

const rss = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024
const messages = new Map()
const AFTER = [1000, 10_000, 30_000, 60_000]
const settle = (ms) => new Promise((r) => setTimeout(r, ms))

async function measure(label, base, run) {
  const s = await serve(base)
  await settle(500)
  const before = rss(s.child.pid)
  let peak = before
  const sampler = setInterval(() => { peak = Math.max(peak, rss(s.child.pid)) }, 20)
  const t0 = performance.now()
  const statuses = await run(s.url)
  const secs = (performance.now() - t0) / 1000
  clearInterval(sampler)
  const after = []
  // V8 gives back the heap of a burst on its own, some 20-30 s after the allocations stop
  for (const wait of AFTER) { await settle(wait - (AFTER[after.length - 1] ?? 0)); after.push(rss(s.child.pid)) }
  const metrics = await (await request(s.url + '/metrics')).body.text()
  const gauge = (name) => Number(new RegExp(`^route_engine_${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(metrics)?.[1] ?? NaN)
  const mb = (x) => (x / 1048576).toFixed(0)
  s.child.kill()
  const count = {}
  for (const st of statuses) count[st] = (count[st] ?? 0) + 1
  console.log(`${label}: ${secs.toFixed(1)} s, statuses ${JSON.stringify(count)}; RSS before ${before.toFixed(0)} MB, peak ${peak.toFixed(0)} MB, after ${AFTER.map((x) => x / 1000).join(' / ')} s ${after.map((x) => x.toFixed(0)).join(' / ')} MB (then heap ${mb(gauge('nodejs_heap_size_used_bytes'))} MB, external ${mb(gauge('nodejs_external_memory_bytes'))} MB, body bytes held ${gauge('body_bytes_held')})`)
}

const body = Buffer.from(JSON.stringify({ model: 'local-model', messages: [{ role: 'user', content: 'x'.repeat(MB << 20) }] }))
await measure(`${N} × ${MB} MB request bodies at once`, mockUrl, async (url) => Promise.all(Array.from({ length: N }, async () => {
  try {
    const r = await request(url + '/v1/chat/completions', { method: 'POST', body, headers: { 'content-type': 'application/json' } })
    const text = await r.body.text()
    if (r.statusCode === 200) return 200
    const { error } = JSON.parse(text)
    messages.set(error?.code, error?.message)
    return `${r.statusCode} ${error?.code}`
  } catch (e) { return e.code ?? 'error' }
})))
await measure(`one ${REPLY_MB} MB upstream JSON reply`, mockUrl + '/big', async (url) => {
  const r = await request(url + '/v1/chat/completions', { method: 'POST', body: JSON.stringify({ model: 'local-model', messages: [{ role: 'user', content: 'hi' }] }), headers: { 'content-type': 'application/json' } })
  await r.body.dump()
  return [r.statusCode]
})
for (const [code, message] of messages) console.log(`  ${code}: ${message}`)
mock.close()
