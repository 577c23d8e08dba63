// Quick engine benchmark (issue 2's numbers): per-event cost of the shipped stream programs against
// hand-written JS doing the same parse + re-serialise, and latency added by route-engine over a direct
// call to a loopback upstream. Run: npm run build && node bench/engine.mjs
import { readFileSync, mkdtempSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { once } from 'node:events'
import { tmpdir, cpus } from 'node:os'
import { join } from 'node:path'
import { Agent, request } from 'undici'
import { loadRuleset } from '../dist/ruleset/compile.js'
import { createSseDecoder } from '../dist/sse/decode.js'
import { transformStream } from '../dist/pipeline/transform-stream.js'
import { startServer } from '../dist/server.js'
import { createLogger } from '../dist/log.js'
import { MemoryStore } from '../dist/store/memory.js'

const fixtures = new URL('../test/fixtures/', import.meta.url)
const rulesDir = new URL('../rules/', import.meta.url).pathname
const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}`

function events(file) {
  const out = []
  const d = createSseDecoder((e) => out.push(e))
  d.push(readFileSync(new URL(`streams/${file}`, fixtures)))
  d.end()
  return out
}

async function perEvent(ruleName, file, request) {
  const { ruleset } = await loadRuleset(rulesDir)
  const rule = ruleset.rules.find((r) => r.name === ruleName)
  const evs = events(file)
  const store = new MemoryStore()
  const bindings = { request, ctx: { id: 'bench', created: 1, model: request.model }, vars: rule.vars, models: [], recall: (k) => store.get(k), remember: async (k, v) => { await store.set(k, v); return v } }
  const rounds = 400
  for (let i = 0; i < 50; i++) { const run = transformStream(rule.response.stream, bindings, rule.name); for (const e of evs) await run.onEvent(e); await run.onEnd() }
  let t = performance.now()
  for (let i = 0; i < rounds; i++) { const run = transformStream(rule.response.stream, bindings, rule.name); for (const e of evs) await run.onEvent(e); await run.onEnd() }
  const us = ((performance.now() - t) * 1000) / (rounds * evs.length)
  // Baseline: hand-written JS that parses each event and writes one re-serialised chunk.
  t = performance.now()
  let sink = 0
  for (let i = 0; i < rounds; i++) for (const e of evs) { if (e.data === "[DONE]") continue; const d = JSON.parse(e.data); sink += `data: ${JSON.stringify({ id: 'x', object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content: d.delta?.text ?? '' } }] })}\n\n`.length }
  const js = ((performance.now() - t) * 1000) / (rounds * evs.length)
  return { us, js, n: evs.length, sink }
}

function pct(xs, p) { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] }

async function latency() {
  const responseBody = readFileSync(new URL('streams/anthropic-messages/text.response.json', fixtures), 'utf8')
  const up = createServer((req, res) => { req.resume(); req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end(responseBody)) })
  up.listen(0, '127.0.0.1'); await once(up, 'listening')
  const upUrl = `http://127.0.0.1:${up.address().port}`
  process.env.ANTHROPIC_BASE_URL = upUrl
  process.env.ANTHROPIC_API_KEY = 'bench-key'
  const dir = mkdtempSync(join(tmpdir(), 'bench-'))
  writeFileSync(join(dir, 'p.yaml'), `upstreams:\n  u: { base: "${upUrl}" }\nrules:\n  - name: pass\n    match: { path: /pass }\n    upstream: { to: u, path: /x }\n`)
  const { ruleset: shipped } = await loadRuleset(rulesDir)
  const { ruleset: pass } = await loadRuleset(dir)
  const holder = { current: { ...shipped, rules: [...pass.rules, ...shipped.rules], upstreams: new Map([...shipped.upstreams, ...pass.upstreams]) }, lastError: null, reloads: 0 }
  const server = await startServer({ host: '127.0.0.1', port: 0, holder, store: new MemoryStore(), logger: createLogger('silent'), keys: [], maxBodyBytes: 50 << 20, maxJsonDepth: 128 })
  const agent = new Agent({ keepAliveTimeout: 10_000 })
  const cursorBody = JSON.stringify({ ...JSON.parse(readFileSync(new URL('cursor/gpt5-agent-responses-full-turn.json', fixtures), 'utf8')), model: 'claude-sonnet-4-6', stream: false })
  const measure = async (url, body, n) => {
    const xs = []
    for (let i = 0; i < n; i++) {
      const t = performance.now()
      const r = await request(url, { method: 'POST', body, headers: { 'content-type': 'application/json' }, dispatcher: agent })
      await r.body.text()
      xs.push(performance.now() - t)
    }
    return xs
  }
  const rounds = 2000
  await measure(upUrl + '/x', cursorBody, 200); await measure(server.url + '/pass', cursorBody, 200); await measure(server.url + '/cursor/chat/completions', cursorBody, 200)
  const direct = await measure(upUrl + '/x', cursorBody, rounds)
  const pass2 = await measure(server.url + '/pass', cursorBody, rounds)
  const cursor = await measure(server.url + '/cursor/chat/completions', cursorBody, rounds)
  await server.close(); up.close(); await agent.close()
  return { direct, pass: pass2, cursor }
}

const req = JSON.parse(readFileSync(new URL('streams/anthropic-messages/text.request.json', fixtures), 'utf8'))
console.log(`machine: ${machine}`)
for (const [rule, file] of [['cursor-anthropic', 'anthropic-messages/text.sse'], ['cursor-openai', 'responses/text.sse'], ['cursor-gemini', 'gemini/text.sse'], ['cursor-compat', 'chat-completions/text.sse']]) {
  const r = await perEvent(rule, file, { ...req, model: 'm', stream: true })
  console.log(`per event  ${rule.padEnd(17)} ${file.padEnd(28)} ${r.us.toFixed(2)} µs/event (hand-written JS ${r.js.toFixed(2)} µs, ratio ${(r.us / r.js).toFixed(0)}×) over ${r.n} events`)
}
const l = await latency()
const row = (name, xs) => `${name.padEnd(44)} p50 ${pct(xs, 50).toFixed(3)} ms  p99 ${pct(xs, 99).toFixed(3)} ms`
console.log(row('direct to the loopback upstream', l.direct))
console.log(row('through route-engine, pass-through rule', l.pass))
console.log(row('through route-engine, Cursor → Anthropic', l.cursor))
console.log(`added p50: pass-through ${(pct(l.pass, 50) - pct(l.direct, 50)).toFixed(3)} ms, Cursor translation ${(pct(l.cursor, 50) - pct(l.direct, 50)).toFixed(3)} ms; added p99: ${(pct(l.pass, 99) - pct(l.direct, 99)).toFixed(3)} / ${(pct(l.cursor, 99) - pct(l.direct, 99)).toFixed(3)} ms`)
