// What the bench sends and replays: the recorded transcripts of test/fixtures/streams (their text
// deltas repeated to a chosen number of tokens, framing untouched) and the Cursor request fixtures.
import { readFileSync } from 'node:fs'

const fixtures = new URL('../../test/fixtures/', import.meta.url)
const read = (path) => readFileSync(new URL(path, fixtures), 'utf8')

/** An SSE file → its events, each with its blank line, as written on the wire. */
export function sseEvents(text) {
  return text.replace(/\r\n/g, '\n').split(/\n\n+/).filter((e) => e.trim()).map((e) => e + '\n\n')
}

/** The events with the run of text-delta events repeated until there are `tokens` of them. */
function stretch(events, isDelta, tokens) {
  const first = events.findIndex(isDelta)
  let last = first
  while (last + 1 < events.length && isDelta(events[last + 1])) last++
  const deltas = events.slice(first, last + 1)
  const out = events.slice(0, first)
  for (let i = 0; i < tokens; i++) out.push(deltas[i % deltas.length])
  return out.concat(events.slice(last + 1))
}

export function loadTranscripts(tokens = 100) {
  return {
    anthropic: {
      events: stretch(sseEvents(read('streams/anthropic-messages/text.sse')), (e) => e.includes('"text_delta"'), tokens),
      body: read('streams/anthropic-messages/tool_call.response.json'),
    },
    responses: {
      events: stretch(sseEvents(read('streams/responses/text.sse')), (e) => e.startsWith('event: response.output_text.delta'), tokens),
      body: read('streams/responses/tool_call.response.json'),
    },
    chat: {
      events: stretch(sseEvents(read('streams/chat-completions/text.sse')), (e) => e.includes('"delta":{"content":'), tokens),
      body: read('streams/chat-completions/tool_call.response.json'),
    },
    raw: read('streams/chat-completions/text.response.json'),
  }
}

/** Cursor's Responses-shaped agent turn (tools, reasoning items, calls and results), for a given model. */
export function cursorRequest(model, stream) {
  return { ...JSON.parse(read('cursor/gpt5-agent-responses-full-turn.json')), model, stream }
}

/** Cursor's Chat-shaped agent turn (4 KB: system, two user turns, two tool calls and results, three tools,
 * temperature, user), less its reasoning effort: a Chat client's request, for a given model. */
export function chatRequest(model, stream) {
  const turn = JSON.parse(read('cursor/chat-dialect-legacy-2025-agent-turn.json'))
  delete turn.reasoning
  return { ...turn, model, stream }
}

/** A Cursor agent turn with `n` history items: the fixture's conversation repeated (tool calls get fresh ids). */
export function cursorHistory(n, model = 'claude-sonnet-4-6') {
  const base = cursorRequest(model, false)
  const head = base.input.filter((it) => it.role === 'system' || it.role === 'developer')
  const turn = base.input.filter((it) => !(it.role === 'system' || it.role === 'developer'))
  const input = [...head]
  for (let r = 0; input.length < n; r++) {
    for (const it of turn) {
      if (input.length >= n) break
      const copy = structuredClone(it)
      if (copy.call_id) copy.call_id = `${copy.call_id}_${r}`
      input.push(copy)
    }
  }
  return { ...base, input }
}

/** Events of one transcript as {event, data} objects (for in-process runs of a stream program). */
export function decodedEvents(events) {
  return events.map((e) => {
    const ev = {}
    for (const line of e.split('\n')) {
      if (line.startsWith('event: ')) ev.event = line.slice(7)
      else if (line.startsWith('data: ')) ev.data = line.slice(6).trimEnd()
    }
    return ev
  })
}
