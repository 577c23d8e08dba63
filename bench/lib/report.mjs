// The bench's printed report: the issue's targets first (required, measured, pass or miss), then the
// figures behind them, each target beside the bare proxy and the hand-written proxy of the same run.
const f = (x, d = 3) => (x === undefined || x === null || Number.isNaN(x) ? '–' : x.toFixed(d))
const x = (a, b) => (a === undefined || b === undefined ? undefined : a / b)
const times = (v) => (v === undefined ? '–' : `${f(v, 2)}×`)
const signed = (v, d) => (v === undefined || Number.isNaN(v) ? '–' : `${v >= 0 ? '+' : ''}${f(v, d)}`)
const mark = (ok) => (ok === undefined ? '' : ok ? 'pass' : 'MISS')

/** Growth of RSS over the run: a least-squares line through the readings after the first tenth (warm-up). */
export function rssGrowth(readings) {
  const xs = readings.slice(2)
  if (xs.length < 2) return undefined
  const n = xs.length
  const mx = xs.reduce((a, r) => a + r.requests, 0) / n
  const my = xs.reduce((a, r) => a + r.rssMb, 0) / n
  const slope = xs.reduce((a, r) => a + (r.requests - mx) * (r.rssMb - my), 0) / xs.reduce((a, r) => a + (r.requests - mx) ** 2, 0)
  const mb = slope * (xs[n - 1].requests - xs[0].requests)
  return { mb, fraction: mb / my }
}

/** The issue's targets: [what, required, route-engine's figure, hand-written's figure, pass]. */
function targets(r) {
  const s = r.scenarios
  const rows = []
  const rps = (k, min) => {
    const e = x(s[k].rps.engine, s[k].rps.bare)
    rows.push([`${s[k].label}: requests/s vs bare`, `≥ ${min}×`, times(e), times(x(s[k].rps.hand, s[k].rps.bare)), e >= min])
  }
  rps('anthropic-json', 0.75)
  rps('anthropic-stream', 0.55)
  rps('compat-json', 0.8)
  const c = s['cursor-responses']
  rows.push([`${c.label}: requests/s vs bare`, 'reported', times(x(c.rps.engine, c.rps.bare)), '', undefined])
  for (const k of ['anthropic-json', 'compat-json']) {
    const l = s[k].latency
    for (const [p, max] of [['p50', 0.15], ['p99', 0.6]]) {
      const e = l.engine[p] - l.bare[p]
      rows.push([`${s[k].label}: latency ${p} at concurrency 1, beyond bare`, `≤ ${max} ms`, `${f(e)} ms`, `${f(l.hand[p] - l.bare[p])} ms`, e <= max])
    }
  }
  for (const k of ['anthropic-stream', 'cursor-responses']) {
    const t = s[k].ttft
    const e = t.engine.p50 - t.bare.p50
    rows.push([`${s[k].label}: time to first token p50, beyond bare`, '≤ 0.3 ms', `${f(e)} ms`, t.hand ? `${f(t.hand.p50 - t.bare.p50)} ms` : '', e <= 0.3])
  }
  const idle = x(r.rssIdleMb.engine, r.rssIdleMb.bare)
  rows.push(['idle RSS vs bare', '≤ 1.3×', times(idle), times(x(r.rssIdleMb.hand, r.rssIdleMb.bare)), idle <= 1.3])
  const g = rssGrowth(r.memory.rssMb)
  rows.push([`RSS over ${r.memory.rssMb.at(-1).requests} requests (${r.memory.route}), growth after the first tenth`, 'flat (≤ 10 %)', g ? `${signed(g.mb, 1)} MB (${signed(100 * g.fraction, 1)} %)` : '–', '', g && g.fraction <= 0.1])
  return rows
}

export function report(r) {
  const lines = []
  const out = (s = '') => lines.push(s)
  const m = r.machine
  out(`route-engine bench ${r.date}${r.quick ? ' (quick: few samples, noisy)' : ''}`)
  out(`machine: ${m.cpus}, ${m.memoryGb} GB, ${m.os}, Node ${m.node}; load average at start ${m.loadAverageAtStart.toFixed(1)}`)
  out()
  out('hand-written proxy vs route-engine on the same request (upstream request and reply, less id and created)')
  for (const p of Object.values(r.parity)) {
    const frames = p.frames ? `, frames hand ${p.frames.hand} / route-engine ${p.frames.engine}` : ''
    out(`  ${p.label.padEnd(62)} ${p.same ? 'same' : 'DIFFERENT'}${frames}${p.request ? `; request ${p.request}` : ''}${p.reply ? `; reply ${p.reply}` : ''}`)
  }
  out()
  out('targets (ratios and differences within this run; "hand-written" = the hand-written proxy, for scale)')
  const rows = targets(r)
  const w = Math.max(...rows.map((row) => row[0].length))
  out(`  ${'target'.padEnd(w)} ${'required'.padStart(14)} ${'route-engine'.padStart(18)} ${'hand-written'.padStart(13)}`)
  for (const [what, req, eng, hand, ok] of rows) out(`  ${what.padEnd(w)} ${req.padStart(14)} ${eng.padStart(18)} ${hand.padStart(13)}  ${mark(ok)}`)
  out()
  out('requests/s at saturation (32 in flight; median round) and CPU per request (µs; direct = the mock\'s own)')
  out(`  ${'scenario'.padEnd(62)} ${'direct'.padStart(7)} ${'bare'.padStart(7)} ${'hand'.padStart(7)} ${'engine'.padStart(7)}  engine/bare  engine/hand  hand/bare │ CPU bare   hand  engine  engine/bare  engine/hand`)
  for (const s of Object.values(r.scenarios)) {
    const q = s.rps
    const c = s.cpuUsPerRequest
    out(`  ${s.label.padEnd(62)} ${f(q.direct, 0).padStart(7)} ${f(q.bare, 0).padStart(7)} ${f(q.hand, 0).padStart(7)} ${f(q.engine, 0).padStart(7)}  ${times(x(q.engine, q.bare)).padStart(11)}  ${times(x(q.engine, q.hand)).padStart(11)}  ${times(x(q.hand, q.bare)).padStart(9)} │ ${f(c.bare, 0).padStart(8)} ${f(c.hand, 0).padStart(6)} ${f(c.engine, 0).padStart(7)}  ${times(x(c.engine, c.bare)).padStart(11)}  ${times(x(c.engine, c.hand)).padStart(11)}`)
  }
  out()
  out('latency at concurrency 1 (ms, sequential requests, targets interleaved), p50/p99')
  out(`  ${'scenario'.padEnd(62)} ${'direct'.padStart(13)} ${'bare'.padStart(13)} ${'hand'.padStart(13)} ${'engine'.padStart(13)} ${'bare − direct'.padStart(14)} ${'hand − bare'.padStart(14)} ${'engine − bare'.padStart(14)}`)
  for (const s of Object.values(r.scenarios)) {
    const l = s.latency
    const pair = (t) => (t ? `${f(t.p50)}/${f(t.p99)}` : '–')
    const diff = (a, b) => (a ? `${f(a.p50 - b.p50)}/${f(a.p99 - b.p99)}` : '–')
    out(`  ${s.label.padEnd(62)} ${pair(l.direct).padStart(13)} ${pair(l.bare).padStart(13)} ${pair(l.hand).padStart(13)} ${pair(l.engine).padStart(13)} ${diff(l.bare, l.direct).padStart(14)} ${diff(l.hand, l.bare).padStart(14)} ${diff(l.engine, l.bare).padStart(14)}`)
  }
  out()
  out('streams: time to first token p50 (5 ms a token), per chunk end to end over bare (2,000 tokens), per event in process')
  for (const s of Object.values(r.scenarios).filter((s) => s.stream)) {
    const t = s.ttft
    const pc = s.perChunkE2eUs
    const ip = r.perChunk[s.inProcess]
    out(`  ${s.label}`)
    out(`    time to first token: direct ${f(t.direct.p50)} / bare ${f(t.bare.p50)}${t.hand ? ` / hand ${f(t.hand.p50)}` : ''} / engine ${f(t.engine.p50)} ms; beyond bare${t.hand ? ` hand ${f(t.hand.p50 - t.bare.p50)},` : ''} engine ${f(t.engine.p50 - t.bare.p50)} ms`)
    out(`    per chunk end to end over bare:${pc.hand === undefined ? '' : ` hand ${signed(pc.hand, 2)} µs,`} engine ${signed(pc.engine, 2)} µs; in process (the shipped stream program vs hand-written JS): ${f(ip.engineUs, 2)} vs ${f(ip.handUs, 2)} µs an event (${f(ip.engineUs / ip.handUs, 1)}×)`)
  }
  out()
  const rss = (k) => `engine ${f(r[k].engine, 1)} / hand ${f(r[k].hand, 1)} / bare ${f(r[k].bare, 1)} MB (engine ${f(r[k].engine / r[k].bare, 2)}× bare)`
  out(`RSS idle: ${rss('rssIdleMb')}; after load: ${rss('rssAfterLoadMb')}`)
  if (r.store) {
    out()
    out('requests/s (32 in flight), Redis store against memory store, same run')
    for (const v of Object.values(r.store)) {
      out(`  ${v.label.padEnd(44)} memory ${v.memory.rps.toFixed(0).padStart(6)}  redis ${v.redis.rps.toFixed(0).padStart(6)}  (${(v.redis.rps / v.memory.rps).toFixed(2)}×, ${v.redis.commandsPerRequest.toFixed(1)} Redis commands a request)`)
    }
  } else if (r.store === null) out('Redis store: no redis-server on this machine, row skipped')
  out(`RSS over ${r.memory.rssMb.at(-1).requests} requests (${r.memory.route}, MB): ${r.memory.rssMb.map((x) => f(x.rssMb, 1)).join(' → ')}`)
  out()
  out('scale')
  out(`  history (Cursor → Anthropic request pipeline, in process): ${r.history.map((h) => `${h.items} items ${f(h.us / 1000, 2)} ms (${f(h.usPerItem, 1)} µs/item)`).join(', ')}`)
  out(`  rules: ${r.rules.map((x) => `${x.rules} rules load ${f(x.loadMs, 1)} ms, reload after one rule changed ${f(x.reloadMs, 1)} ms, match last ${f(x.matchUs, 2)} µs`).join('; ')}`)
  out(`  concurrent streams, ${r.concurrency.route} (20 ms a token), time to first token p50 / p99 and RSS:`)
  for (const c of r.concurrency.rows) {
    const t = (k) => `${k} ${f(c[k].ttftP50, 1)} / ${f(c[k].ttftP99, 1)} ms, ${f(c[k].rssMb, 0)} MB`
    out(`    ${String(c.streams).padStart(5)}: ${t('engine')};  ${t('hand')};  ${t('bare')}`)
  }
  out()
  out(`${f(r.seconds, 0)} s; figures in bench/results.json`)
  return lines.join('\n') + '\n'
}
