// The OpenAI-compatible Chat Completions upstream of the Cursor pack: to-chat.jsonata (neutral form →
// request), chat-body.jsonata (chat.completion → client chat.completion), chat-stream.yaml (SSE →
// client chunks) and the pack-wide error.jsonata.
import t, { type Test } from 'tap'
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { MemoryStore } from '../../engine/store/memory.js'
import { runErrorReply, runTransform } from '../helpers/transform.js'
import { runStream, every } from '../helpers/stream.js'
import { schema, explain } from '../helpers/schemas.js'
import { normalize } from '../helpers/pack.js'

const rulesDir = fileURLToPath(new URL('../../rules/', import.meta.url))
const fixtures = fileURLToPath(new URL('../fixtures/', import.meta.url))
const TO = `${rulesDir}transforms/to-chat.jsonata`
const BODY = `${rulesDir}transforms/chat-body.jsonata`
const STREAM = `${rulesDir}transforms/chat-stream.yaml`
const ERROR = `${rulesDir}transforms/error.jsonata`
const WRITER = `${rulesDir}transforms/errors/chat.jsonata`
const CC = `${fixtures}streams/chat-completions/`
const readJson = (path: string): any => JSON.parse(readFileSync(path, 'utf8'))
const readText = (path: string): string => readFileSync(path, 'utf8')
const cursor = (name: string): any => readJson(`${fixtures}cursor/${name}.json`)

// ---- the normalize pipeline (rules/10-normalize.yaml, another helper's), run as test/pack/normalize.test.ts does

/** Client body → normalize → to-chat, as the chat rule runs it. */
async function toChat(body: any, opts: { store?: MemoryStore; vars?: Record<string, unknown> } = {}): Promise<any> {
  return runTransform(TO, await normalize(body), { request: body, ...opts })
}

const requestFixtures = readdirSync(`${fixtures}cursor`).filter((f) => f.endsWith('.json') && !f.startsWith('expected-')).map((f) => f.replace(/\.json$/, ''))
const RESPONSES_ONLY = ['input', 'instructions', 'include', 'truncation', 'prompt_cache_retention', 'previous_response_id', 'reasoning', 'text', 'max_output_tokens', 'reasoning_items']

// ==== to-chat.jsonata

t.test('to-chat: every Cursor request fixture, normalized, is a valid and generic Chat request', async (t) => {
  t.ok(requestFixtures.length >= 10, 'fixtures found')
  const v = schema('openai', 'CreateChatCompletionRequest')
  for (const name of requestFixtures) {
    const body = cursor(name)
    const out = await toChat(body)
    t.ok(v(out), `${name}: ${explain(v)}`)
    t.equal(out.model, body.model, `${name}: model`)
    for (const k of RESPONSES_ONLY) t.notOk(k in out, `${name}: no ${k}`)
    for (const k of ['user', 'metadata', 'store', 'verbosity', 'service_tier', 'prompt_cache_key']) t.notOk(k in out, `${name}: ${k} dropped by default`)
    t.notOk(out.tools === null || (Array.isArray(out.tools) && out.tools.length === 0), `${name}: no null or empty tools`)
    for (const tool of out.tools ?? []) t.equal(tool.type, 'function', `${name}: tool ${tool.function?.name} is a nested function`)
    if (!out.tools) t.notOk('tool_choice' in out || 'parallel_tool_calls' in out, `${name}: no tool_choice without tools`)
    if (out.stream) t.same(out.stream_options, { include_usage: true }, `${name}: usage asked for`)
    for (const [i, m] of out.messages.entries()) {
      t.ok(['system', 'user', 'assistant', 'tool'].includes(m.role), `${name}: message ${i} role ${m.role}`)
      if (m.role === 'user' && Array.isArray(m.content)) {
        t.ok(m.content.some((p: any) => p.type === 'image_url'), `${name}: user ${i} is an array only when it holds an image`)
        for (const p of m.content) t.ok(['text', 'image_url'].includes(p.type), `${name}: user ${i} part ${p.type}`)
      }
      if (m.role === 'assistant') {
        t.ok(m.content === null || (typeof m.content === 'string' && m.content !== ''), `${name}: assistant ${i} content is text or null`)
        t.notOk(Array.isArray(m.tool_calls) && m.tool_calls.length === 0, `${name}: assistant ${i} has no empty tool_calls`)
        for (const c of m.tool_calls ?? []) t.equal(c.type, 'function', `${name}: assistant ${i} call ${c.id} is a function call`)
      }
      if (m.role === 'tool') t.type(m.content, 'string', `${name}: tool ${i} content is text`)
    }
  }
})

t.test('to-chat: thinking model, reasoning_content put back from the store (Cursor drops it)', async (t) => {
  const body = cursor('thinking-model-chat-history-missing-reasoning')
  const store = new MemoryStore()
  await store.set('chat:reasoning:call_00_k3Jd8sL2mQ9vX1rT5wYz', 'I should read package.json.')
  const out = await toChat(body, { store })
  t.same(out, {
    model: 'deepseek-v4-pro',
    messages: [
      { role: 'system', content: 'You are an AI coding assistant. You operate in Cursor.' },
      { role: 'user', content: "<user_query>What's in package.json scripts?</user_query>" },
      {
        role: 'assistant',
        content: null, // the echoed <details> mirror block is gone, and nothing else was said
        tool_calls: [{ id: 'call_00_k3Jd8sL2mQ9vX1rT5wYz', type: 'function', function: { name: 'read_file', arguments: '{"target_file":"package.json"}' } }],
        reasoning_content: 'I should read package.json.',
      },
      { role: 'tool', tool_call_id: 'call_00_k3Jd8sL2mQ9vX1rT5wYz', content: '{"scripts":{"test":"vitest","build":"tsc"}}' },
      { role: 'user', content: '<user_query>Add a lint script.</user_query>' },
    ],
    stream: true,
    stream_options: { include_usage: true },
    tools: [{ type: 'function', function: { name: 'read_file', description: 'Read a file.', parameters: body.tools[0].function.parameters } }],
    tool_choice: 'auto',
    reasoning_effort: 'high',
  })
  t.strictSame(Object.keys(out), ['model', 'messages', 'stream', 'stream_options', 'tools', 'tool_choice', 'reasoning_effort'])

  const cold = await toChat(body)
  t.notOk('reasoning_content' in cold.messages[2], 'nothing stored: the message goes without it')
  const kept = await toChat(body, { store, vars: { chat_extra_fields: ['user', 'include'] } })
  t.equal(kept.user, body.user, 'user kept when the operator names it')
  t.notOk('include' in kept, 'Responses-only fields cannot be opted in')
})

t.test('to-chat: a reasoning_content the client sent wins over the store', async (t) => {
  const store = new MemoryStore()
  await store.set('chat:reasoning:call_1', 'stored')
  const out = await runTransform(TO, {
    model: 'kimi-k2', stream: false,
    messages: [
      { role: 'user', content: [{ type: 'text', text: 'hi' }] },
      { role: 'assistant', content: 'Reading.', reasoning_content: 'sent', tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'f', arguments: '' } }] },
      { role: 'tool', tool_call_id: 'call_1', content: 'ok' },
      { role: 'assistant', content: 'Done.' },
    ],
  }, { store })
  t.same(out.messages[1], { role: 'assistant', content: 'Reading.', tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'f', arguments: '{}' } }], reasoning_content: 'sent' })
  t.same(out.messages[3], { role: 'assistant', content: 'Done.' }, 'a turn without tool calls gets nothing')
  t.equal(out.stream, false)
  t.notOk('stream_options' in out, 'no stream_options when not streaming')
})

t.test('to-chat: mixed tools, ApplyPatch lowered to a function, its history as {"input": …}', async (t) => {
  const body = cursor('chat-dialect-mixed-tools-applypatch-history')
  const patch = body.messages[4].tool_calls[0].function.arguments
  const out = await toChat(body)
  t.same(out, {
    model: 'gpt-5.4',
    messages: [
      { role: 'system', content: body.messages[0].content },
      { role: 'user', content: '<user_query>Rename the `cfg` variable in src/config.ts to `settings`.</user_query>' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_Lb2Mx7Qe4Ty9Pn1Ka6Wr3Hs0', type: 'function', function: { name: 'ReadFile', arguments: '{"path":"src/config.ts"}' } }] },
      { role: 'tool', tool_call_id: 'call_Lb2Mx7Qe4Ty9Pn1Ka6Wr3Hs0', content: '     1|const cfg = load();\n     2|export default cfg;\n' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_Zc8Nv1Bf5Gj2Dk7Xm4Qp9Lt6', type: 'function', function: { name: 'ApplyPatch', arguments: JSON.stringify({ input: patch }) } }] },
      { role: 'tool', tool_call_id: 'call_Zc8Nv1Bf5Gj2Dk7Xm4Qp9Lt6', content: 'Success. Updated the following files:\nM src/config.ts' },
      { role: 'user', content: '<user_query>Thanks. Now do the same in src/index.ts.</user_query>' },
    ],
    stream: true,
    stream_options: { include_usage: true },
    tools: [
      ...body.tools.slice(0, 3),
      {
        type: 'function',
        function: {
          name: 'ApplyPatch',
          description: 'Apply a V4A-format patch to files in the workspace.\n\nPass the whole raw input text in `input` (plain text, not JSON).',
          parameters: {
            type: 'object',
            properties: { input: { type: 'string', description: 'The raw input of the ApplyPatch tool.' } },
            required: ['input'],
            additionalProperties: false,
          },
        },
      },
    ],
    tool_choice: 'auto',
  })
  t.equal(JSON.parse(out.messages[4].tool_calls[0].function.arguments).input, patch, 'the patch survives byte for byte')
})

t.test('to-chat: Responses-dialect agent turn (grammar pasted, developer → system, image kept, extras dropped)', async (t) => {
  const body = cursor('gpt5-agent-responses-full-turn')
  const grammar = body.tools.find((x: any) => x.type === 'custom').format
  const out = await toChat(body)
  const patchTool = out.tools.find((x: any) => x.function.name === 'ApplyPatch')
  t.ok(patchTool.function.description.endsWith(`Input grammar (${grammar.syntax}):\n${grammar.definition}`), 'grammar in the description')
  t.same(patchTool.function.parameters.required, ['input'])
  t.same(out.messages.slice(0, 2).map((m: any) => m.role), ['system', 'system'], 'developer → system')
  const user = out.messages[2]
  t.same(user.content.map((p: any) => p.type), ['text', 'image_url'], 'an image keeps the parts form')
  const patchCall = out.messages.flatMap((m: any) => m.tool_calls ?? []).find((c: any) => c.function.name === 'ApplyPatch')
  t.same(JSON.parse(patchCall.function.arguments), { input: body.input[7].arguments })
  t.equal(out.reasoning_effort, 'medium')
  t.notOk(out.messages.some((m: any) => 'reasoning_items' in m), 'Responses reasoning items never reach a Chat server')
})

t.test('to-chat: token limit field, tool choice, tool-result images, strict', async (t) => {
  const ping = cursor('verify-ping-key-check-2025')
  t.equal((await toChat(ping)).max_tokens, 10, 'max_completion_tokens → max_tokens by default')
  t.notOk('max_completion_tokens' in (await toChat(ping)))
  const newName = await toChat(ping, { vars: { chat_max_tokens_field: 'max_completion_tokens' } })
  t.equal(newName.max_completion_tokens, 10)
  t.notOk('max_tokens' in newName)
  const both = await toChat(ping, { vars: { chat_max_tokens_field: 'both' } })
  t.same([both.max_tokens, both.max_completion_tokens], [10, 10])

  const neutral = {
    model: 'qwen3', stream: true,
    messages: [
      { role: 'user', content: [{ type: 'text', text: 'Look.' }] },
      { role: 'assistant', content: null, tool_calls: [
        { id: 'c1', type: 'function', function: { name: 'Screenshot', arguments: '{}' } },
        { id: 'c2', type: 'custom', custom: { name: 'ApplyPatch', input: '*** Begin Patch\n*** End Patch' } },
      ] },
      { role: 'tool', tool_call_id: 'c1', content: [{ type: 'text', text: 'Captured.' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA', detail: 'auto' } }] },
      { role: 'tool', tool_call_id: 'c2', content: 'Done.' },
      { role: 'assistant', content: 'Both done.' },
    ],
    tools: [
      { type: 'function', function: { name: 'Screenshot', parameters: { type: 'object', properties: {} }, strict: true } },
      { type: 'custom', custom: { name: 'ApplyPatch', format: { type: 'text' } } },
    ],
    tool_choice: { type: 'custom', custom: { name: 'ApplyPatch' } },
    parallel_tool_calls: false,
    temperature: 0.2, stop: ['END'], seed: 7,
  }
  const out = await runTransform(TO, neutral)
  t.same(out.messages.slice(2), [
    { role: 'tool', tool_call_id: 'c1', content: 'Captured.' },
    { role: 'tool', tool_call_id: 'c2', content: 'Done.' },
    { role: 'user', content: [{ type: 'text', text: 'Images returned by the tool calls above:' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA', detail: 'auto' } }] },
    { role: 'assistant', content: 'Both done.' },
  ], 'tool messages stay together; their images follow as one user message')
  t.same(out.tool_choice, { type: 'function', function: { name: 'ApplyPatch' } }, 'a custom tool choice names the lowered function')
  t.equal(out.tools[0].function.strict, true, 'strict kept when true')
  t.same([out.parallel_tool_calls, out.temperature, out.stop, out.seed], [false, 0.2, ['END'], 7])
  const v = schema('openai', 'CreateChatCompletionRequest')
  t.ok(v(out), explain(v))
})

// ==== chat-body.jsonata

const bodyCtx = { model: 'deepseek-v4-pro' }

t.test('chat-body: every chat-completions response fixture → a strict client chat.completion', async (t) => {
  const v = schema('openai', 'CreateChatCompletionResponse')
  for (const f of readdirSync(CC).filter((f) => f.endsWith('.response.json') && f !== 'error.response.json')) {
    const request = readJson(CC + f.replace('.response.', '.request.'))
    for (const vars of [{}, { reasoning_mirror: true }]) {
      const out = await runTransform(BODY, readJson(CC + f), { request, ctx: bodyCtx, vars })
      t.ok(v(out), `${f} ${JSON.stringify(vars)}: ${explain(v)}`)
      t.equal(out.id, 'chatcmpl-test0000')
      t.equal(out.model, 'deepseek-v4-pro', 'the model name the client sent')
      t.notOk('service_tier' in out)
    }
  }
})

t.test('chat-body: exact bodies', async (t) => {
  const tool = await runTransform(BODY, readJson(`${CC}tool_call.response.json`), { request: readJson(`${CC}tool_call.request.json`), ctx: bodyCtx })
  t.same(tool, {
    id: 'chatcmpl-test0000', object: 'chat.completion', created: 1767225600, model: 'deepseek-v4-pro',
    choices: [{
      index: 0,
      message: {
        role: 'assistant', content: '', refusal: null,
        tool_calls: [{ id: 'call_Zz2EyppryPkfCt0TkYEi20AQ', type: 'function', function: { name: 'get_weather', arguments: '{"location":"Paris, France","unit":"celsius"}' } }],
      },
      logprobs: null, finish_reason: 'tool_calls',
    }],
    usage: { prompt_tokens: 112, completion_tokens: 88, total_tokens: 200, prompt_tokens_details: { cached_tokens: 0 }, completion_tokens_details: { reasoning_tokens: 64 } },
  })

  const upstream = readJson(`${CC}reasoning_content.response.json`)
  const rc = upstream.choices[0].message.reasoning_content
  const plain = await runTransform(BODY, upstream, { request: readJson(`${CC}reasoning_content.request.json`), ctx: bodyCtx })
  t.same(plain.choices[0].message, { role: 'assistant', content: 'No. 221 = 13 × 17, so it is not prime.', refusal: null, reasoning_content: rc })
  t.same(plain.usage, { prompt_tokens: 24, completion_tokens: 121, total_tokens: 145, prompt_tokens_details: { cached_tokens: 0 }, completion_tokens_details: { reasoning_tokens: 104 } }, 'DeepSeek extras dropped')
  t.equal(plain.system_fingerprint, upstream.system_fingerprint, 'a real fingerprint is kept')
  const mirrored = await runTransform(BODY, upstream, { ctx: bodyCtx, vars: { reasoning_mirror: true } })
  t.equal(mirrored.choices[0].message.content, `<details>\n<summary>Thinking</summary>\n\n${rc}\n\n</details>\n\nNo. 221 = 13 × 17, so it is not prime.`)
  t.equal(mirrored.choices[0].message.reasoning_content, rc, 'reasoning_content kept next to the mirror')
})

t.test('chat-body: lowered custom call unwrapped, reasoning remembered, compat quirks', async (t) => {
  const patch = '*** Begin Patch\n*** Add File: a.txt\n+héllo "x"\n*** End Patch'
  const request = cursor('chat-dialect-mixed-tools-applypatch-history')
  const store = new MemoryStore()
  const upstream = {
    id: 'x', object: 'chat.completion', created: 1, model: 'kimi-k2-thinking',
    choices: [{
      index: 0,
      message: {
        role: 'assistant', content: null, reasoning: 'Two edits needed.', // OpenRouter's field name
        tool_calls: [
          { id: 'call_A', type: 'function', function: { name: 'ApplyPatch', arguments: JSON.stringify({ input: patch }) } },
          { id: 'call_B', type: 'function', function: { name: 'ReadFile', arguments: '{"path":"a.txt"}' } },
        ],
      },
      finish_reason: 'stop', // Ollama says stop even with calls
    }],
    system_fingerprint: null, service_tier: 'default',
  }
  const out = await runTransform(BODY, upstream, { request, ctx: { model: 'kimi' }, store })
  t.same(out.choices[0], {
    index: 0,
    message: {
      role: 'assistant', content: '', refusal: null,
      tool_calls: [
        { id: 'call_A', type: 'function', function: { name: 'ApplyPatch', arguments: patch } },
        { id: 'call_B', type: 'function', function: { name: 'ReadFile', arguments: '{"path":"a.txt"}' } },
      ],
      reasoning_content: 'Two edits needed.',
    },
    logprobs: null, finish_reason: 'tool_calls',
  })
  t.notOk('usage' in out, 'no usage invented unless asked')
  t.notOk('system_fingerprint' in out || 'service_tier' in out)
  t.equal(await store.get('chat:reasoning:call_A'), 'Two edits needed.', 'remembered under the first call id')
  const v = schema('openai', 'CreateChatCompletionResponse')
  t.ok(v(out), explain(v))

  // no finish_reason at all, no usage: inferred, and estimated when the rule wants usage always
  const bare = { choices: [{ message: { role: 'assistant', content: 'Hello there.' } }] }
  const est = await runTransform(BODY, bare, { request: { model: 'm', messages: [{ role: 'user', content: 'Say hello to me, please.' }] }, ctx: { model: 'm' }, vars: { usage_always: true } })
  t.equal(est.choices[0].finish_reason, 'stop')
  t.equal(est.choices[0].index, 0)
  t.same(Object.keys(est.usage), ['prompt_tokens', 'completion_tokens', 'total_tokens'])
  t.ok(est.usage.prompt_tokens > 0 && est.usage.completion_tokens > 0)
  t.equal(est.usage.total_tokens, est.usage.prompt_tokens + est.usage.completion_tokens)

  // Mistral: content as parts, reasoning in thinking parts
  const parts = await runTransform(BODY, { choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: [
    { type: 'thinking', thinking: [{ type: 'text', text: 'Short.' }] }, { type: 'text', text: 'Hi' }, { type: 'text', text: '!' },
  ] } }] }, { ctx: { model: 'm' } })
  t.same(parts.choices[0].message, { role: 'assistant', content: 'Hi!', refusal: null, reasoning_content: 'Short.' })

  const nulls = await runTransform(BODY, { choices: [{ index: 0, message: { role: 'assistant', content: 'x', tool_calls: null, reasoning_content: null }, finish_reason: 'stop' }] }, { ctx: { model: 'm' } })
  t.same(nulls.choices[0], { index: 0, message: { role: 'assistant', content: 'x', refusal: null }, logprobs: null, finish_reason: 'stop' }, 'null fields are nothing')

  // DeepSeek's older cache fields
  const ds = await runTransform(BODY, { ...bare, usage: { prompt_tokens: 10, completion_tokens: 2, prompt_cache_hit_tokens: 8, prompt_cache_miss_tokens: 2 } }, { ctx: { model: 'm' } })
  t.same(ds.usage, { prompt_tokens: 10, completion_tokens: 2, total_tokens: 12, prompt_tokens_details: { cached_tokens: 8 } })
})

// ==== error.jsonata (and the Chat error writer, which writes what it returns)

const errorReply = (answer: { status: number; body?: unknown; headers: Record<string, string> }, opts: Parameters<typeof runErrorReply>[3]) => runErrorReply(ERROR, WRITER, answer, opts)

const errCtx = { upstream: 'openai-compat', rule: 'cursor-chat-compat' }
const msg = (status: number, text: string) => `Upstream openai-compat returned ${status}: ${text} (route-engine rule cursor-chat-compat)`

t.test('error: the four upstream error bodies', async (t) => {
  const cases: [string, number, string, string][] = [
    ['chat-completions', 500, 'The server had an error while processing your request. Sorry about that!', 'upstream_500'],
    ['responses', 500, 'An error occurred while processing your request. You can retry your request, or contact us through our help center at help.openai.com if the error persists.', 'server_error'],
    ['anthropic-messages', 529, 'Overloaded', 'overloaded_error'],
    ['gemini', 503, 'The model is overloaded. Please try again later.', 'UNAVAILABLE'],
  ]
  for (const [api, status, text, code] of cases) {
    const out = await errorReply({ status, body: readJson(`${fixtures}streams/${api}/error.response.json`), headers: { 'content-type': 'application/json' } }, { ctx: errCtx })
    t.same(out, { status: 502, body: { error: { message: msg(status, text), type: 'upstream_error', param: null, code } } }, api)
    const v = schema('openai', 'ErrorResponse')
    t.ok(v(out.body), `${api}: ${explain(v)}`)
  }
})

t.test('error: 401/403, 429, other 4xx, odd bodies', async (t) => {
  const auth = { status: 401, body: { error: { message: 'Incorrect API key provided.', type: 'invalid_request_error', param: null, code: 'invalid_api_key' } }, headers: {} }
  const expected401 = { error: { message: msg(401, 'Incorrect API key provided.'), type: 'invalid_request_error', param: null, code: 'invalid_api_key' } }
  t.same(await errorReply(auth, { ctx: errCtx }), { status: 401, body: expected401 }, 'unchanged off /cursor')
  t.same(await errorReply(auth, { ctx: errCtx, vars: { auth_as_400: true } }), { status: 400, body: expected401 }, '401 → 400 where Cursor would hide it')
  const forbidden = await errorReply({ status: 403, body: 'Forbidden', headers: {} }, { ctx: errCtx, vars: { auth_as_400: true } })
  t.same(forbidden, { status: 400, body: { error: { message: msg(403, 'Forbidden'), type: 'invalid_request_error', param: null, code: 'upstream_403' } } })

  const limited = await errorReply({ status: 429, body: { error: { message: 'Rate limit reached.', type: 'requests', param: null, code: 'rate_limit_exceeded' } }, headers: { 'retry-after': '20' } }, { ctx: errCtx, vars: { auth_as_400: true } })
  t.same(limited, { status: 429, body: { error: { message: msg(429, 'Rate limit reached.'), type: 'rate_limit_error', param: null, code: 'rate_limit_exceeded' } }, headers: { 'retry-after': '20' } })
  const ms = await errorReply({ status: 429, body: { error: 'slow down' }, headers: { 'retry-after-ms': '1500' } }, { ctx: errCtx })
  t.same([ms.headers, ms.body.error.message, ms.body.error.code], [{ 'retry-after': '2' }, msg(429, 'slow down'), 'upstream_429'], 'Ollama shape, retry-after from ms')
  t.notOk('headers' in (await errorReply({ status: 429, body: {}, headers: {} }, { ctx: errCtx })), 'no retry-after invented')

  const ctxLen = await errorReply({ status: 400, body: { error: { message: 'maximum context length is 128000 tokens', type: 'invalid_request_error', param: 'messages', code: 'context_length_exceeded' } }, headers: {} }, { ctx: errCtx })
  t.same(ctxLen, { status: 400, body: { error: { message: msg(400, 'maximum context length is 128000 tokens'), type: 'invalid_request_error', param: 'messages', code: 'context_length_exceeded' } } })
  const vllm = await errorReply({ status: 404, body: { object: 'error', message: 'The model `x` does not exist.', type: 'NotFoundError', param: null, code: 404 }, headers: {} }, { ctx: errCtx })
  t.same([vllm.status, vllm.body.error.message, vllm.body.error.code], [404, msg(404, 'The model `x` does not exist.'), 'upstream_404'])
  const fastapi = await errorReply({ status: 422, body: { detail: [{ loc: ['body', 'foo'], msg: 'Extra inputs are not permitted' }] }, headers: {} }, { ctx: errCtx })
  t.match(fastapi.body.error.message, /Extra inputs are not permitted/)
  const openrouter = await errorReply({ status: 502, body: { error: { message: 'Provider returned error', code: 502, metadata: { raw: 'upstream timeout' } } }, headers: {} }, { ctx: errCtx })
  t.equal(openrouter.body.error.message, msg(502, 'Provider returned error — upstream timeout'))
  const html = await errorReply({ status: 504, body: '<html>' + 'x'.repeat(5000) + '</html>', headers: {} }, { ctx: errCtx })
  t.same([html.status, html.body.error.type], [502, 'upstream_error'])
  t.ok(html.body.error.message.length < 1200, 'long bodies are cut')
  const empty = await errorReply({ status: 500, headers: {} }, { ctx: errCtx })
  t.equal(empty.body.error.message, msg(500, '(no error body)'))
})

// ==== chat-stream.yaml

interface Rebuilt { content: string; reasoning: string; calls: { id?: string; name?: string; arguments: string }[]; finish: string[]; usage: any[]; roles: string[] }

/** The turn as a client SDK would accumulate it from the chunks. */
function rebuild(frames: any[]): Rebuilt {
  const r: Rebuilt = { content: '', reasoning: '', calls: [], finish: [], usage: [], roles: [] }
  for (const f of frames) {
    if (typeof f !== 'object' || !Array.isArray(f.choices)) continue
    if (f.usage) r.usage.push(f.usage)
    for (const c of f.choices) {
      const d = c.delta ?? {}
      if (d.role) r.roles.push(d.role)
      if (typeof d.content === 'string') r.content += d.content
      if (typeof d.reasoning_content === 'string') r.reasoning += d.reasoning_content
      for (const tc of d.tool_calls ?? []) {
        const call = (r.calls[tc.index] ??= { arguments: '' })
        if (tc.id) { if (call.id) throw new Error(`call ${tc.index} got a second id`); call.id = tc.id }
        if (tc.function?.name) call.name = tc.function.name
        if (typeof tc.function?.arguments === 'string') call.arguments += tc.function.arguments
      }
      if (c.finish_reason) r.finish.push(c.finish_reason)
    }
  }
  return r
}

const envelope = { id: 'chatcmpl-test0000', object: 'chat.completion.chunk', created: 1767225600, model: 'deepseek-v4-pro' }
const chunk = (delta: object, finish: string | null = null) => ({ ...envelope, choices: [{ index: 0, delta, finish_reason: finish }] })
const scenario = (name: string) => ({ sse: readText(`${CC}${name}.sse`), request: readJson(`${CC}${name}.request.json`) })
const streamOpts = (request: any, vars: Record<string, unknown> = {}, store?: MemoryStore) => ({ request, ctx: { model: 'deepseek-v4-pro' }, vars, store })
const mirrorOpen = '<details>\n<summary>Thinking</summary>\n\n'
const mirrorClose = '\n\n</details>\n\n'

/** Every frame but [DONE] is a strict chunk (or, after a failure, an error body); the envelope is ours. */
function checkFrames(t: Test, frames: any[], label: string): void {
  t.equal(frames.at(-1), '[DONE]', `${label}: ends with [DONE]`)
  t.equal(frames.filter((f) => f === '[DONE]').length, 1, `${label}: one [DONE]`)
  t.same(frames[0]?.choices?.[0]?.delta, { role: 'assistant', content: '' }, `${label}: role chunk first`)
  t.equal(frames.filter((f) => f?.choices?.[0]?.finish_reason).length <= 1, true, `${label}: at most one finish chunk`)
  for (const f of frames.slice(0, -1)) {
    if ('error' in f) continue
    t.same({ id: f.id, object: f.object, created: f.created, model: f.model }, envelope, `${label}: envelope`)
    t.notOk('obfuscation' in f || 'system_fingerprint' in f || 'service_tier' in f, `${label}: no upstream-only fields`)
  }
  const v = schema('openai', 'CreateChatCompletionStreamResponse')
  const ve = schema('openai', 'ErrorResponse')
  for (const [i, f] of frames.slice(0, -1).entries()) {
    if ('error' in f) t.ok(ve(f), `${label}: error frame ${i}: ${explain(ve)}`)
    else t.ok(v(f), `${label}: frame ${i}: ${explain(v)}`)
  }
}

const expectedTurns: Record<string, { content: string; calls?: Rebuilt['calls']; finish: string; usage?: any }> = {
  text: { content: 'The capital of France is Paris.', finish: 'stop' },
  reasoning: {
    content: 'No. 221 = 13 × 17, so it is not prime.', finish: 'stop',
    usage: { prompt_tokens: 24, completion_tokens: 214, total_tokens: 238, prompt_tokens_details: { cached_tokens: 0 }, completion_tokens_details: { reasoning_tokens: 192 } },
  },
  reasoning_content: {
    content: 'No. 221 = 13 × 17, so it is not prime.', finish: 'stop',
    usage: { prompt_tokens: 24, completion_tokens: 121, total_tokens: 145, prompt_tokens_details: { cached_tokens: 0 }, completion_tokens_details: { reasoning_tokens: 104 } },
  },
  tool_call: { content: '', finish: 'tool_calls', calls: [{ id: 'call_Zz2EyppryPkfCt0TkYEi20AQ', name: 'get_weather', arguments: '{"location":"Paris, France","unit":"celsius"}' }] },
  parallel_tool_calls: {
    content: '', finish: 'tool_calls',
    calls: [
      { id: 'call_K6767blYuTn0omH9jiHXPbVv', name: 'get_weather', arguments: '{"location":"Paris, France"}' },
      { id: 'call_EPY3Hg42OjKys4VCTUwk31Ef', name: 'get_local_time', arguments: '{"timezone":"Asia/Tokyo"}' },
    ],
  },
  usage: {
    content: 'Refunds are issued within 14 days of a return.', finish: 'stop',
    usage: { prompt_tokens: 1847, completion_tokens: 140, total_tokens: 1987, prompt_tokens_details: { cached_tokens: 1536 }, completion_tokens_details: { reasoning_tokens: 128 } },
  },
}

t.test('chat-stream: every fixture scenario, whole and split every 7 bytes', async (t) => {
  for (const [name, want] of Object.entries(expectedTurns)) {
    const { sse, request } = scenario(name)
    const whole = await runStream(STREAM, sse, streamOpts(request))
    checkFrames(t, whole.frames, name)
    const turn = rebuild(whole.frames)
    t.equal(turn.content, want.content, `${name}: content`)
    t.same(turn.calls, want.calls ?? [], `${name}: tool calls`)
    t.same(turn.finish, [want.finish], `${name}: finish_reason`)
    t.same(turn.roles, ['assistant'], `${name}: one role`)
    // usage only when the client asked for it (include_usage) — then with the upstream's numbers
    t.same(turn.usage, want.usage ? [want.usage] : [], `${name}: usage`)
    if (want.usage) t.same(whole.frames.at(-2), { ...envelope, choices: [], usage: want.usage }, `${name}: usage chunk right before [DONE]`)
    t.same(whole.frames.at(want.usage ? -3 : -2), chunk({}, want.finish), `${name}: the finish chunk has an empty delta`)
    const split = await runStream(STREAM, sse, { ...streamOpts(request), split: every(7, Buffer.byteLength(sse)) })
    t.same(split.frames, whole.frames, `${name}: same frames when split every 7 bytes`)
  }
})

t.test('chat-stream: reasoning_content, mirror off and on, byte by byte', async (t) => {
  const { sse, request } = scenario('reasoning_content')
  const rc = readJson(`${CC}reasoning_content.response.json`).choices[0].message.reasoning_content
  const off = await runStream(STREAM, sse, streamOpts(request))
  t.equal(rebuild(off.frames).reasoning, rc, 'reasoning_content streamed')
  t.equal(rebuild(off.frames).content, 'No. 221 = 13 × 17, so it is not prime.', 'content untouched without the mirror')
  t.same(off.frames[1], chunk({ reasoning_content: 'The user asks whether 221 is prime.' }))

  const on = await runStream(STREAM, sse, streamOpts(request, { reasoning_mirror: true }))
  checkFrames(t, on.frames, 'mirror')
  const turn = rebuild(on.frames)
  t.equal(turn.content, `${mirrorOpen}${rc}${mirrorClose}No. 221 = 13 × 17, so it is not prime.`, 'mirrored and closed before the answer')
  t.equal(turn.reasoning, rc, 'reasoning_content still streamed next to the mirror')
  t.same(on.frames[1], chunk({ content: `${mirrorOpen}The user asks whether 221 is prime.`, reasoning_content: 'The user asks whether 221 is prime.' }))
  t.same(on.frames[8], chunk({ content: `${mirrorClose}No` }), 'closed in the first answer chunk')

  const bytes = Buffer.byteLength(sse)
  const byByte = await runStream(STREAM, sse, { ...streamOpts(request, { reasoning_mirror: true }), split: every(1, bytes) })
  t.same(byByte.frames, on.frames, 'same frames byte by byte (× is split inside its UTF-8 bytes)')
})

t.test('chat-stream: usage when the client did not ask', async (t) => {
  const { sse, request } = scenario('text')
  const none = await runStream(STREAM, sse, streamOpts(request))
  t.same(rebuild(none.frames).usage, [], 'not asked, not sent')
  const always = await runStream(STREAM, sse, streamOpts(request, { usage_always: true }))
  checkFrames(t, always.frames, 'usage_always')
  const u = rebuild(always.frames).usage
  t.equal(u.length, 1)
  t.same(Object.keys(u[0]), ['prompt_tokens', 'completion_tokens', 'total_tokens'], 'estimated: no details invented')
  t.equal(u[0].completion_tokens, Math.ceil('The capital of France is Paris.'.length / 4))
  t.equal(u[0].prompt_tokens, Math.ceil(JSON.stringify(request.messages).length / 4))
  t.equal(u[0].total_tokens, u[0].prompt_tokens + u[0].completion_tokens)

  // the reasoning scenario asked for usage and got it: the upstream's numbers, not an estimate
  const r = scenario('reasoning')
  const asked = await runStream(STREAM, r.sse, streamOpts(r.request, { usage_always: true }))
  t.same(rebuild(asked.frames).usage, [expectedTurns.reasoning!.usage])
})

t.test('chat-stream: in-band errors', async (t) => {
  const { sse, request } = scenario('error_midstream')
  const mid = await runStream(STREAM, sse, streamOpts(request, { usage_always: true, error_text: true }))
  checkFrames(t, mid.frames, 'error_midstream')
  const text = 'Upstream test failed during the stream: The server had an error while processing your request. Sorry about that! (route-engine rule test)'
  t.equal(rebuild(mid.frames).content, `The capital of France${'\n\n'}${text}`, 'the error text reaches the user as content (error_text: /cursor)')
  t.same(mid.frames.at(-2), { error: { message: text, type: 'upstream_error', param: null, code: 'RE_UPSTREAM_STREAM' } })
  t.same(rebuild(mid.frames).finish, [], 'no finish chunk after a failure')
  t.same(rebuild(mid.frames).usage, [], 'no usage chunk after a failure')
  const v1 = await runStream(STREAM, sse, streamOpts(request, { usage_always: true }))
  checkFrames(t, v1.frames, 'error_midstream on /v1')
  t.equal(rebuild(v1.frames).content, 'The capital of France', 'off /cursor no text the model never said')
  t.same(v1.frames.slice(-2), [{ error: { message: text, type: 'upstream_error', param: null, code: 'RE_UPSTREAM_STREAM' } }, '[DONE]'], 'only the error frame, then [DONE]')
  t.same(v1.frames.slice(0, -2), mid.frames.slice(0, -3), 'the frames before the failure are the same')

  const errorLine = sse.split('\n\n').find((e) => e.startsWith('data: {"error"'))!
  const first = await runStream(STREAM, `${errorLine}\n\n`, streamOpts(request))
  t.same(first.frames, [], 'nothing written')
  t.equal(first.httpError?.status, 502, 'an HTTP error instead')
  t.match((first.httpError?.body as any).error.message, /failed during the stream: The server had an error/)

  const limited = await runStream(STREAM, 'data: {"error":{"message":"Rate limit exceeded: free-models-per-min","code":429}}\n\n', streamOpts(request))
  t.same([limited.httpError?.status, (limited.httpError?.body as any).error.type], [429, 'rate_limit_error'], 'OpenRouter numeric code')
  const vllm = await runStream(STREAM, 'data: {"object":"error","message":"prompt too long","type":"BadRequestError","param":null,"code":400}\n\n', streamOpts(request))
  t.equal(vllm.httpError?.status, 400, "vLLM's older error object")

  const mirrored = await runStream(STREAM, readText(`${CC}reasoning_content.sse`).split('\n\n').slice(0, 3).join('\n\n') + '\n\n' + errorLine + '\n\n', streamOpts(request, { reasoning_mirror: true, error_text: true }))
  t.ok(rebuild(mirrored.frames).content.endsWith(`${mirrorClose}\n\n${text}`), 'an open mirror block is closed before the error text')
})

// Synthetic upstream transcripts for what compat servers do differently (wire-formats.md §6.2).
const sseOf = (chunks: object[], done = true): string =>
  chunks.map((c) => `data: ${JSON.stringify({ id: 'up-1', object: 'chat.completion.chunk', created: 1, model: 'up', ...c })}\n\n`).join('') + (done ? 'data: [DONE]\n\n' : '')
const up = (delta: object, finish: string | null = null, extra: object = {}) => ({ choices: [{ index: 0, delta, finish_reason: finish }], ...extra })
const PATCH = '*** Begin Patch\n*** Update File: src/greet.ts\n@@\n-  return "Hello, " + name;\n+  return `Héllo, ${name} 🎉\\\\`;\n*** End Patch\n'
const patchRequest = () => cursor('chat-dialect-mixed-tools-applypatch-history')

t.test('chat-stream: a lowered custom tool streams the raw patch, however the JSON is cut', async (t) => {
  // the JSON text of {"input": PATCH} with non-ASCII escaped, cut into 3-character fragments:
  // cuts fall inside \n, \" and \uXXXX (and between the two halves of the emoji's surrogate pair)
  const json = JSON.stringify({ input: PATCH }).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
  const pieces = json.match(/[\s\S]{1,3}/g)!
  const sse = sseOf([
    up({ role: 'assistant', content: '' }),
    up({ content: 'Patching.' }),
    up({ tool_calls: [{ index: 0, id: 'call_P', type: 'function', function: { name: 'ApplyPatch', arguments: '' } }] }),
    ...pieces.map((p) => up({ tool_calls: [{ index: 0, function: { arguments: p } }] })),
    up({ tool_calls: [{ index: 1, id: 'call_R', type: 'function', function: { name: 'ReadFile', arguments: '{"path":"src/greet.ts"}' } }] }),
    up({}, 'tool_calls'),
  ])
  const out = await runStream(STREAM, sse, streamOpts(patchRequest()))
  checkFrames(t, out.frames, 'custom')
  const turn = rebuild(out.frames)
  t.same(turn.calls, [
    { id: 'call_P', name: 'ApplyPatch', arguments: PATCH },
    { id: 'call_R', name: 'ReadFile', arguments: '{"path":"src/greet.ts"}' },
  ], 'raw patch text as arguments, the function call untouched')
  t.equal(turn.content, 'Patching.')
  t.same(out.frames[2], chunk({ tool_calls: [{ index: 0, id: 'call_P', type: 'function', function: { name: 'ApplyPatch', arguments: '' } }] }), 'header chunk')
  const fragments = out.frames.filter((f) => f?.choices?.[0]?.delta?.tool_calls?.[0]?.index === 0 && !f.choices[0].delta.tool_calls[0].id)
  t.ok(fragments.length > 20, 'streamed incrementally')
  t.notOk(fragments.some((f) => f.choices[0].delta.tool_calls[0].function.arguments === ''), 'no empty fragments')
  t.same(turn.finish, ['tool_calls'])
  const split = await runStream(STREAM, sse, { ...streamOpts(patchRequest()), split: every(5, Buffer.byteLength(sse)) })
  t.same(split.frames, out.frames, 'same frames when the bytes are split every 5')

  // the model ignored the schema and wrote the patch itself: passed through as it came
  const raw = sseOf([up({ tool_calls: [{ index: 0, id: 'call_Q', type: 'function', function: { name: 'ApplyPatch', arguments: PATCH.slice(0, 20) } }] }), up({ tool_calls: [{ index: 0, function: { arguments: PATCH.slice(20) } }] })])
  t.same(rebuild((await runStream(STREAM, raw, streamOpts(patchRequest()))).frames).calls, [{ id: 'call_Q', name: 'ApplyPatch', arguments: PATCH }])
  // other keys before `input`, odd spacing: decoded all the same (re-read as a whole)
  const slow = sseOf(['{"note": "x",', ' "input" : "*** Begin', ' Patch\\n', '*** End Patch"}'].map((a, i) =>
    up({ tool_calls: [{ index: 0, ...(i === 0 ? { id: 'call_T', type: 'function', function: { name: 'ApplyPatch', arguments: a } } : { function: { arguments: a } }) }] })))
  t.same(rebuild((await runStream(STREAM, slow, streamOpts(patchRequest()))).frames).calls, [{ id: 'call_T', name: 'ApplyPatch', arguments: '*** Begin Patch\n*** End Patch' }])
  // JSON without an `input` string: flushed as it came at the end
  const other = sseOf([up({ tool_calls: [{ index: 0, id: 'call_S', type: 'function', function: { name: 'ApplyPatch', arguments: '{"patch": "x"}' } }] })])
  t.same(rebuild((await runStream(STREAM, other, streamOpts(patchRequest()))).frames).calls, [{ id: 'call_S', name: 'ApplyPatch', arguments: '{"patch": "x"}' }])
})

t.test('chat-stream: compat quirks (repeated ids, whole arguments, no index, no finish, late usage)', async (t) => {
  const request = { model: 'qwen3', messages: [{ role: 'user', content: 'weather and time?' }], stream: true, stream_options: { include_usage: true } }
  const store = new MemoryStore()
  const sse = sseOf([
    up({ role: 'assistant', reasoning: 'Need two tools.' }), // `reasoning`, as OpenRouter / newer vLLM
    // vLLM-style: id, type and name repeated on every chunk of a call
    up({ tool_calls: [{ index: 0, id: 'call_W', type: 'function', function: { name: 'get_weather', arguments: '{"location":' } }] }),
    up({ tool_calls: [{ index: 0, id: 'call_W', type: 'function', function: { name: 'get_weather', arguments: '"Paris"}' } }] }),
    // Ollama-style: two whole calls in one chunk, the same index for both, then one without index or id
    up({ tool_calls: [
      { index: 0, id: 'call_T', type: 'function', function: { name: 'get_local_time', arguments: '{"timezone":"Asia/Tokyo"}' } },
      { index: 0, id: 'call_U', type: 'function', function: { name: 'get_local_time', arguments: '{"timezone":"UTC"}' } },
    ] }),
    up({ tool_calls: [{ function: { name: 'noop', arguments: '{}' } }] }),
    // no finish_reason anywhere; usage in the last chunk that still has choices
    up({}, null, { usage: { prompt_tokens: 50, completion_tokens: 20, total_tokens: 70, prompt_tokens_details: null } }),
  ], false) // and no [DONE]: the connection just closes
  const out = await runStream(STREAM, sse, streamOpts(request, { reasoning_mirror: true }, store))
  checkFrames(t, out.frames, 'quirks')
  const turn = rebuild(out.frames)
  t.equal(turn.calls.length, 4)
  t.same(turn.calls.slice(0, 3), [
    { id: 'call_W', name: 'get_weather', arguments: '{"location":"Paris"}' },
    { id: 'call_T', name: 'get_local_time', arguments: '{"timezone":"Asia/Tokyo"}' },
    { id: 'call_U', name: 'get_local_time', arguments: '{"timezone":"UTC"}' },
  ], 'each call once, by ordinal; the repeated id does not open a new call')
  t.match(turn.calls[3], { name: 'noop', arguments: '{}' })
  t.match(turn.calls[3]!.id, /^call_/, 'an id is synthesized when the upstream sent none')
  t.equal(turn.content, `${mirrorOpen}Need two tools.${mirrorClose}`, 'the mirror is closed before the first tool call')
  t.equal(turn.reasoning, 'Need two tools.')
  t.same(turn.finish, ['tool_calls'], 'finish inferred at the end of the stream')
  t.same(turn.usage, [{ prompt_tokens: 50, completion_tokens: 20, total_tokens: 70 }], 'usage from the last chunk, null details dropped')
  t.equal(await store.get('chat:reasoning:call_W'), 'Need two tools.', 'reasoning remembered under the first call id')

  // the next turn sends it back
  const next = await runTransform(TO, {
    model: 'qwen3', stream: true,
    messages: [
      { role: 'user', content: [{ type: 'text', text: 'weather and time?' }] },
      { role: 'assistant', content: null, tool_calls: turn.calls.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: c.arguments } })) },
      ...turn.calls.map((c) => ({ role: 'tool', tool_call_id: c.id, content: 'ok' })),
    ],
  }, { store })
  t.equal(next.messages[1].reasoning_content, 'Need two tools.', 'stream → store → to-chat round trip')
})

t.test('chat-stream: finish reasons, refusals, an empty stream', async (t) => {
  const request = { model: 'm', messages: [{ role: 'user', content: 'x' }], stream: true }
  const length = await runStream(STREAM, sseOf([up({ content: 'cut' }, 'length'), up({}, 'length')]), streamOpts(request))
  checkFrames(t, length.frames, 'length')
  t.same(rebuild(length.frames).finish, ['length'], 'one finish chunk even when the upstream repeats it')
  const odd = await runStream(STREAM, sseOf([up({ content: 'x' }, 'eos')]), streamOpts(request))
  t.same(rebuild(odd.frames).finish, ['stop'], 'unknown reasons become stop')
  const stopWithCalls = await runStream(STREAM, sseOf([up({ tool_calls: [{ index: 0, id: 'c', type: 'function', function: { name: 'f', arguments: '{}' } }] }, 'stop')]), streamOpts(request))
  t.same(rebuild(stopWithCalls.frames).finish, ['tool_calls'], 'stop with calls → tool_calls')
  const refusal = await runStream(STREAM, sseOf([up({ refusal: 'I cannot help with that.' }, 'content_filter')]), streamOpts(request))
  checkFrames(t, refusal.frames, 'refusal')
  t.same(refusal.frames[1], chunk({ refusal: 'I cannot help with that.' }))
  t.same(rebuild(refusal.frames).finish, ['content_filter'])
  const empty = await runStream(STREAM, 'data: [DONE]\n\n', streamOpts(request, { usage_always: true }))
  checkFrames(t, empty.frames, 'empty')
  t.same(empty.frames.slice(0, 2), [chunk({ role: 'assistant', content: '' }), chunk({}, 'stop')])
  t.equal(empty.frames[2].usage.completion_tokens, 0)
  const nulls = await runStream(STREAM, sseOf([
    up({ role: 'assistant', content: null, tool_calls: null }),
    up({ content: 'a', tool_calls: [] }),
    up({ content: null, tool_calls: null, reasoning_content: null }, 'stop'),
  ]), streamOpts(request))
  t.same(nulls.frames.slice(0, 3), [chunk({ role: 'assistant', content: '' }), chunk({ content: 'a' }), chunk({}, 'stop')], 'null and empty fields are nothing')
  const mistral = await runStream(STREAM, sseOf([
    up({ role: 'assistant', content: [{ type: 'thinking', thinking: [{ type: 'text', text: 'Hmm.' }] }] }),
    up({ content: [{ type: 'text', text: 'Yes' }] }, 'stop'),
  ]), streamOpts(request))
  t.same(mistral.frames.slice(1, 3), [chunk({ reasoning_content: 'Hmm.' }), chunk({ content: 'Yes' })], 'part-list deltas (Mistral)')
  const noise = await runStream(STREAM, 'event: ping\ndata: {}\n\ndata: keep-alive\n\n' + sseOf([up({ content: 'hi' }, 'stop')]), streamOpts(request))
  t.equal(rebuild(noise.frames).content, 'hi', 'other events never reach the client')
  t.equal(noise.frames.length, 4)
})

t.test('chat-stream and chat-body agree on the same turn', async (t) => {
  for (const name of ['tool_call', 'parallel_tool_calls', 'reasoning_content', 'usage']) {
    const { sse, request } = scenario(name)
    const turn = rebuild((await runStream(STREAM, sse, streamOpts(request))).frames)
    const body = await runTransform(BODY, readJson(`${CC}${name}.response.json`), { request, ctx: bodyCtx })
    const m = body.choices[0].message
    t.equal(turn.content, m.content, `${name}: content`)
    t.same(turn.calls, (m.tool_calls ?? []).map((c: any) => ({ id: c.id, name: c.function.name, arguments: c.function.arguments })), `${name}: calls`)
    t.equal(turn.reasoning, m.reasoning_content ?? '', `${name}: reasoning`)
    t.same(turn.finish, [body.choices[0].finish_reason], `${name}: finish`)
  }
})

t.test('fixtures exist where this test expects them', async (t) => {
  t.ok(existsSync(`${rulesDir}10-normalize.yaml`))
  t.ok(readdirSync(CC).filter((f) => f.endsWith('.sse')).length === 7)
})
