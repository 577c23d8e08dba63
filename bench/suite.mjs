// npm run bench: route-engine against calling the mock upstream directly and against a bare undici
// pass-through proxy, measured in the same run, on the shipped Cursor translations.
//   BENCH_QUICK=1            fewer samples (a smoke run)
//   BENCH_MEMORY_REQUESTS=n  length of the memory-flatness run (default 100000)
// Prints the table and writes bench/results.json.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, release, tmpdir, totalmem } from 'node:os'
import { join } from 'node:path'
import { closeAgent, concurrentStreams, drive, interleaved, pct, saturate, setMode } from './lib/load.mjs'
import { historyScale, perChunk, rulesScale } from './lib/in-process.mjs'
import { startEngine, startScript } from './lib/processes.mjs'
import { startRedisServer } from './lib/redis.mjs'
import { cursorRequest } from './lib/transcripts.mjs'

const QUICK = process.env.BENCH_QUICK === '1'
const N = (full, quick) => (QUICK ? quick : full)
const MEMORY_REQUESTS = Number(process.env.BENCH_MEMORY_REQUESTS ?? N(100_000, 10_000))
const t0 = performance.now()
const log = (s) => process.stderr.write(`[${((performance.now() - t0) / 1000).toFixed(0).padStart(3)} s] ${s}\n`)
const f = (x, d = 3) => (x === undefined || Number.isNaN(x) ? '–' : x.toFixed(d))

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
const rulesDir = mkdtempSync(join(tmpdir(), 'bench-engine-'))
cpSync(new URL('../rules/', import.meta.url).pathname, rulesDir, { recursive: true })
writeFileSync(join(rulesDir, '90-bench-pass.yaml'), readFileSync(new URL('./rules/pass.yaml', import.meta.url)))
const engine = await startEngine(rulesDir, {
  ANTHROPIC_BASE_URL: `${mock.url}/v1`, ANTHROPIC_API_KEY: 'bench', OPENAI_BASE_URL: `${mock.url}/v1`, OPENAI_API_KEY: 'bench', BENCH_MOCK_URL: mock.url,
})
await new Promise((r) => setTimeout(r, 500))
results.rssIdleMb = { engine: engine.rssMb(), bare: bare.rssMb() }

const body = (model, stream) => JSON.stringify(cursorRequest(model, stream))
const scenarios = [
  { name: 'translate', label: 'non-streaming Cursor (Responses-shaped) → Anthropic → Chat', path: '/v1/messages', enginePath: '/cursor/chat/completions', body: body('claude-sonnet-4-6', false) },
  { name: 'stream-responses', label: 'streaming Responses SSE → Chat chunks', path: '/v1/responses', enginePath: '/cursor/chat/completions', body: body('gpt-5.5', true), stream: true },
  { name: 'stream-anthropic', label: 'streaming Anthropic SSE → Chat chunks', path: '/v1/messages', enginePath: '/cursor/chat/completions', body: body('claude-sonnet-4-6', true), stream: true },
  { name: 'pass', label: 'plain pass-through', path: '/raw', enginePath: '/bench/pass', body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }) },
]
const targetsOf = (s) => [
  { name: 'direct', url: mock.url + s.path, body: s.body },
  { name: 'bare', url: bare.url + s.path, body: s.body },
  { name: 'engine', url: engine.url + s.enginePath, body: s.body },
]
const summary = (samples) => ({ p50: pct(samples, 50), p99: pct(samples, 99) })

results.scenarios = {}
await setMode(mock.url, { pace: 0, tokens: 100 })
for (const s of scenarios) {
  log(`latency: ${s.label}`)
  const targets = targetsOf(s)
  await interleaved(targets, N(200, 30))
  const n = s.stream ? N(300, 60) : N(1000, 150)
  const [direct, bareS, eng] = await interleaved(targets, n)
  results.scenarios[s.name] = { label: s.label, samples: n, direct: summary(direct.ms), bare: summary(bareS.ms), engine: summary(eng.ms) }
}

// per chunk through the whole proxy path: long transcripts at full speed, engine against the bare proxy
await setMode(mock.url, { pace: 0, tokens: 2000 })
for (const s of scenarios.filter((x) => x.stream)) {
  log(`per chunk end to end: ${s.label}`)
  const targets = targetsOf(s).slice(1)
  await interleaved(targets, N(5, 2))
  const [bareS, eng] = await interleaved(targets, N(40, 8))
  results.scenarios[s.name].perChunkE2eUs = ((pct(eng.ms, 50) - pct(bareS.ms, 50)) * 1000) / 2000
}

// time to first token at a token pace (5 ms a token, 20 tokens)
await setMode(mock.url, { pace: 5, tokens: 20 })
for (const s of scenarios.filter((x) => x.stream)) {
  log(`time to first token: ${s.label}`)
  const [direct, bareS, eng] = await interleaved(targetsOf(s), N(60, 15))
  results.scenarios[s.name].ttft = { direct: summary(direct.ttft), bare: summary(bareS.ttft), engine: summary(eng.ttft) }
}

// requests/s at saturation: a warm-up, then rounds that take the targets in turn (a busy machine
// disturbs them alike); the median round of each
await setMode(mock.url, { pace: 0, tokens: 100 })
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1]
for (const s of scenarios) {
  log(`requests/s at saturation: ${s.label}`)
  const rounds = {}
  for (const t of targetsOf(s)) await saturate(t, 32, N(1, 0.3))
  for (let round = 0; round < N(3, 1); round++) {
    for (const t of targetsOf(s)) {
      const proc = { direct: mock, bare, engine }[t.name]
      const c0 = proc.cpuMs()
      const r = await saturate(t, 32, N(2, 1))
      // CPU each process spent per request (the direct row is the mock's own)
      ;(rounds[t.name] ??= []).push({ rps: r.rps, cpu: ((proc.cpuMs() - c0) * 1000) / r.done })
    }
  }
  results.scenarios[s.name].rps = Object.fromEntries(Object.entries(rounds).map(([k, xs]) => [k, median(xs.map((x) => x.rps))]))
  results.scenarios[s.name].cpuUsPerRequest = Object.fromEntries(Object.entries(rounds).map(([k, xs]) => [k, median(xs.map((x) => x.cpu))]))
}
results.rssAfterLoadMb = { engine: engine.rssMb(), bare: bare.rssMb() }

// the Redis store against the memory store: the same rules and load, a second engine on a local
// redis-server, rounds alternating between the two
log('requests/s: Redis store against memory store')
const redis = await startRedisServer()
if (redis) {
  const onRedis = await startEngine(rulesDir, {
    ANTHROPIC_BASE_URL: `${mock.url}/v1`, ANTHROPIC_API_KEY: 'bench', OPENAI_BASE_URL: `${mock.url}/v1`, OPENAI_API_KEY: 'bench', BENCH_MOCK_URL: mock.url, ROUTE_ENGINE_STORE: redis.url,
  })
  results.store = {}
  for (const s of scenarios.filter((x) => x.name !== 'pass')) {
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

// memory over many requests (the pass-through route: 100k translated requests would not fit in the
// bench's five minutes on a small machine; the translated routes' memory is the after-load figure)
log(`memory over ${MEMORY_REQUESTS} requests`)
const every = MEMORY_REQUESTS / 10
results.memory = [{ requests: 0, rssMb: engine.rssMb() }]
await drive(targetsOf(scenarios[3])[2], MEMORY_REQUESTS, 32, every, async (done) => { results.memory.push({ requests: done, rssMb: engine.rssMb() }) })

// concurrent streams at a token pace (20 ms a token, 10 tokens)
await setMode(mock.url, { pace: 20, tokens: 10 })
results.concurrency = []
for (const n of QUICK ? [1, 100] : [1, 10, 100, 1000]) {
  log(`${n} concurrent streams`)
  const row = { streams: n }
  for (const t of targetsOf(scenarios[2]).slice(1)) {
    const xs = await concurrentStreams(t, n)
    row[t.name] = { ttftP50: pct(xs.map((x) => x.ttft), 50), ttftP99: pct(xs.map((x) => x.ttft), 99), totalP50: pct(xs.map((x) => x.ms), 50), rssMb: (t.name === 'engine' ? engine : bare).rssMb() }
  }
  results.concurrency.push(row)
}

await Promise.all([engine.stop(), bare.stop(), mock.stop()])
await closeAgent()
rmSync(rulesDir, { recursive: true, force: true })
results.seconds = (performance.now() - t0) / 1000
writeFileSync(new URL('./results.json', import.meta.url), JSON.stringify(results, null, 2) + '\n')
process.stdout.write(report(results))

function report(r) {
  const lines = []
  const m = r.machine
  lines.push(`route-engine bench ${r.date}${r.quick ? ' (quick)' : ''}`)
  lines.push(`machine: ${m.cpus}, ${m.memoryGb} GB, ${m.os}, Node ${m.node}; load average at start ${m.loadAverageAtStart.toFixed(1)}`)
  lines.push('')
  lines.push('latency (ms, sequential requests; "added" = engine − direct)')
  lines.push(`${'scenario'.padEnd(58)} ${'direct p50/p99'.padStart(15)} ${'bare p50/p99'.padStart(15)} ${'engine p50/p99'.padStart(15)} ${'added p50/p99'.padStart(15)} ${'bare adds'.padStart(12)}`)
  for (const s of Object.values(r.scenarios)) {
    const pair = (x) => `${f(x.p50)}/${f(x.p99)}`
    lines.push(`${s.label.padEnd(58)} ${pair(s.direct).padStart(15)} ${pair(s.bare).padStart(15)} ${pair(s.engine).padStart(15)} ${`${f(s.engine.p50 - s.direct.p50)}/${f(s.engine.p99 - s.direct.p99)}`.padStart(15)} ${`${f(s.bare.p50 - s.direct.p50)}/${f(s.bare.p99 - s.direct.p99)}`.padStart(12)}`)
  }
  lines.push('')
  lines.push('streams (5 ms a token for time to first token; 2,000 tokens at full speed for per chunk)')
  for (const [k, s] of Object.entries(r.scenarios).filter(([, s]) => s.ttft)) {
    lines.push(`  ${s.label}: time to first token p50 direct ${f(s.ttft.direct.p50)} / bare ${f(s.ttft.bare.p50)} / engine ${f(s.ttft.engine.p50)} ms, added ${f(s.ttft.engine.p50 - s.ttft.direct.p50)} ms; per chunk end to end +${f(s.perChunkE2eUs, 2)} µs over bare; in process ${f(r.perChunk[k.replace('stream-', '')].engineUs, 2)} µs/event vs hand-written ${f(r.perChunk[k.replace('stream-', '')].handUs, 2)} µs (${f(r.perChunk[k.replace('stream-', '')].engineUs / r.perChunk[k.replace('stream-', '')].handUs, 1)}×)`)
  }
  lines.push('')
  lines.push('requests/s at saturation (32 in flight)')
  for (const s of Object.values(r.scenarios)) {
    lines.push(`  ${s.label.padEnd(58)} direct ${f(s.rps.direct, 0).padStart(6)}  bare ${f(s.rps.bare, 0).padStart(6)}  engine ${f(s.rps.engine, 0).padStart(6)}  engine/bare ${f((100 * s.rps.engine) / s.rps.bare, 0)} %;  CPU per request: mock ${f(s.cpuUsPerRequest.direct, 0)} µs, bare ${f(s.cpuUsPerRequest.bare, 0)} µs, engine ${f(s.cpuUsPerRequest.engine, 0)} µs`)
  }
  lines.push('')
  if (r.store) {
    lines.push('requests/s at saturation, Redis store against memory store (same rules, same run; Redis on loopback)')
    for (const s of Object.values(r.store)) {
      lines.push(`  ${s.label.padEnd(58)} memory ${f(s.memory.rps, 0).padStart(6)}  redis ${f(s.redis.rps, 0).padStart(6)}  redis/memory ${f((100 * s.redis.rps) / s.memory.rps, 0)} %;  CPU per request ${f(s.memory.cpuUs, 0)} / ${f(s.redis.cpuUs, 0)} µs;  Redis commands per request ${f(s.redis.commandsPerRequest, 1)}`)
    }
  } else lines.push('Redis store against memory store: skipped (no redis-server)')
  lines.push('')
  lines.push(`RSS (MB): idle engine ${f(r.rssIdleMb.engine, 1)} / bare ${f(r.rssIdleMb.bare, 1)} (${f(r.rssIdleMb.engine / r.rssIdleMb.bare, 2)}×); after load engine ${f(r.rssAfterLoadMb.engine, 1)} / bare ${f(r.rssAfterLoadMb.bare, 1)} (${f(r.rssAfterLoadMb.engine / r.rssAfterLoadMb.bare, 2)}×)`)
  lines.push(`RSS over ${r.memory.at(-1).requests} requests (pass-through route, MB): ${r.memory.map((x) => f(x.rssMb, 1)).join(' → ')}`)
  lines.push('')
  lines.push('scale')
  lines.push(`  history (Cursor → Anthropic request pipeline, in process): ${r.history.map((h) => `${h.items} items ${f(h.us / 1000, 2)} ms (${f(h.usPerItem, 1)} µs/item)`).join(', ')}`)
  lines.push(`  rules: ${r.rules.map((x) => `${x.rules} rules load ${f(x.loadMs, 1)} ms, reload after one rule changed ${f(x.reloadMs, 1)} ms, match last ${f(x.matchUs, 2)} µs`).join('; ')}`)
  lines.push(`  concurrent Anthropic streams (20 ms a token): ${r.concurrency.map((c) => `${c.streams}: TTFT p50 engine ${f(c.engine.ttftP50, 1)} / bare ${f(c.bare.ttftP50, 1)} ms, p99 engine ${f(c.engine.ttftP99, 1)} / bare ${f(c.bare.ttftP99, 1)} ms, RSS engine ${f(c.engine.rssMb, 0)} / bare ${f(c.bare.rssMb, 0)} MB`).join('\n    ')}`)
  lines.push('')
  lines.push(`${f(r.seconds, 0)} s; figures in bench/results.json`)
  return lines.join('\n') + '\n'
}
