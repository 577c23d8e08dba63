// Anthropic Messages (POST {base}/messages, base = origin + /v1): a thinking block with a signature, then
// the tool_use streamed as input_json_delta pieces; SSE with `event:` lines (Claude Code needs them).
import { pieces, REASONING, textOf, USAGE, type Dialect, type Turn } from './dialect.js'

const ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request_error', 401: 'authentication_error', 403: 'permission_error', 404: 'not_found_error',
  413: 'request_too_large', 429: 'rate_limit_error', 503: 'overloaded_error', 529: 'overloaded_error',
}

const frame = (data: { type: string; [k: string]: unknown }) => `event: ${data.type}\ndata: ${JSON.stringify(data)}\n\n`

const SIGNATURE = 'EqQBCkYIBxgCKkBmockAnthropicSignatureAAAABBBBCCCC=='

function blocks(turn: Turn): any[] {
  if (turn.kind === 'text') return [{ type: 'text', text: turn.text }]
  return [
    { type: 'thinking', thinking: REASONING, signature: SIGNATURE },
    { type: 'tool_use', id: 'toolu_01MockAgentUpstreamRead', name: turn.name, input: turn.args },
  ]
}

export const anthropic: Dialect = {
  api: 'anthropic',
  prefix: '/v1',
  opaque: SIGNATURE,
  call: (method, url, body) => (method === 'POST' && url.pathname === '/v1/messages' ? { stream: body?.stream === true, model: String(body?.model) } : null),
  tools: (body) => (body?.tools ?? []).map((t: any) => ({ name: t.name, parameters: t.input_schema })),
  toolResult(body) {
    const results = (body?.messages ?? []).flatMap((m: any) => (Array.isArray(m.content) ? m.content : [])).filter((b: any) => b?.type === 'tool_result')
    return results.length ? textOf(results.at(-1).content) : undefined
  },
  answer(turn, stream, model) {
    const content = blocks(turn)
    const stop_reason = turn.kind === 'call' ? 'tool_use' : 'end_turn'
    const usage = { input_tokens: USAGE.input - USAGE.cached, cache_creation_input_tokens: 0, cache_read_input_tokens: USAGE.cached, output_tokens: USAGE.output }
    const id = `msg_mock_${turn.kind}`
    if (!stream) return { status: 200, json: { id, type: 'message', role: 'assistant', model, content, stop_reason, stop_sequence: null, usage } }
    const frames = [
      frame({ type: 'message_start', message: { id, type: 'message', role: 'assistant', model, content: [], stop_reason: null, stop_sequence: null, usage: { ...usage, output_tokens: 1 } } }),
      frame({ type: 'ping' }),
    ]
    content.forEach((b, index) => {
      const start = b.type === 'thinking' ? { type: 'thinking', thinking: '', signature: '' } : b.type === 'text' ? { type: 'text', text: '' } : { ...b, input: {} }
      frames.push(frame({ type: 'content_block_start', index, content_block: start }))
      const deltas = b.type === 'thinking'
        ? [...pieces(b.thinking, 24).slice(1).map((thinking) => ({ type: 'thinking_delta', thinking })), { type: 'signature_delta', signature: b.signature }]
        : b.type === 'text'
          ? pieces(b.text, 24).slice(1).map((text) => ({ type: 'text_delta', text }))
          : pieces(JSON.stringify(b.input)).map((partial_json) => ({ type: 'input_json_delta', partial_json }))
      for (const delta of deltas) frames.push(frame({ type: 'content_block_delta', index, delta }))
      frames.push(frame({ type: 'content_block_stop', index }))
    })
    frames.push(frame({ type: 'message_delta', delta: { stop_reason, stop_sequence: null }, usage }), frame({ type: 'message_stop' }))
    return { status: 200, sse: frames }
  },
  error(e) {
    const headers: Record<string, string> = e.status === 429 ? { 'retry-after': '1' } : {}
    return {
      status: e.status,
      headers,
      json: { type: 'error', error: { type: ERROR_TYPES[e.status] ?? 'api_error', message: e.message }, request_id: 'req_mock_agent_upstream' },
    }
  },
}
