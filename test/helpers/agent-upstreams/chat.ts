// OpenAI-compatible Chat Completions (POST {base}/chat/completions, base = origin + /v1), as DeepSeek-style
// reasoning servers answer: reasoning_content deltas (which such servers want back with the tool call),
// then one tool call streamed as argument pieces; `data:` frames only, ending with `data: [DONE]`.
import { CREATED, pieces, textOf, USAGE, type Dialect, type Turn } from './dialect.js'

/** The reasoning text of the tool-call turn: Chat has no opaque token, the text itself must come back. */
const REASONING_CONTENT = 'The user wants the file; I will read it with a tool (mock chat reasoning).'

const ERRORS: Record<number, { type: string; code: string | null }> = {
  400: { type: 'invalid_request_error', code: null },
  401: { type: 'invalid_request_error', code: 'invalid_api_key' },
  404: { type: 'invalid_request_error', code: 'model_not_found' },
  429: { type: 'requests', code: 'rate_limit_exceeded' },
}

const CALL_ID = 'call_mockChatAgentUpstream1'

function message(turn: Turn) {
  if (turn.kind === 'text') return { role: 'assistant', content: turn.text, refusal: null }
  return {
    role: 'assistant', content: null, refusal: null, reasoning_content: REASONING_CONTENT,
    tool_calls: [{ id: CALL_ID, type: 'function', function: { name: turn.name, arguments: JSON.stringify(turn.args) } }],
  }
}

/** The deltas of a streamed answer, in order. */
function deltas(turn: Turn): any[] {
  if (turn.kind === 'text') return [{ role: 'assistant', content: '' }, ...pieces(turn.text, 24).slice(1).map((content) => ({ content }))]
  const args = JSON.stringify(turn.args)
  return [
    { role: 'assistant', content: null },
    ...pieces(REASONING_CONTENT, 24).slice(1).map((reasoning_content) => ({ reasoning_content })),
    { tool_calls: [{ index: 0, id: CALL_ID, type: 'function', function: { name: turn.name, arguments: '' } }] },
    ...pieces(args).slice(1).map((a) => ({ tool_calls: [{ index: 0, function: { arguments: a } }] })),
  ]
}

export const chat: Dialect = {
  api: 'chat',
  prefix: '/v1',
  opaque: REASONING_CONTENT,
  call: (method, url, body) => (method === 'POST' && url.pathname === '/v1/chat/completions' ? { stream: body?.stream === true, model: String(body?.model) } : null),
  tools: (body) => (body?.tools ?? []).map((t: any) => (t.function ? { name: t.function.name, parameters: t.function.parameters } : { name: t.custom?.name })),
  toolResult(body) {
    const results = (body?.messages ?? []).filter((m: any) => m?.role === 'tool')
    return results.length ? textOf(results.at(-1).content) : undefined
  },
  answer(turn, stream, model, _url, body) {
    const finish_reason = turn.kind === 'call' ? 'tool_calls' : 'stop'
    const usage = {
      prompt_tokens: USAGE.input, completion_tokens: USAGE.output, total_tokens: USAGE.input + USAGE.output,
      prompt_tokens_details: { cached_tokens: USAGE.cached }, completion_tokens_details: { reasoning_tokens: turn.kind === 'call' ? USAGE.reasoning : 0 },
    }
    const head = { id: 'chatcmpl-mockAgentUpstream', created: CREATED, model, system_fingerprint: null }
    if (!stream) {
      return { status: 200, json: { ...head, object: 'chat.completion', choices: [{ index: 0, message: message(turn), finish_reason, logprobs: null }], usage } }
    }
    const withUsage = body?.stream_options?.include_usage === true
    const chunk = (choices: any[], u?: unknown) => `data: ${JSON.stringify({ ...head, object: 'chat.completion.chunk', choices, ...(withUsage ? { usage: u ?? null } : {}) })}\n\n`
    const frames = deltas(turn).map((delta) => chunk([{ index: 0, delta, finish_reason: null, logprobs: null }]))
    frames.push(chunk([{ index: 0, delta: {}, finish_reason, logprobs: null }]))
    if (withUsage) frames.push(chunk([], usage))
    frames.push('data: [DONE]\n\n')
    return { status: 200, sse: frames }
  },
  error(e) {
    const known = ERRORS[e.status] ?? { type: 'server_error', code: null }
    return { status: e.status, json: { error: { message: e.message, type: known.type, param: null, code: e.code ?? known.code } } }
  },
}
