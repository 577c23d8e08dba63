import t from 'tap'
import { readFileSync } from 'node:fs'
import { createSseDecoder, type SseEvent } from '../../engine/sse/decode.js'

function decode(bytes: Uint8Array, cuts: number[]): SseEvent[] {
  const out: SseEvent[] = []
  const d = createSseDecoder((e) => out.push(e))
  let prev = 0
  for (const c of [...cuts, bytes.length]) { d.push(bytes.subarray(prev, c)); prev = c }
  d.end()
  return out
}

const enc = (s: string) => new TextEncoder().encode(s)

t.test('every framing, split at every byte offset and at pairs of offsets', async (t) => {
  const text = '\uFEFFevent: a\r\ndata: {"x":"é"}\r\n\r\n: comment\n\ndata:no-space\ndata: 你好🎉\n\nretry: 10\nid: 7\nevent: b\rdata: cr-only\r\rdata: last-without-blank-line'
  const bytes = enc(text)
  const want = decode(bytes, [])
  t.same(want, [
    { event: 'a', data: '{"x":"é"}', id: undefined },
    { data: 'no-space\n你好🎉', id: undefined },
    { event: 'b', data: 'cr-only', id: '7' },
    { data: 'last-without-blank-line', id: '7' },
  ])
  let bad = 0
  for (let i = 1; i < bytes.length; i++) {
    if (JSON.stringify(decode(bytes, [i])) !== JSON.stringify(want)) bad++
    for (let j = i + 1; j < bytes.length; j += 5) if (JSON.stringify(decode(bytes, [i, j])) !== JSON.stringify(want)) bad++
  }
  t.equal(bad, 0, 'no split changes the events')
  t.same(decode(bytes, Array.from({ length: bytes.length - 1 }, (_, i) => i + 1)), want, 'byte at a time')
})

t.test('JSON outside SSE framing becomes one event', async (t) => {
  const sse = readFileSync(new URL('../fixtures/streams/gemini/error_midstream.sse', import.meta.url))
  const events = decode(sse, [])
  t.equal(events.length, 2)
  t.equal(events[1]!.unframed, true)
  t.same(JSON.parse(events[1]!.data), { error: { code: 503, message: 'The model is overloaded. Please try again later.', status: 'UNAVAILABLE' } })
  for (let i = 1; i < sse.length; i += 3) t.same(decode(sse, [i]), events, `split at ${i}`)
})

t.test('recorded transcripts of all four APIs decode to JSON events', async (t) => {
  for (const f of ['chat-completions/tool_call.sse', 'responses/tool_call.sse', 'anthropic-messages/custom_tool_call.sse', 'gemini/parallel_tool_calls.sse']) {
    const events = decode(readFileSync(new URL(`../fixtures/streams/${f}`, import.meta.url)), [])
    t.ok(events.length > 1, f)
    for (const e of events) if (e.data !== '[DONE]') t.doesNotThrow(() => JSON.parse(e.data), `${f}: ${e.data.slice(0, 40)}`)
  }
})
