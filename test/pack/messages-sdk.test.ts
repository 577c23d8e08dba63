// @anthropic-ai/sdk against the gateway's Messages routes on the shipped rules, with mock upstreams:
// messages.create and messages.stream (tools, thinking) on the families routed today — Anthropic
// (pass-through) and an OpenAI-compatible Chat server. The SDK parses every frame and assembles the
// final Message: what it gets is what any Messages client gets.
import t from 'tap'
import { fileURLToPath } from 'node:url'
import Anthropic from '@anthropic-ai/sdk'
import { mockUpstream, startEngine, type Engine, type Mock } from '../helpers/server.js'

const root = fileURLToPath(new URL('../../', import.meta.url))

const sse = (events: unknown[]) => events.map((e) => {
  const type = typeof e === 'object' && e && 'type' in e ? (e as { type: string }).type : undefined
  return (type ? `event: ${type}\n` : '') + `data: ${typeof e === 'string' ? e : JSON.stringify(e)}\n\n`
}).join('')

// Anthropic's own answers (as the API sends them).
const ANTHROPIC_BODY = { id: 'msg_a1', type: 'message', role: 'assistant', model: 'claude-sonnet-4-6', content: [{ type: 'text', text: 'Paris.' }], stop_reason: 'end_turn', stop_sequence: null, usage: { input_tokens: 12, output_tokens: 2 } }
const ANTHROPIC_STREAM = sse([
  { type: 'message_start', message: { id: 'msg_a2', type: 'message', role: 'assistant', model: 'claude-sonnet-4-6', content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 30, output_tokens: 1 } } },
  { type: 'content_block_start', index: 0, content_block: { type: 'thinking', thinking: '', signature: '' } },
  { type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: 'Need the weather.' } },
  { type: 'content_block_delta', index: 0, delta: { type: 'signature_delta', signature: 'EqNativeSig==' } },
  { type: 'content_block_stop', index: 0 },
  { type: 'content_block_start', index: 1, content_block: { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: {} } },
  { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '{"city":' } },
  { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '"Paris"}' } },
  { type: 'content_block_stop', index: 1 },
  { type: 'message_delta', delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: { output_tokens: 15 } },
  { type: 'message_stop' },
])

// An OpenAI-compatible server's answers.
const chunk = (delta: unknown, finish: string | null = null) => ({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta, finish_reason: finish }] })
const CHAT_BODY = { id: 'c', object: 'chat.completion', created: 1, model: 'm', choices: [{ index: 0, message: { role: 'assistant', content: 'Paris.' }, finish_reason: 'stop' }], usage: { prompt_tokens: 12, completion_tokens: 2, total_tokens: 14 } }
const CHAT_STREAM = sse([
  chunk({ role: 'assistant', reasoning_content: 'Need the weather.' }),
  chunk({ tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":' } }] }),
  chunk({ tool_calls: [{ index: 0, function: { arguments: '"Paris"}' } }] }),
  chunk({}, 'tool_calls'),
  { id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [], usage: { prompt_tokens: 30, completion_tokens: 15, total_tokens: 45 } },
  '[DONE]',
])

const FAMILIES = [
  { family: 'anthropic', model: 'claude-sonnet-4-6', prefix: '/anthropic', body: ANTHROPIC_BODY, stream: ANTHROPIC_STREAM, signature: /^EqNativeSig==$/ },
  { family: 'openai-compat', model: 'qwen3-coder', prefix: '/compat', body: CHAT_BODY, stream: CHAT_STREAM, signature: /^re1:chat:/ },
]

let mock: Mock
let engine: Engine

t.before(async () => {
  mock = await mockUpstream((seen, res) => {
    const f = FAMILIES.find((x) => seen.url.startsWith(x.prefix))!
    if (seen.json?.stream) { res.setHeader('content-type', 'text/event-stream'); res.end(f.stream) }
    else { res.setHeader('content-type', 'application/json'); res.end(JSON.stringify(f.body)) }
  })
  Object.assign(process.env, {
    ANTHROPIC_BASE_URL: `${mock.url}/anthropic/v1`, ANTHROPIC_API_KEY: 'sk-ant-sdk-test',
    OPENAI_COMPAT_BASE_URL: `${mock.url}/compat/v1`, OPENAI_COMPAT_API_KEY: 'sk-compat-sdk-test',
  })
  engine = await startEngine(`${root}rules`)
})
t.teardown(async () => { await engine.close(); await mock.close() })

const tools = [{ name: 'get_weather', description: 'Weather of a city', input_schema: { type: 'object' as const, properties: { city: { type: 'string' } }, required: ['city'] } }]

for (const f of FAMILIES) {
  t.test(`${f.family}: messages.create and messages.stream with tools and thinking`, async (t) => {
    const client = new Anthropic({ apiKey: 'client-key', baseURL: engine.url, maxRetries: 0 })
    const msg = await client.messages.create({ model: f.model, max_tokens: 100, messages: [{ role: 'user', content: 'Capital of France?' }] })
    t.equal(msg.type, 'message')
    t.equal(msg.model, f.model, 'the name the client sent')
    t.same(msg.content, [{ type: 'text', text: 'Paris.' }])
    t.equal(msg.stop_reason, 'end_turn')
    t.same([msg.usage.input_tokens, msg.usage.output_tokens], [12, 2])

    const stream = client.messages.stream({
      model: f.model, max_tokens: 16000, tools,
      thinking: { type: 'enabled', budget_tokens: 4096 },
      messages: [{ role: 'user', content: 'Weather in Paris?' }],
    })
    const thinking: string[] = []
    stream.on('thinking', (d) => thinking.push(d))
    const final = await stream.finalMessage()
    t.same(final.content.map((b) => b.type), ['thinking', 'tool_use'])
    const think = final.content[0] as Anthropic.ThinkingBlock
    t.equal(think.thinking, 'Need the weather.')
    t.equal(thinking.join(''), 'Need the weather.', 'thinking streamed as deltas')
    t.match(think.signature, f.signature)
    const use = final.content[1] as Anthropic.ToolUseBlock
    t.same([use.name, use.input], ['get_weather', { city: 'Paris' }], 'the tool input assembled into an object')
    t.equal(final.stop_reason, 'tool_use')
    t.equal(final.usage.output_tokens, 15)

    // The next turn, as the SDK user builds it: the assistant blocks back, and the tool result.
    const next = client.messages.stream({
      model: f.model, max_tokens: 16000, tools, thinking: { type: 'enabled', budget_tokens: 4096 },
      messages: [
        { role: 'user', content: 'Weather in Paris?' },
        { role: 'assistant', content: final.content },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: 'sunny' }] },
      ],
    })
    await next.finalMessage()
    const up = mock.seen.at(-1)!.json
    if (f.family === 'anthropic') t.same(up.messages[1].content[0], { type: 'thinking', thinking: 'Need the weather.', signature: 'EqNativeSig==' }, 'the native signature passes through')
    else t.same([up.messages[1].reasoning_content, up.messages[2]], ['Need the weather.', { role: 'tool', tool_call_id: 'call_1', content: 'sunny' }], 'the reasoning restored for the Chat server')
  })
}

t.test('SDK errors: a Messages error body is an APIError with its type and status', async (t) => {
  const client = new Anthropic({ apiKey: 'client-key', baseURL: engine.url, maxRetries: 0 })
  const err = await client.messages.create({ model: 'gemini-2.5-pro', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }).catch((e) => e)
  t.ok(err instanceof Anthropic.NotFoundError, 'a NotFoundError')
  t.equal(err.status, 404)
  t.equal(err.error?.error?.type, 'not_found_error')
})
