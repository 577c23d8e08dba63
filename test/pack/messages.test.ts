// The Messages routes of the agents pack (rules/40-messages.yaml), end to end through the real server
// on the shipped rules: Claude Code's captured requests against mock upstreams. Anthropic is a
// pass-through (body, betas and bytes); an OpenAI-compatible Chat server is translated both ways
// (streaming and not), with the thinking signature round trip; errors in the Messages dialect.
import t from 'tap'
import { readFileSync } from 'node:fs'
import type { ServerResponse } from 'node:http'
import { fileURLToPath } from 'node:url'
import { request } from 'undici'
import { mockUpstream, startEngine, type Engine, type Mock, type Seen } from '../helpers/server.js'
import { schema, explain } from '../helpers/schemas.js'

const root = fileURLToPath(new URL('../../', import.meta.url))
const cc = (name: string): any => JSON.parse(readFileSync(`${root}test/fixtures/agents/claude-code/${name}`, 'utf8'))
const TURN1 = cc('01-first-turn.request.json')
const TURN1_REPLY = cc('01-first-turn.reply-tool_use-thinking.sse.json')
const TURN2 = cc('02-tool-result-turn.request.json')

const KEYS = { ANTHROPIC_API_KEY: 'sk-ant-messages-test-0001', OPENAI_COMPAT_API_KEY: 'sk-compat-messages-test-0002' }

/** SSE text → [{event, data}] (data JSON-parsed). */
function frames(text: string): { event?: string; data: any }[] {
  const out: { event?: string; data: any }[] = []
  for (const block of text.split('\n\n')) {
    let event: string | undefined
    const data: string[] = []
    for (const line of block.split('\n')) {
      if (line.startsWith('event: ')) event = line.slice(7)
      else if (line.startsWith('data: ')) data.push(line.slice(6))
    }
    if (data.length) out.push({ event, data: JSON.parse(data.join('\n')) })
  }
  return out
}
const sse = (events: { event?: string; data: unknown }[]) =>
  events.map((e) => (e.event ? `event: ${e.event}\n` : '') + `data: ${typeof e.data === 'string' ? e.data : JSON.stringify(e.data)}\n\n`).join('')

let mock: Mock
let engine: Engine
let answer: (seen: Seen, res: ServerResponse) => void = (_s, res) => { res.statusCode = 500; res.end() }

t.before(async () => {
  mock = await mockUpstream((seen, res) => answer(seen, res))
  Object.assign(process.env, KEYS, {
    ANTHROPIC_BASE_URL: `${mock.url}/anthropic/v1`,
    OPENAI_COMPAT_BASE_URL: `${mock.url}/compat/v1`,
  })
  engine = await startEngine(`${root}rules`)
})
t.teardown(async () => { await engine.close(); await mock.close() })

async function post(path: string, body: unknown, headers: Record<string, string> = {}) {
  const r = await request(engine.url + path, {
    method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body),
    headers: { 'content-type': 'application/json', 'x-api-key': 'client-key', ...headers },
  })
  const text = await r.body.text()
  let json: any
  try { json = JSON.parse(text) } catch { json = undefined }
  return { status: r.statusCode, headers: r.headers, text, json }
}

const messageSchema = schema('anthropic', 'Message', 'wire')
const eventSchema = schema('anthropic', 'SSEEvent', 'wire')
const chatRequestSchema = schema('openai', 'CreateChatCompletionRequest')

t.test('claude-* on /v1/messages?beta=true: pass-through of the body, the betas and the stream bytes', async (t) => {
  const body = { ...TURN1.body, model: 'claude-sonnet-4-6' }
  const upstreamBytes = sse(TURN1_REPLY.sse)
  answer = (_s, res) => { res.setHeader('content-type', 'text/event-stream'); res.end(upstreamBytes) }
  const r = await post('/v1/messages?beta=true', body, { 'anthropic-beta': TURN1.headers['anthropic-beta'], 'anthropic-version': '2023-06-01' })
  t.equal(r.status, 200)
  t.equal(r.text, upstreamBytes, 'the stream is relayed byte for byte')
  const seen = mock.seen.at(-1)!
  t.equal(seen.url, '/anthropic/v1/messages', 'the query is not sent on')
  t.same(seen.json, body, 'the body goes up as sent')
  t.equal(seen.headers['anthropic-beta'], TURN1.headers['anthropic-beta'], 'anthropic-beta forwarded')
  t.equal(seen.headers['x-api-key'], KEYS.ANTHROPIC_API_KEY, "the client's key replaced by the upstream's")
  t.equal(seen.headers['anthropic-version'], '2023-06-01')
})

t.test('claude-* aliases apply on the Messages route; /anthropic/v1/messages is the same route', async (t) => {
  answer = (_s, res) => { res.setHeader('content-type', 'application/json'); res.end('{"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-6","content":[{"type":"text","text":"hi"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":3,"output_tokens":1}}') }
  const r = await post('/anthropic/v1/messages', { model: 'anthropic:sonnet', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] })
  t.equal(r.status, 200)
  t.equal(mock.seen.at(-1)!.json.model, 'claude-sonnet-4-6')
  t.ok(messageSchema(r.json), explain(messageSchema))
})

t.test('upstream errors in the Messages dialect: 429 + retry-after, 529, 500, context overflow', async (t) => {
  const cases: [number, any, Record<string, string>, number, string][] = [
    [429, { type: 'error', error: { type: 'rate_limit_error', message: 'slow down' } }, { 'retry-after': '7' }, 429, 'rate_limit_error'],
    [529, { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }, {}, 529, 'overloaded_error'],
    [503, { error: { code: 503, message: 'busy', status: 'UNAVAILABLE' } }, {}, 529, 'overloaded_error'],
    [500, { type: 'error', error: { type: 'api_error', message: 'boom' } }, {}, 500, 'api_error'],
    [401, { type: 'error', error: { type: 'authentication_error', message: 'bad key' } }, {}, 401, 'authentication_error'],
    [404, { type: 'error', error: { type: 'not_found_error', message: 'model: x' } }, {}, 404, 'not_found_error'],
    [400, { type: 'error', error: { type: 'invalid_request_error', message: 'prompt is too long: 250000 tokens > 200000 maximum' } }, {}, 400, 'invalid_request_error'],
  ]
  for (const [status, body, headers, want, type] of cases) {
    answer = (_s, res) => { res.writeHead(status, { 'content-type': 'application/json', ...headers }); res.end(JSON.stringify(body)) }
    const r = await post('/v1/messages', { model: 'claude-sonnet-4-6', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] })
    t.equal(r.status, want, `${status} → ${want}`)
    t.equal(r.json.type, 'error')
    t.equal(r.json.error.type, type, `${status}: ${type}`)
    t.match(r.json.error.message, /anthropic/, `${status}: the message names the upstream`)
    if (headers['retry-after']) t.equal(r.headers['retry-after'], '7', 'retry-after kept')
    if (status === 400) t.match(r.json.error.message, /^prompt is too long: 250000 tokens > 200000 maximum/, 'Claude Code can parse the overflow')
  }
})

t.test("the engine's own errors on the Messages paths are Messages errors", async (t) => {
  const none = await post('/v1/messages', { max_tokens: 10, messages: [] })
  t.same([none.status, none.json.type, none.json.error.type], [400, 'error', 'invalid_request_error'])
  t.match(none.json.error.message, /no "model"/)
  const bad = await post('/v1/messages', '{"model": ')
  t.same([bad.status, bad.json.type, bad.json.error.type], [400, 'error', 'invalid_request_error'])
  const notRouted = await post('/v1/messages', { model: 'gemini-2.5-pro', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] })
  t.same([notRouted.status, notRouted.json.error.type], [404, 'not_found_error'], 'a family not routed yet names itself as not found')
})

t.test('count_tokens: Anthropic counts claude-*, the others get an estimate', async (t) => {
  answer = (_s, res) => { res.setHeader('content-type', 'application/json'); res.end('{"input_tokens":1234}') }
  const body = { model: 'claude-sonnet-4-6', messages: [{ role: 'user', content: 'hello there' }], system: 'be brief' }
  const a = await post('/v1/messages/count_tokens', body)
  t.same([a.status, a.json], [200, { input_tokens: 1234 }])
  t.equal(mock.seen.at(-1)!.url, '/anthropic/v1/messages/count_tokens')
  const before = mock.seen.length
  const e = await post('/anthropic/v1/messages/count_tokens', { ...body, model: 'qwen3-coder' })
  t.equal(e.status, 200)
  t.equal(e.json.input_tokens, Math.ceil(JSON.stringify({ system: body.system, messages: body.messages }).length / 4), 'about 4 characters a token')
  t.equal(mock.seen.length, before, 'no upstream call for an estimate')
})

// ---------------------------------------------------------------------------------------------
// Chat (OpenAI-compatible) upstream
// ---------------------------------------------------------------------------------------------

const chunk = (delta: any, extra: any = {}) => ({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'qwen3', choices: [{ index: 0, delta, finish_reason: null }], ...extra })

t.test("Claude Code's turn → a valid Chat request: billing line, thinking, context_management, cache_control gone", async (t) => {
  answer = (_s, res) => { res.setHeader('content-type', 'application/json'); res.end(JSON.stringify({ id: 'x', object: 'chat.completion', created: 1, model: 'qwen3', choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }], usage: { prompt_tokens: 10, completion_tokens: 2, total_tokens: 12 } })) }
  const body = { ...TURN2.body, model: 'qwen3-coder', stream: false }
  const r = await post('/v1/messages?beta=true', body, { 'anthropic-beta': TURN2.headers['anthropic-beta'] })
  t.equal(r.status, 200, r.text)
  const up = mock.seen.at(-1)!
  t.equal(up.url, '/compat/v1/chat/completions')
  t.ok(chatRequestSchema(up.json), explain(chatRequestSchema))
  t.equal(up.headers.authorization, `Bearer ${KEYS.OPENAI_COMPAT_API_KEY}`)
  t.notOk(up.headers['anthropic-beta'], 'no Anthropic beta to a Chat server')
  t.notMatch(up.body, /x-anthropic-billing-header|cache_control|context_management|"thinking"|signature/, 'nothing Anthropic-only goes up')
  t.equal(up.json.messages[0].role, 'system')
  t.match(up.json.messages[0].content, /^You are a Claude agent/, 'the system prompt starts after the billing line')
  t.ok(up.json.messages.some((m: any, i: number) => i > 0 && m.role === 'system'), 'the mid-conversation system turn stays in place')
  t.equal(up.json.reasoning_effort, 'high', 'output_config.effort → reasoning_effort')
  const call = up.json.messages.find((m: any) => m.tool_calls)
  t.equal(call.tool_calls[0].id, 'toolu_01MockReadAAAAAAAAAAAAAA')
  t.notOk(call.reasoning_content?.includes('mockSignature'), 'no signature text as reasoning')
  t.ok(up.json.messages.some((m: any) => m.role === 'tool' && m.tool_call_id === 'toolu_01MockReadAAAAAAAAAAAAAA'))
  t.ok(messageSchema(r.json), explain(messageSchema))
  t.same(r.json.content, [{ type: 'text', text: 'ok' }])
  t.same([r.json.stop_reason, r.json.usage, r.json.model], ['end_turn', { input_tokens: 10, output_tokens: 2 }, 'qwen3-coder'])
})

t.test('Chat non-stream reply with reasoning and a tool call → thinking (re1:chat), tool_use with an object input', async (t) => {
  answer = (_s, res) => { res.setHeader('content-type', 'application/json'); res.end(JSON.stringify({ id: 'x', object: 'chat.completion', created: 1, model: 'qwen3', choices: [{ index: 0, message: { role: 'assistant', content: null, reasoning_content: 'I should read it.', tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'Read', arguments: '{"file_path":"/a"}' } }] }, finish_reason: 'tool_calls' }], usage: { prompt_tokens: 50, completion_tokens: 9, total_tokens: 59, prompt_tokens_details: { cached_tokens: 40 } } })) }
  const r = await post('/v1/messages', { ...TURN1.body, model: 'qwen3-coder', stream: false })
  t.equal(r.status, 200, r.text)
  t.ok(messageSchema(r.json), explain(messageSchema))
  t.same(r.json.content, [
    { type: 'thinking', thinking: 'I should read it.', signature: 're1:chat:' + Buffer.from('{}').toString('base64') },
    { type: 'tool_use', id: 'call_1', name: 'Read', input: { file_path: '/a' } },
  ])
  t.equal(r.json.stop_reason, 'tool_use')
  t.same(r.json.usage, { input_tokens: 10, output_tokens: 9, cache_read_input_tokens: 40 })
})

t.test('Chat stream → Messages SSE with event lines, indices 0,1,2, streamed tool input; the signature round trip', async (t) => {
  const upstream = [
    chunk({ role: 'assistant', reasoning_content: 'Think' }),
    chunk({ reasoning_content: 'ing.' }),
    chunk({ content: 'Reading ' }),
    chunk({ content: 'the file.' }),
    chunk({ tool_calls: [{ index: 0, id: 'call_9', type: 'function', function: { name: 'Read', arguments: '' } }] }),
    chunk({ tool_calls: [{ index: 0, function: { arguments: '{"file_pa' } }] }),
    chunk({ tool_calls: [{ index: 0, function: { arguments: 'th":"/a"}' } }] }),
    { ...chunk({}), choices: [{ index: 0, delta: {}, finish_reason: 'tool_calls' }] },
    { ...chunk({}), choices: [], usage: { prompt_tokens: 100, completion_tokens: 20, total_tokens: 120 } },
  ]
  answer = (_s, res) => { res.setHeader('content-type', 'text/event-stream'); res.end(sse([...upstream.map((data) => ({ data })), { data: '[DONE]' }])) }
  const r = await post('/v1/messages?beta=true', { ...TURN1.body, model: 'qwen3-coder' })
  t.equal(r.status, 200, r.text)
  t.match(r.headers['content-type'], /text\/event-stream/)
  const got = frames(r.text)
  for (const f of got) {
    t.equal(f.event, f.data.type, `event: ${f.data.type} names its frame`)
    t.ok(eventSchema(f.data), `${f.data.type}: ${explain(eventSchema)}`)
  }
  t.same(got.map((f) => f.data.type), [
    'message_start',
    'content_block_start', 'content_block_delta', 'content_block_delta', 'content_block_delta', 'content_block_stop',
    'content_block_start', 'content_block_delta', 'content_block_delta', 'content_block_stop',
    'content_block_start', 'content_block_delta', 'content_block_delta', 'content_block_stop',
    'message_delta', 'message_stop',
  ])
  const starts = got.filter((f) => f.data.type === 'content_block_start').map((f) => [f.data.index, f.data.content_block.type])
  t.same(starts, [[0, 'thinking'], [1, 'text'], [2, 'tool_use']])
  const sig = got.find((f) => f.data.delta?.type === 'signature_delta')!.data.delta.signature
  t.equal(sig, 're1:chat:e30=')
  t.same(got.filter((f) => f.data.delta?.type === 'input_json_delta').map((f) => f.data.delta.partial_json), ['{"file_pa', 'th":"/a"}'], 'each fragment as it came')
  const last = got.at(-2)!.data
  t.same(last, { type: 'message_delta', delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: { output_tokens: 20, input_tokens: 100 } })
  t.equal(got[0]!.data.message.model, 'qwen3-coder')

  // Turn 2: Claude Code sends the blocks back; the reasoning goes up as reasoning_content.
  answer = (_s, res) => { res.setHeader('content-type', 'text/event-stream'); res.end(sse([{ data: chunk({ content: 'done' }) }, { data: '[DONE]' }])) }
  const turn2 = {
    ...TURN1.body, model: 'qwen3-coder',
    messages: [...TURN1.body.messages,
      { role: 'assistant', content: [{ type: 'thinking', thinking: 'Thinking.', signature: sig }, { type: 'text', text: 'Reading the file.' }, { type: 'tool_use', id: 'call_9', name: 'Read', input: { file_path: '/a' } }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'call_9', content: 'hello' }] }],
  }
  const r2 = await post('/v1/messages', turn2)
  t.equal(r2.status, 200)
  const assistant = mock.seen.at(-1)!.json.messages.find((m: any) => m.role === 'assistant')
  t.same([assistant.content, assistant.reasoning_content, assistant.tool_calls[0].id], ['Reading the file.', 'Thinking.', 'call_9'])
  t.same(frames(r2.text).map((f) => f.data.type), ['message_start', 'content_block_start', 'content_block_delta', 'content_block_stop', 'message_delta', 'message_stop'])
})

t.test('a Chat stream that fails after the first frame ends with event: error in the Messages dialect', async (t) => {
  answer = (_s, res) => { res.setHeader('content-type', 'text/event-stream'); res.end(sse([{ data: chunk({ content: 'par' }) }, { data: { error: { message: 'engine crashed', code: 500 } } }])) }
  const r = await post('/v1/messages', { model: 'qwen3-coder', max_tokens: 100, stream: true, messages: [{ role: 'user', content: 'hi' }] })
  t.equal(r.status, 200)
  const got = frames(r.text)
  const err = got.at(-1)!
  t.equal(err.event, 'error')
  t.equal(err.data.type, 'error')
  t.equal(err.data.error.type, 'api_error')
  t.match(err.data.error.message, /engine crashed/)
  t.notOk(got.some((f) => f.data.type === 'message_stop'), 'no message_stop after an error')
})

t.test('a Chat upstream error before the first frame is an HTTP Messages error; context overflow is reworded', async (t) => {
  answer = (_s, res) => { res.writeHead(400, { 'content-type': 'application/json' }); res.end(JSON.stringify({ object: 'error', message: "This model's maximum context length is 32768 tokens. However, you requested 40000 tokens in the messages.", type: 'BadRequestError', code: 400 })) }
  const r = await post('/v1/messages', { model: 'qwen3-coder', max_tokens: 100, stream: true, messages: [{ role: 'user', content: 'hi' }] })
  t.equal(r.status, 400)
  t.equal(r.json.error.type, 'invalid_request_error')
  t.match(r.json.error.message, /^prompt is too long: 40000 tokens > 32768 maximum \(Upstream openai-compat returned 400/)
})
