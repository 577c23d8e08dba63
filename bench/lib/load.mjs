// The load generator: one keep-alive undici Agent, sequential samples for latency (targets interleaved
// so a busy machine disturbs them alike), closed-loop concurrency for requests/s, and a streaming client
// that notes when the first token arrives.
import { Agent, request } from 'undici'

const agent = new Agent({ keepAliveTimeout: 30_000, connections: 1100 })
// the inbound key route-engine and the hand-written proxy check (the others ignore it)
export const BENCH_KEY = 'bench-key'
const HEADERS = { 'content-type': 'application/json', authorization: `Bearer ${BENCH_KEY}` }
// The first text token in any of the formats the bench reads: a Chat chunk with content, an upstream
// Responses or Anthropic text delta.
const FIRST_TOKEN = /"content":"[^"]|output_text\.delta|"text_delta"/

/** One request: total time, time to first token (streams), bytes. */
export async function once(url, body) {
  const t0 = performance.now()
  const r = await request(url, { method: 'POST', body, headers: HEADERS, dispatcher: agent })
  let ttft = NaN
  let tail = ''
  let bytes = 0
  for await (const chunk of r.body) {
    bytes += chunk.length
    if (Number.isNaN(ttft)) {
      const text = tail + chunk.toString('latin1')
      if (FIRST_TOKEN.test(text)) ttft = performance.now() - t0
      else tail = text.slice(-32)
    }
  }
  if (r.statusCode !== 200) throw new Error(`${url} answered ${r.statusCode}`)
  return { ms: performance.now() - t0, ttft, bytes }
}

/** `n` sequential rounds; each round calls every target once. Returns per target the samples. */
export async function interleaved(targets, n) {
  const out = targets.map(() => ({ ms: [], ttft: [] }))
  for (let i = 0; i < n; i++) {
    for (let t = 0; t < targets.length; t++) {
      const s = await once(targets[t].url, targets[t].body)
      out[t].ms.push(s.ms)
      out[t].ttft.push(s.ttft)
    }
  }
  return out
}

/** Requests/s with `concurrency` requests always in flight, for `seconds`; and how many were done. */
export async function saturate(target, concurrency, seconds) {
  let done = 0
  const end = performance.now() + seconds * 1000
  const worker = async () => {
    while (performance.now() < end) { await once(target.url, target.body); done++ }
  }
  const t0 = performance.now()
  await Promise.all(Array.from({ length: concurrency }, worker))
  return { rps: done / ((performance.now() - t0) / 1000), done }
}

/** `total` requests, `concurrency` in flight; `every` requests, calls `onProgress(doneSoFar)`. */
export async function drive(target, total, concurrency, every, onProgress) {
  let started = 0
  let done = 0
  const worker = async () => {
    while (started < total) {
      started++
      await once(target.url, target.body)
      if (++done % every === 0) await onProgress(done)
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
}

/** `n` streams at once; per stream its time to first token and total time. */
export async function concurrentStreams(target, n) {
  return Promise.all(Array.from({ length: n }, () => once(target.url, target.body)))
}

export const pct = (xs, p) => {
  const s = xs.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]
}

export async function setMode(mockUrl, mode) {
  const r = await request(`${mockUrl}/_mode`, { method: 'POST', body: JSON.stringify(mode), dispatcher: agent })
  await r.body.dump()
}

export const closeAgent = () => agent.close()
