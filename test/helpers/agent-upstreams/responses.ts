// OpenAI Responses (POST {base}/responses, base = origin + /v1): a reasoning item with encrypted_content,
// then a function_call; SSE with `event:` lines, sequence numbers from 0, and every item closed by
// response.output_item.done carrying the whole item (Codex builds its history only from those).
import { CREATED, pieces, REASONING, textOf, USAGE, type Dialect, type Turn } from './dialect.js'

const ENCRYPTED = 'gAAAAABmockResponsesEncryptedReasoningBlob=='

const ERRORS: Record<number, { type: string; code: string | null }> = {
  400: { type: 'invalid_request_error', code: null },
  401: { type: 'invalid_request_error', code: 'invalid_api_key' },
  403: { type: 'invalid_request_error', code: 'unsupported_country_region_territory' },
  404: { type: 'invalid_request_error', code: 'model_not_found' },
  429: { type: 'requests', code: 'rate_limit_exceeded' },
}

function items(turn: Turn): any[] {
  if (turn.kind === 'text') {
    return [{ id: 'msg_mock_text', type: 'message', status: 'completed', role: 'assistant', content: [{ type: 'output_text', text: turn.text, annotations: [], logprobs: [] }] }]
  }
  return [
    { id: 'rs_mock_call', type: 'reasoning', summary: [{ type: 'summary_text', text: REASONING }], encrypted_content: ENCRYPTED },
    { id: 'fc_mock_call', type: 'function_call', status: 'completed', call_id: 'call_mockAgentUpstream1', name: turn.name, arguments: JSON.stringify(turn.args) },
  ]
}

/** A Response object as the API prints it (every required field, sampling parameters as sent). */
function response(model: string, body: any, status: string, output: any[], usage: unknown) {
  return {
    id: 'resp_mock_agent_upstream', object: 'response', created_at: CREATED, status, background: false, error: null, incomplete_details: null,
    instructions: body?.instructions ?? null, max_output_tokens: body?.max_output_tokens ?? null, metadata: {}, model, output,
    parallel_tool_calls: body?.parallel_tool_calls ?? true, previous_response_id: null, reasoning: { effort: body?.reasoning?.effort ?? 'medium', summary: body?.reasoning?.summary ?? null },
    store: body?.store ?? true, temperature: 1, text: { format: { type: 'text' }, verbosity: body?.text?.verbosity ?? 'medium' },
    tool_choice: body?.tool_choice ?? 'auto', tools: [], top_p: 1, truncation: 'disabled', usage,
  }
}

/** The events of one output item, from added to output_item.done. */
function itemEvents(item: any, output_index: number): any[] {
  const item_id = item.id
  if (item.type === 'reasoning') {
    const text = item.summary[0].text
    const part = { type: 'summary_text', text }
    return [
      { type: 'response.output_item.added', output_index, item: { id: item_id, type: 'reasoning', summary: [] } },
      { type: 'response.reasoning_summary_part.added', item_id, output_index, summary_index: 0, part: { ...part, text: '' } },
      ...pieces(text, 24).slice(1).map((delta) => ({ type: 'response.reasoning_summary_text.delta', item_id, output_index, summary_index: 0, delta })),
      { type: 'response.reasoning_summary_text.done', item_id, output_index, summary_index: 0, text },
      { type: 'response.reasoning_summary_part.done', item_id, output_index, summary_index: 0, part },
      { type: 'response.output_item.done', output_index, item },
    ]
  }
  if (item.type === 'function_call') {
    return [
      { type: 'response.output_item.added', output_index, item: { ...item, status: 'in_progress', arguments: '' } },
      ...pieces(item.arguments).slice(1).map((delta) => ({ type: 'response.function_call_arguments.delta', item_id, output_index, delta })),
      { type: 'response.function_call_arguments.done', item_id, output_index, name: item.name, arguments: item.arguments },
      { type: 'response.output_item.done', output_index, item },
    ]
  }
  const text = item.content[0].text
  const part = { type: 'output_text', text, annotations: [], logprobs: [] }
  const at = { item_id, output_index, content_index: 0 }
  return [
    { type: 'response.output_item.added', output_index, item: { ...item, status: 'in_progress', content: [] } },
    { type: 'response.content_part.added', ...at, part: { ...part, text: '' } },
    ...pieces(text, 24).slice(1).map((delta) => ({ type: 'response.output_text.delta', ...at, delta, logprobs: [] })),
    { type: 'response.output_text.done', ...at, text, logprobs: [] },
    { type: 'response.content_part.done', ...at, part },
    { type: 'response.output_item.done', output_index, item },
  ]
}

export const responses: Dialect = {
  api: 'responses',
  prefix: '/v1',
  opaque: ENCRYPTED,
  call: (method, url, body) => (method === 'POST' && url.pathname === '/v1/responses' ? { stream: body?.stream === true, model: String(body?.model) } : null),
  tools: (body) => (body?.tools ?? []).filter((t: any) => t.type === 'function' || t.type === 'custom').map((t: any) => ({ name: t.name, parameters: t.parameters })),
  toolResult(body) {
    const outputs = (Array.isArray(body?.input) ? body.input : []).filter((i: any) => i?.type === 'function_call_output' || i?.type === 'custom_tool_call_output')
    return outputs.length ? textOf(outputs.at(-1).output) : undefined
  },
  answer(turn, stream, model, _url, body) {
    const output = items(turn)
    const usage = {
      input_tokens: USAGE.input, input_tokens_details: { cached_tokens: USAGE.cached },
      output_tokens: USAGE.output, output_tokens_details: { reasoning_tokens: turn.kind === 'call' ? USAGE.reasoning : 0 }, total_tokens: USAGE.input + USAGE.output,
    }
    if (!stream) return { status: 200, json: response(model, body, 'completed', output, usage) }
    const started = response(model, body, 'in_progress', [], null)
    const events = [
      { type: 'response.created', response: started },
      { type: 'response.in_progress', response: started },
      ...output.flatMap((item, i) => itemEvents(item, i)),
      { type: 'response.completed', response: response(model, body, 'completed', output, usage) },
    ]
    return { status: 200, sse: events.map((e, sequence_number) => `event: ${e.type}\ndata: ${JSON.stringify({ ...e, sequence_number })}\n\n`) }
  },
  error(e) {
    const known = ERRORS[e.status] ?? { type: 'server_error', code: null }
    return { status: e.status, json: { error: { message: e.message, type: known.type, param: null, code: e.code ?? known.code } } }
  },
}
