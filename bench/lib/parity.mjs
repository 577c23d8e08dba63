// Does the hand-written proxy do route-engine's work? For one request sent through each, the upstream
// request bodies (as the mock received them) and the replies are compared: JSON replies whole, streams
// frame by frame, both less the fields that differ by design (the reply id and its creation time).
import { isDeepStrictEqual } from 'node:util'
import { request } from 'undici'
import { BENCH_KEY } from './load.mjs'

const HEADERS = { 'content-type': 'application/json', authorization: `Bearer ${BENCH_KEY}` }

async function through(url, body, mockUrl) {
  const r = await request(url, { method: 'POST', body, headers: HEADERS })
  const text = await r.body.text()
  if (r.statusCode !== 200) throw new Error(`${url} answered ${r.statusCode}: ${text.slice(0, 300)}`)
  const last = await request(`${mockUrl}/_last`).then((x) => x.body.json())
  const stream = /^text\/event-stream/.test(String(r.headers['content-type']))
  const reply = stream ? frames(text) : [strip(JSON.parse(text))]
  return { upstream: JSON.parse(last.body), reply, frames: stream ? reply.length : undefined }
}

/** The `data:` of each SSE frame, parsed (the terminator kept as its text). */
const frames = (text) => text.split('\n\n').filter((f) => f.trim()).map((f) => {
  const data = f.slice(f.lastIndexOf('data: ') + 6).trim()
  return data === '[DONE]' ? data : strip(JSON.parse(data))
})
const strip = (o) => {
  const { id, created, ...rest } = o
  return rest
}

/** The first path where two JSON values differ, or undefined. */
export function firstDifference(a, b, path = '$') {
  if (isDeepStrictEqual(a, b)) return undefined
  if (a && b && typeof a === 'object' && typeof b === 'object' && Array.isArray(a) === Array.isArray(b)) {
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
      const d = firstDifference(a[k], b[k], `${path}.${k}`)
      if (d) return d
    }
  }
  return `${path}: ${JSON.stringify(a)?.slice(0, 80)} ≠ ${JSON.stringify(b)?.slice(0, 80)}`
}

/** The comparison for one request body: frames of each (streams) and the first differences, if any. */
export async function parity(handUrl, engineUrl, body, mockUrl) {
  const hand = await through(handUrl, body, mockUrl)
  const engine = await through(engineUrl, body, mockUrl)
  const request = firstDifference(hand.upstream, engine.upstream)
  const reply = firstDifference(hand.reply, engine.reply)
  return { same: !request && !reply, frames: hand.frames && { hand: hand.frames, engine: engine.frames }, request, reply }
}
