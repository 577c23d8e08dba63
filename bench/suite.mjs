// npm run bench: route-engine against the floor, every target measured in the same run on the same
// machine: the mock upstream called directly, a bare undici pass-through proxy (bench/servers/bare-proxy.mjs),
// a hand-written translating proxy doing route-engine's work for these requests (bench/servers/hand-proxy.mjs),
// and route-engine on the shipped rules.
//   BENCH_QUICK=1            fewer samples (a smoke run, under a minute)
//   BENCH_MEMORY_REQUESTS=n  length of the memory-flatness run (default 100000; quick 10000)
// Prints the table (the targets, each marked pass or miss) and writes bench/results.json.
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, release, tmpdir, totalmem } from 'node:os'
import { join } from 'node:path'
import { BENCH_KEY, closeAgent, concurrentStreams, drive, interleaved, pct, saturate, setMode } from './lib/load.mjs'
import { historyScale, perChunk, rulesScale } from './lib/in-process.mjs'
import { parity } from './lib/parity.mjs'
import { startEngine, startScript } from './lib/processes.mjs'
import { chatRequest, cursorRequest } from './lib/transcripts.mjs'
import { report } from './lib/report.mjs'
import { startRedisServer } from './lib/redis.mjs'

const QUICK = process.env.BENCH_QUICK === '1'
const N = (full, quick) => (QUICK ? quick : full)
const MEMORY_REQUESTS = Number(process.env.BENCH_MEMORY_REQUESTS ?? N(100_000, 10_000))
const DELTAS = 64
const t0 = performance.now()
const log = (s) => process.stderr.write(`[${((performance.now() - t0) / 1000).toFixed(0).padStart(3)} s] ${s}\n`)

const machine = {
  cpus: `${cpus().length} × ${cpus()[0]?.model?.trim() ?? 'cpu'}`,
  node: process.version,
  os: `${process.platform} ${release()}`,
  memoryGb: Math.round(totalmem() / 2 ** 30),
  loadAverageAtStart: loadavg()[0],
}
const results = { date: new Date().toISOString(), machine, quick: QUICK }

// ---- in process ----
log('per-chunk cost of the stream programs (in process)')
results.perChunk = await perChunk(200, N(300, 40))
log('request transforms by history length (in process)')
results.history = await historyScale(QUICK ? [10, 50, 200] : [10, 25, 50, 100, 200, 400], N(30, 5))
log('ruleset load and match by number of rules (in process)')
results.rules = await rulesScale(QUICK ? [10, 100] : [10, 100, 1000])

// ---- over loopback ----
const mock = await startScript('mock-upstream.mjs')
const bare = await startScript('bare-proxy.mjs', { UPSTREAM: mock.url })
const hand = await startScript('hand-proxy.mjs', { ANTHROPIC_URL: `${mock.url}/v1`, COMPAT_URL: `${mock.url}/v1`, KEY: BENCH_KEY })
const rulesDir = mkdtempSync(join(tmpdir(), 'bench-engine-'))
cpSync(new URL('../rules/', import.meta.url).pathname, rulesDir, { recursive: true })
const engine = await startEngine(rulesDir, {
  ROUTE_ENGINE_KEYS: BENCH_KEY,
  ANTHROPIC_BASE_URL: `${mock.url}/v1`, ANTHROPIC_API_KEY: 'bench', OPENAI_BASE_URL: `${mock.url}/v1`, OPENAI_API_KEY: 'bench',
  OPENAI_COMPAT_BASE_URL: `${mock.url}/v1`, OPENAI_COMPAT_API_KEY: 'bench', GEMINI_API_KEY: 'bench',
})
const procs = { direct: mock, bare, hand, engine }
await new Promise((r) => setTimeout(r, 500))
results.rssIdleMb = { engine: engine.rssMb(), hand: hand.rssMb(), bare: bare.rssMb() }

// The direct and bare targets send the client's body to the upstream's own path: the mock answers it in
// its dialect, untranslated (the floor); the hand-written proxy and route-engine translate both ways.
const chat = (model, stream) => JSON.stringify(chatRequest(model, stream))
const scenarios = [
  { name: 'anthropic-json', label: 'Chat → Anthropic JSON', path: '/v1/messages', enginePath: '/v1/chat/completions', body: chat('claude-sonnet-4-6', false), hand: true },
  { name: 'anthropic-stream', label: `Chat → Anthropic streamed (${DELTAS} deltas)`, path: '/v1/messages', enginePath: '/v1/chat/completions', body: chat('claude-sonnet-4-6', true), hand: true, stream: true, inProcess: 'anthropic' },
  { name: 'compat-json', label: 'Chat → OpenAI-compatible Chat', path: '/v1/chat/completions', enginePath: '/v1/chat/completions', body: chat('deepseek-chat', false), hand: true },
  { name: 'cursor-responses', label: `Cursor agent turn (10 KB) → Responses, streamed`, path: '/v1/responses', enginePath: '/cursor/chat/completions', body: JSON.stringify(cursorRequest('gpt-5.5', true)), stream: true, inProcess: 'responses' },
]
const targetsOf = (s) => [
  { name: 'direct', url: mock.url + s.path, body: s.body },
  { name: 'bare', url: bare.url + s.path, body: s.body },
  ...(s.hand ? [{ name: 'hand', url: hand.url + s.enginePath, body: s.body }] : []),
  { name: 'engine', url: engine.url + s.enginePath, body: s.body },
]
const byName = (targets, samples) => Object.fromEntries(targets.map((t, i) => [t.name, samples[i]]))
const summary = (xs) => ({ p50: pct(xs, 50), p99: pct(xs, 99) })
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1]

// the hand-written proxy must send and answer what route-engine does, or the comparison means nothing
await setMode(mock.url, { pace: 0, tokens: DELTAS })
log('the hand-written proxy against route-engine: upstream requests and replies')
results.parity = {}
const compatStream = { name: 'compat-stream', label: 'Chat → OpenAI-compatible Chat, streamed', enginePath: '/v1/chat/completions', body: chat('deepseek-chat', true) }
for (const s of [...scenarios.filter((x) => x.hand), compatStream]) {
  results.parity[s.name] = { label: s.label, ...await parity(hand.url + s.enginePath, engine.url + s.enginePath, s.body, mock.url) }
}

results.scenarios = Object.fromEntries(scenarios.map((s) => [s.name, { label: s.label, hand: Boolean(s.hand), stream: Boolean(s.stream), inProcess: s.inProcess }]))
for (const s of scenarios) {
  log(`latency at concurrency 1: ${s.label}`)
  const targets = targetsOf(s)
  await interleaved(targets, N(200, 30))
  const n = s.stream ? N(300, 50) : N(1000, 120)
  const samples = await interleaved(targets, n)
  results.scenarios[s.name].latency = { samples: n, ...byName(targets, samples.map((x) => summary(x.ms))) }
}

// per chunk through the whole proxy path: long transcripts at full speed, over the bare proxy
await setMode(mock.url, { pace: 0, tokens: 2000 })
for (const s of scenarios.filter((x) => x.stream)) {
  log(`per chunk end to end: ${s.label}`)
  const targets = targetsOf(s).slice(1)
  await interleaved(targets, N(5, 2))
  const samples = byName(targets, await interleaved(targets, N(40, 8)))
  const overBare = (t) => samples[t] && ((pct(samples[t].ms, 50) - pct(samples.bare.ms, 50)) * 1000) / 2000
  results.scenarios[s.name].perChunkE2eUs = { engine: overBare('engine'), hand: overBare('hand') }
}

// time to first token at a token pace (5 ms a token, 20 tokens)
await setMode(mock.url, { pace: 5, tokens: 20 })
for (const s of scenarios.filter((x) => x.stream)) {
  log(`time to first token: ${s.label}`)
  const targets = targetsOf(s)
  const samples = await interleaved(targets, N(60, 15))
  results.scenarios[s.name].ttft = byName(targets, samples.map((x) => summary(x.ttft)))
}

// requests/s at saturation (32 in flight): a warm-up, then rounds that take the targets in turn (a busy
// machine disturbs them alike); the median round of each, and the CPU each process spent per request
await setMode(mock.url, { pace: 0, tokens: DELTAS })
for (const s of scenarios) {
  log(`requests/s at saturation: ${s.label}`)
  const rounds = {}
  for (const t of targetsOf(s)) await saturate(t, 32, N(1, 0.3))
  for (let round = 0; round < N(3, 1); round++) {
    for (const t of targetsOf(s)) {
      const c0 = procs[t.name].cpuMs()
      const r = await saturate(t, 32, N(2, 1))
      // the direct row's CPU is the mock's own
      ;(rounds[t.name] ??= []).push({ rps: r.rps, cpu: ((procs[t.name].cpuMs() - c0) * 1000) / r.done })
    }
  }
  results.scenarios[s.name].rps = Object.fromEntries(Object.entries(rounds).map(([k, xs]) => [k, median(xs.map((x) => x.rps))]))
  results.scenarios[s.name].cpuUsPerRequest = Object.fromEntries(Object.entries(rounds).map(([k, xs]) => [k, median(xs.map((x) => x.cpu))]))
}
results.rssAfterLoadMb = { engine: engine.rssMb(), hand: hand.rssMb(), bare: bare.rssMb() }

// the Redis store against the memory store: the same rules and load, a second engine on a local
// redis-server, rounds alternating between the two
log('requests/s: Redis store against memory store')
const redis = await startRedisServer()
if (redis) {
  const onRedis = await startEngine(rulesDir, {
    ROUTE_ENGINE_KEYS: BENCH_KEY, OPENAI_COMPAT_BASE_URL: `${mock.url}/v1`, OPENAI_COMPAT_API_KEY: 'bench', ANTHROPIC_BASE_URL: `${mock.url}/v1`, ANTHROPIC_API_KEY: 'bench', OPENAI_BASE_URL: `${mock.url}/v1`, OPENAI_API_KEY: 'bench', BENCH_MOCK_URL: mock.url, ROUTE_ENGINE_STORE: redis.url,
  })
  results.store = {}
  for (const s of scenarios) {
    const targets = { memory: { name: 'memory', url: engine.url + s.enginePath, body: s.body }, redis: { name: 'redis', url: onRedis.url + s.enginePath, body: s.body } }
    for (const t of Object.values(targets)) await saturate(t, 32, N(1, 0.3))
    const rounds = { memory: [], redis: [] }
    for (let round = 0; round < N(3, 1); round++) {
      for (const [k, t] of Object.entries(targets)) {
        const proc = k === 'memory' ? engine : onRedis
        const c0 = proc.cpuMs()
        const n0 = await redis.commands()
        const r = await saturate(t, 32, N(2, 1))
        rounds[k].push({ rps: r.rps, cpu: ((proc.cpuMs() - c0) * 1000) / r.done, commands: ((await redis.commands()) - n0) / r.done })
      }
    }
    const med = (k, f) => median(rounds[k].map(f))
    results.store[s.name] = { label: s.label, memory: { rps: med('memory', (x) => x.rps), cpuUs: med('memory', (x) => x.cpu) }, redis: { rps: med('redis', (x) => x.rps), cpuUs: med('redis', (x) => x.cpu), commandsPerRequest: med('redis', (x) => x.commands) } }
  }
  await onRedis.stop()
  await redis.stop()
} else {
  results.store = null
}

// memory over many translated requests (Chat → OpenAI-compatible: the lightest translated route, so that
// 100k requests fit the bench's few minutes; the other routes' memory is the after-load figure)
const memoryScenario = scenarios.find((s) => s.name === 'compat-json')
log(`memory over ${MEMORY_REQUESTS} requests: ${memoryScenario.label}`)
const every = MEMORY_REQUESTS / 10
results.memory = { route: memoryScenario.label, rssMb: [{ requests: 0, rssMb: engine.rssMb() }] }
await drive(targetsOf(memoryScenario).at(-1), MEMORY_REQUESTS, 32, every, async (done) => { results.memory.rssMb.push({ requests: done, rssMb: engine.rssMb() }) })

// concurrent streams at a token pace (20 ms a token, 10 tokens)
await setMode(mock.url, { pace: 20, tokens: 10 })
const streamScenario = scenarios.find((s) => s.name === 'anthropic-stream')
results.concurrency = { route: streamScenario.label, rows: [] }
for (const n of QUICK ? [1, 100] : [1, 10, 100, 1000]) {
  log(`${n} concurrent streams`)
  const row = { streams: n }
  for (const t of targetsOf(streamScenario).slice(1)) {
    const xs = await concurrentStreams(t, n)
    row[t.name] = { ttftP50: pct(xs.map((x) => x.ttft), 50), ttftP99: pct(xs.map((x) => x.ttft), 99), totalP50: pct(xs.map((x) => x.ms), 50), rssMb: procs[t.name].rssMb() }
  }
  results.concurrency.rows.push(row)
}

await Promise.all([engine.stop(), hand.stop(), bare.stop(), mock.stop()])
await closeAgent()
rmSync(rulesDir, { recursive: true, force: true })
results.seconds = (performance.now() - t0) / 1000
writeFileSync(new URL('./results.json', import.meta.url), JSON.stringify(results, null, 2) + '\n')
process.stdout.write(report(results))
