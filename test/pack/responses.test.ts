// The OpenAI Responses upstream of the Cursor pack: to-responses.jsonata (neutral form → request),
// responses-body.jsonata (non-streaming body → chat.completion), responses-stream.yaml (SSE → chunks).
import t from 'tap'
import { readFileSync, readdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { runTransform } from '../helpers/transform.js'
import { runStream, every } from '../helpers/stream.js'
import { schema, explain } from '../helpers/schemas.js'
import { MemoryStore } from '../../engine/store/memory.js'
import { normalize } from '../helpers/pack.js'

const root = fileURLToPath(new URL('../../', import.meta.url))
const TO = `${root}rules/transforms/to-responses.jsonata`
const BODY = `${root}rules/transforms/responses-body.jsonata`
const cursorDir = `${root}test/fixtures/cursor/`
const streamsDir = `${root}test/fixtures/streams/responses/`

const readJson = (path: string): any => JSON.parse(readFileSync(path, 'utf8'))
const cursor = (name: string): any => readJson(`${cursorDir}${name}`)
const recorded = (name: string): any => readJson(`${streamsDir}${name}`)

// ---------------------------------------------------------------------------------------------
// Neutral inputs: the shipped normalize pipeline (rules/10-normalize.yaml), run step by step the
// way the engine does (each step's `when` on the step's input, then its transform).
// ---------------------------------------------------------------------------------------------

type Json = any

/** A client body → the neutral form. */
const neutral = (request: Json): Promise<Json> => normalize(request)

/** A client body → the upstream request, as the rule runs it. */
const toResponses = async (body: Json, opts: Parameters<typeof runTransform>[2] = {}): Promise<Json> =>
  runTransform(TO, await neutral(body), { request: body, ...opts })

const cursorRequests = readdirSync(cursorDir).filter((f) => f.endsWith('.json') && !f.startsWith('expected-')).sort()

// ---------------------------------------------------------------------------------------------
// to-responses.jsonata
// ---------------------------------------------------------------------------------------------

const CHAT_ONLY = ['messages', 'stream_options', 'previous_response_id', 'stop', 'seed', 'n', 'presence_penalty',
  'frequency_penalty', 'logit_bias', 'max_tokens', 'max_completion_tokens', 'response_format', 'verbosity', 'reasoning_effort']

t.test('every Cursor fixture request becomes a valid Responses request', async (t) => {
  for (const f of cursorRequests) {
    const body = cursor(f)
    const out = await toResponses(body)
    t.same(CHAT_ONLY.filter((k) => k in out), [], `${f}: no Chat-only or refused fields`)
    t.equal(out.model, body.model, `${f}: model`)
    t.ok(Array.isArray(out.input) && out.input.length > 0, `${f}: input items`)
    const v = schema('openai', 'CreateResponse')
    t.ok(v(out), `${f}: ${explain(v)}`)
  }
})

t.test('the full Cursor agent turn, exactly', async (t) => {
  const body = cursor('gpt5-agent-responses-full-turn.json')
  const out = await toResponses(body)
  const patch = body.input[7].arguments as string
  t.same(out.input, [
    { type: 'message', role: 'system', content: body.input[0].content },
    { type: 'message', role: 'developer', content: body.input[1].content },
    { type: 'message', role: 'user', content: [
      { type: 'input_text', text: body.input[2].content[0].text },
      { type: 'input_image', image_url: body.input[2].content[1].image_url, detail: 'auto' },
    ] },
    { type: 'reasoning', id: 'rs_68a1f0c2d9e4819b', summary: body.input[3].summary, encrypted_content: 'gAAAAABo_EXAMPLE_OPAQUE_REASONING_BLOB_NOT_REAL==' },
    { type: 'message', role: 'assistant', content: "I'll look at how the server is started." },
    { type: 'function_call', call_id: 'call_Qm7Yt1nR0sXh4LkZ2vBc9aEd', name: 'ReadFile', arguments: '{"path":"src/server.ts"}' },
    { type: 'function_call_output', call_id: 'call_Qm7Yt1nR0sXh4LkZ2vBc9aEd', output: body.input[6].output },
    // the ApplyPatch history arrives in the function envelope: it goes back as a custom call with the raw patch
    { type: 'custom_tool_call', call_id: 'call_Vr3Kp8Wd2Lq6Zn1Xa5Tb7HcJ', name: 'ApplyPatch', input: patch },
    { type: 'custom_tool_call_output', call_id: 'call_Vr3Kp8Wd2Lq6Zn1Xa5Tb7HcJ', output: 'Success. Updated the following files:\nM src/server.ts' },
    { type: 'function_call', call_id: 'call_Hn4Jw9Ek3Rf7Uy2Pc6Sg8DzM', name: 'ReadLints', arguments: '{"paths":["src/server.ts"]}' },
    { type: 'function_call_output', call_id: 'call_Hn4Jw9Ek3Rf7Uy2Pc6Sg8DzM', output: 'No linter errors found.' },
    { type: 'message', role: 'user', content: [{ type: 'input_text', text: '<user_query>Great. Also add a test for it.</user_query>' }] },
  ])
  t.ok(patch.startsWith('*** Begin Patch\n'))
  t.equal(out.tools.length, 10)
  t.same(out.tools[0], { type: 'function', name: 'Shell', description: body.tools[0].description, parameters: body.tools[0].parameters, strict: false })
  // the custom tool is passed through, grammar and all
  t.same(out.tools[9], body.tools[9])
  const { input, tools, ...rest } = out
  t.same(rest, {
    model: 'gpt-5.5',
    tool_choice: 'auto',
    reasoning: { effort: 'medium', summary: 'auto' },
    include: ['reasoning.encrypted_content'],
    text: { verbosity: 'low' },
    store: false,
    truncation: 'disabled',
    prompt_cache_key: '6b0f3c1e-92d4-4a8e-b7a1-0c5d2e9f4b38',
    prompt_cache_retention: '24h',
    user: '1d4c0b6e5f7a29c3b8e1f0a2d6c94e7b',
    metadata: { cursorConversationId: '6b0f3c1e-92d4-4a8e-b7a1-0c5d2e9f4b38' },
    stream: true,
  })
})

t.test('Chat dialect: function-envelope ApplyPatch history and a format-less custom tool', async (t) => {
  const body = cursor('chat-dialect-mixed-tools-applypatch-history.json')
  const out = await toResponses(body)
  const items = out.input.filter((i: Json) => i.type !== 'message')
  t.same(items.map((i: Json) => i.type), ['function_call', 'function_call_output', 'custom_tool_call', 'custom_tool_call_output'])
  t.equal(items[2].input, body.messages[4].tool_calls[0].function.arguments, 'raw patch, never JSON')
  t.same(out.tools.at(-1), { type: 'custom', name: 'ApplyPatch', description: body.tools.at(-1).description, format: { type: 'text' } })
  t.same(out.tools[0], { type: 'function', name: 'ReadFile', description: body.tools[0].function.description, parameters: body.tools[0].function.parameters, strict: false })
  // store absent: the upstream keeps its items, nothing to add to include
  t.notOk('include' in out)
  t.notOk('prompt_cache_key' in out)
  t.notOk(out.input.some((i: Json) => i.role === 'assistant'), 'content [] writes no assistant message')
})

t.test('non-reasoning models: no reasoning fields, sampling kept; max_output_tokens floor', async (t) => {
  const legacy = cursor('chat-dialect-legacy-2025-agent-turn.json')
  const out = await toResponses(legacy)
  t.equal(out.model, 'gpt-4.1')
  t.notOk('reasoning' in out, 'gpt-4.1 rejects reasoning')
  t.equal(out.temperature, 0)
  t.same(out.input.slice(0, 3).map((i: Json) => i.role), ['system', 'user', 'user'])
  t.same(out.input[3], { type: 'message', role: 'assistant', content: "I'll read the commands module first." })
  t.equal(out.input[4].type, 'function_call')
  t.notOk(out.input.some((i: Json) => i.type === 'message' && i.role === 'assistant' && i.content === ''), 'empty assistant content dropped')

  const ping = cursor('verify-ping-key-check-2025.json')
  const p = await toResponses(ping)
  t.same(p, {
    model: 'gpt-4o',
    input: [
      { type: 'message', role: 'system', content: 'You are a test assistant.' },
      { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'Test prompt using gpt-3.5-turbo' }] },
    ],
    max_output_tokens: 16,
    stream: false,
  })

  const o = await runTransform(TO, { model: 'gpt-4.1', stream: true, messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }], store: false, include: ['reasoning.encrypted_content'], reasoning: { effort: 'low' } })
  t.notOk('include' in o, 'no encrypted_content for a non-reasoning model')
  t.notOk('reasoning' in o)
  const forced = await runTransform(TO, { model: 'my-gpt', stream: true, messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }], store: false, temperature: 0.2 }, { vars: { reasoning_model: false } })
  t.equal(forced.temperature, 0.2, '$vars.reasoning_model overrides the guess')
  t.notOk('include' in forced)
})

const base = (extra: Json = {}): Json => ({ model: 'gpt-5.5', stream: true, messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }], ...extra })

t.test('field mapping', async (t) => {
  const out = await runTransform(TO, base({
    tools: [
      { type: 'function', function: { name: 'f', parameters: { type: 'object', properties: {} }, strict: true } },
      { type: 'function', function: { name: 'g' } },
      { type: 'custom', custom: { name: 'c', format: { type: 'grammar', grammar: { syntax: 'regex', definition: '\\d+' } } } },
    ],
    tool_choice: { type: 'function', function: { name: 'f' } },
    parallel_tool_calls: false,
    reasoning: { effort: 'high', summary: 'auto' },
    max_completion_tokens: 4096,
    temperature: 0.5, top_p: 0.9, stop: ['x'], seed: 1, n: 1, presence_penalty: 0, frequency_penalty: 0,
    response_format: { type: 'json_schema', json_schema: { name: 'answer', schema: { type: 'object' }, strict: true } },
    verbosity: 'high',
    stream_options: { include_usage: true },
    user: 'u', metadata: { a: 'b', n: 1 }, store: false, service_tier: 'priority', safety_identifier: 'sid',
    prompt_cache_key: 'pck', prompt_cache_retention: 'in_memory', include: ['message.output_text.logprobs'], truncation: 'auto',
  }))
  t.same(out, {
    model: 'gpt-5.5',
    input: [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'hi' }] }],
    tools: [
      { type: 'function', name: 'f', parameters: { type: 'object', properties: {} }, strict: true },
      { type: 'function', name: 'g', parameters: { type: 'object', properties: {} }, strict: false },
      { type: 'custom', name: 'c', format: { type: 'grammar', syntax: 'regex', definition: '\\d+' } },
    ],
    tool_choice: { type: 'function', name: 'f' },
    parallel_tool_calls: false,
    reasoning: { effort: 'high', summary: 'auto' },
    include: ['message.output_text.logprobs', 'reasoning.encrypted_content'],
    text: { format: { type: 'json_schema', name: 'answer', schema: { type: 'object' }, strict: true }, verbosity: 'high' },
    max_output_tokens: 4096,
    store: false,
    truncation: 'auto',
    prompt_cache_key: 'pck',
    prompt_cache_retention: 'in_memory',
    service_tier: 'priority',
    safety_identifier: 'sid',
    user: 'u',
    metadata: { a: 'b' },
    stream: true,
  })
  const v = schema('openai', 'CreateResponse')
  t.ok(v(out), explain(v))
  const c = await runTransform(TO, base({ tools: [{ type: 'custom', custom: { name: 'c', format: { type: 'text' } } }], tool_choice: { type: 'custom', custom: { name: 'c' } } }))
  t.same(c.tool_choice, { type: 'custom', name: 'c' })
  t.same(c.tools, [{ type: 'custom', name: 'c', format: { type: 'text' } }])
  const r = await runTransform(TO, base({ reasoning: { effort: 'none' }, temperature: 0.3, response_format: { type: 'json_object' } }))
  t.equal(r.temperature, 0.3, 'sampling allowed when reasoning is off')
  t.same(r.text, { format: { type: 'json_object' } })
  const hot = await runTransform(TO, base({ reasoning: { effort: 'low' }, temperature: 0.3 }))
  t.notOk('temperature' in hot, 'reasoning models reject temperature')
  const none = await runTransform(TO, base({ tool_choice: 'auto' }))
  t.notOk('tool_choice' in none, 'no tool_choice without tools')
})

t.test('tool results with image parts, custom results, orphans', async (t) => {
  const out = await runTransform(TO, base({
    messages: [
      { role: 'user', content: [{ type: 'text', text: 'go' }] },
      { role: 'assistant', content: null, tool_calls: [
        { id: 'call_a', type: 'function', function: { name: 'shot', arguments: '{}' } },
        { id: 'call_b', type: 'custom', custom: { name: 'ApplyPatch', input: '*** Begin Patch\n*** End Patch' } },
      ] },
      { role: 'tool', tool_call_id: 'call_a', content: [{ type: 'text', text: 'see' }, { type: 'image_url', image_url: { url: 'https://x/y.png', detail: 'low' } }] },
      { role: 'tool', tool_call_id: 'call_b', content: 'ok' },
      { role: 'tool', tool_call_id: 'call_zzz', content: 'orphan' },
      { role: 'assistant', content: 'Done.' },
      { role: 'developer', content: 'Be brief.' },
    ],
    tools: [{ type: 'custom', custom: { name: 'ApplyPatch', format: { type: 'text' } } }],
  }))
  t.same(out.input.slice(1), [
    { type: 'function_call', call_id: 'call_a', name: 'shot', arguments: '{}' },
    { type: 'custom_tool_call', call_id: 'call_b', name: 'ApplyPatch', input: '*** Begin Patch\n*** End Patch' },
    { type: 'function_call_output', call_id: 'call_a', output: [{ type: 'input_text', text: 'see' }, { type: 'input_image', image_url: 'https://x/y.png', detail: 'low' }] },
    { type: 'custom_tool_call_output', call_id: 'call_b', output: 'ok' },
    { type: 'message', role: 'assistant', content: 'Done.' },
    { type: 'message', role: 'developer', content: 'Be brief.' },
  ])
})

t.test('stored reasoning is re-inserted before the calls it preceded', async (t) => {
  const store = new MemoryStore()
  const rs1 = { type: 'reasoning', id: 'rs_1', summary: [], encrypted_content: 'enc1' }
  const rs2 = { type: 'reasoning', id: 'rs_2', summary: [{ type: 'summary_text', text: 's' }], encrypted_content: 'enc2' }
  await store.set('openai:reasoning:call_1', [rs1])
  await store.set('openai:reasoning:call_3', [rs2])
  const turn = (id: string, name = 'f') => ({ id, type: 'function', function: { name, arguments: '{}' } })
  const messages = [
    { role: 'user', content: [{ type: 'text', text: 'go' }] },
    { role: 'assistant', content: 'Looking.', tool_calls: [turn('call_1'), turn('call_2'), turn('call_3')] },
    { role: 'tool', tool_call_id: 'call_1', content: 'a' },
    { role: 'tool', tool_call_id: 'call_2', content: 'b' },
    { role: 'tool', tool_call_id: 'call_3', content: 'c' },
  ]
  const out = await runTransform(TO, base({ messages, store: false }), { store })
  t.same(out.input.slice(1, 7).map((i: Json) => i.id ?? i.call_id ?? i.role), ['rs_1', 'assistant', 'call_1', 'call_2', 'rs_2', 'call_3'])
  t.same(out.input[1], rs1)
  const v = schema('openai', 'CreateResponse')
  t.ok(v(out), explain(v))
  // the turn's own reasoning items win; unusable ones (no encrypted_content with store:false) are dropped
  const own = [{ type: 'reasoning', id: 'rs_own', summary: [], encrypted_content: 'e', status: 'completed' }, { type: 'reasoning', id: 'rs_bare', summary: [] }]
  const m2 = structuredClone(messages) as Json[]
  m2[1].reasoning_items = own
  const out2 = await runTransform(TO, base({ messages: m2, store: false }), { store })
  t.same(out2.input.filter((i: Json) => i.type === 'reasoning'), [{ type: 'reasoning', id: 'rs_own', summary: [], encrypted_content: 'e' }])
  // store:true: the upstream resolves ids itself, so bare items are kept
  const out3 = await runTransform(TO, base({ messages: m2, store: true }), { store })
  t.same(out3.input.filter((i: Json) => i.type === 'reasoning').map((i: Json) => i.id), ['rs_own', 'rs_bare'])
  // a non-reasoning model never gets reasoning items
  const out4 = await runTransform(TO, base({ model: 'gpt-4.1', messages: m2, store: false }), { store })
  t.notOk(out4.input.some((i: Json) => i.type === 'reasoning'))
})

// ---------------------------------------------------------------------------------------------
// responses-body.jsonata
// ---------------------------------------------------------------------------------------------

const ctx = { id: 'resp_68a1f0c2', created: 1767225600, model: 'gpt-5.5' }
const envelope = { id: 'chatcmpl-resp_68a1f0c2', object: 'chat.completion', created: 1767225600, model: 'gpt-5.5' }

t.test('non-streaming bodies → chat.completion', async (t) => {
  const v = schema('openai', 'CreateChatCompletionResponse')
  const bodies = readdirSync(streamsDir).filter((f) => f.endsWith('.response.json') && f !== 'error.response.json')
  for (const f of bodies) {
    const out = await runTransform(BODY, recorded(f), { ctx })
    t.ok(v(out), `${f}: ${explain(v)}`)
  }

  t.same(await runTransform(BODY, recorded('tool_call.response.json'), { ctx }), {
    ...envelope,
    choices: [{
      index: 0,
      message: {
        role: 'assistant', content: '', refusal: null,
        tool_calls: [{ id: 'call_DpXRyDhXYyhQLgN6cfziouBs', type: 'function', function: { name: 'get_weather', arguments: '{"location":"Paris, France","unit":"celsius"}' } }],
      },
      logprobs: null,
      finish_reason: 'tool_calls',
    }],
    usage: { prompt_tokens: 112, completion_tokens: 88, total_tokens: 200, prompt_tokens_details: { cached_tokens: 0 }, completion_tokens_details: { reasoning_tokens: 64 } },
  })

  const custom = recorded('custom_tool_call.response.json')
  t.same(await runTransform(BODY, custom, { ctx }), {
    ...envelope,
    choices: [{
      index: 0,
      message: {
        role: 'assistant', content: '', refusal: null,
        tool_calls: [{ id: 'call_M8LmgpmdspDopbZ4nbpDMWzd', type: 'function', function: { name: 'apply_patch', arguments: custom.output[1].input } }],
      },
      logprobs: null,
      finish_reason: 'tool_calls',
    }],
    usage: { prompt_tokens: 486, completion_tokens: 203, total_tokens: 689, prompt_tokens_details: { cached_tokens: 0 }, completion_tokens_details: { reasoning_tokens: 128 } },
  })
  t.ok(custom.output[1].input.startsWith('*** Begin Patch\n'), 'raw patch text')

  // the shape Cursor is known to accept (the fixture's own values, rebuilt from an equivalent Responses body)
  const expected = cursor('expected-nonstream-completion-tool-call.json')
  const call = expected.choices[0].message.tool_calls[0]
  const synthetic = {
    id: 'resp_x', object: 'response', status: 'completed',
    output: [{ id: 'rs_x', type: 'reasoning', summary: [] }, { id: 'ctc_x', type: 'custom_tool_call', call_id: call.id, name: call.function.name, input: call.function.arguments }],
    usage: { input_tokens: 18500, input_tokens_details: { cached_tokens: 0 }, output_tokens: 140, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 18640 },
  }
  t.same(await runTransform(BODY, synthetic, { ctx }), expected)

  const text = await runTransform(BODY, recorded('text.response.json'), { ctx })
  t.same(text.choices[0].message, { role: 'assistant', content: 'The capital of France is Paris.', refusal: null })
  t.equal(text.choices[0].finish_reason, 'stop')

  const usage = await runTransform(BODY, recorded('usage.response.json'), { ctx })
  t.same(usage.usage, { prompt_tokens: 1847, completion_tokens: 140, total_tokens: 1987, prompt_tokens_details: { cached_tokens: 1536 }, completion_tokens_details: { reasoning_tokens: 128 } })

  const par = await runTransform(BODY, recorded('parallel_tool_calls.response.json'), { ctx })
  t.same(par.choices[0].message.tool_calls.map((c: Json) => [c.id, c.function.name, c.function.arguments]), [
    ['call_Z3lN1R3p0uB39vSKJMV3VrOR', 'get_weather', '{"location":"Paris, France"}'],
    ['call_sWoRtk6NndNB8sxZ402tg3qv', 'get_local_time', '{"timezone":"Asia/Tokyo"}'],
  ])
})

t.test('body: reasoning summary, mirror, finish reasons, remembered reasoning', async (t) => {
  const r = recorded('reasoning.response.json')
  const summary = r.output[0].summary[0].text
  const plain = await runTransform(BODY, r, { ctx })
  t.same(plain.choices[0].message, { role: 'assistant', content: 'No. 221 = 13 × 17, so it is not prime.', refusal: null, reasoning_content: summary })
  const mirrored = await runTransform(BODY, r, { ctx, vars: { reasoning_mirror: true } })
  t.equal(mirrored.choices[0].message.content, `<details>\n<summary>Thinking</summary>\n\n${summary}\n\n</details>\n\nNo. 221 = 13 × 17, so it is not prime.`)
  t.equal(mirrored.choices[0].message.reasoning_content, summary)

  const two = structuredClone(r)
  two.output[0].summary.push({ type: 'summary_text', text: '**Second**' })
  t.equal((await runTransform(BODY, two, { ctx })).choices[0].message.reasoning_content, `${summary}\n\n**Second**`)

  const incomplete = { ...recorded('text.response.json'), status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } }
  t.equal((await runTransform(BODY, incomplete, { ctx })).choices[0].finish_reason, 'length')
  const filtered = { ...recorded('text.response.json'), status: 'incomplete', incomplete_details: { reason: 'content_filter' } }
  t.equal((await runTransform(BODY, filtered, { ctx })).choices[0].finish_reason, 'content_filter')

  const noUsage = { ...recorded('text.response.json'), usage: null }
  const est = await runTransform(BODY, noUsage, { ctx, request: { model: 'gpt-5.5', input: 'What is the capital of France?' } })
  t.same(est.usage, { prompt_tokens: 9, completion_tokens: 8, total_tokens: 17 }, 'estimated when the upstream gives none')

  // encrypted reasoning → stored under the call that follows it; the next request replays it
  const store = new MemoryStore()
  const withCall = {
    id: 'resp_y', object: 'response', status: 'completed',
    output: [
      { id: 'rs_a', type: 'reasoning', summary: [], encrypted_content: 'ENC_A', content: [] },
      { id: 'msg_a', type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: 'Checking.', annotations: [] }] },
      { id: 'fc_1', type: 'function_call', call_id: 'call_1', name: 'f', arguments: '{}' },
      { id: 'fc_2', type: 'function_call', call_id: 'call_2', name: 'g', arguments: '{}' },
      { id: 'rs_b', type: 'reasoning', summary: [{ type: 'summary_text', text: 'hm' }], encrypted_content: 'ENC_B' },
      { id: 'ctc_3', type: 'custom_tool_call', call_id: 'call_3', name: 'ApplyPatch', input: '*** Begin Patch' },
    ],
    usage: { input_tokens: 1, output_tokens: 2, total_tokens: 3 },
  }
  const out = await runTransform(BODY, withCall, { ctx, store })
  t.equal(out.choices[0].message.content, 'Checking.')
  t.equal(out.choices[0].message.reasoning_content, 'hm')
  t.same(out.choices[0].message.tool_calls.map((c: Json) => c.id), ['call_1', 'call_2', 'call_3'])
  t.same(await store.get('openai:reasoning:call_1'), [{ type: 'reasoning', id: 'rs_a', summary: [], encrypted_content: 'ENC_A' }])
  t.equal(await store.get('openai:reasoning:call_2'), undefined)
  t.same(await store.get('openai:reasoning:call_3'), [{ type: 'reasoning', id: 'rs_b', summary: [{ type: 'summary_text', text: 'hm' }], encrypted_content: 'ENC_B' }])
  const next = await runTransform(TO, base({
    store: false,
    tools: [{ type: 'custom', custom: { name: 'ApplyPatch', format: { type: 'text' } } }],
    messages: [
      { role: 'user', content: [{ type: 'text', text: 'go' }] },
      { role: 'assistant', content: 'Checking.', tool_calls: out.choices[0].message.tool_calls.map((c: Json) => c.function.name === 'ApplyPatch'
        ? { id: c.id, type: 'custom', custom: { name: c.function.name, input: c.function.arguments } } : c) },
      { role: 'tool', tool_call_id: 'call_1', content: 'a' },
      { role: 'tool', tool_call_id: 'call_2', content: 'b' },
      { role: 'tool', tool_call_id: 'call_3', content: 'c' },
    ],
  }), { store })
  t.same(next.input.slice(1, 7).map((i: Json) => i.id ?? i.call_id ?? i.role), ['rs_a', 'assistant', 'call_1', 'call_2', 'rs_b', 'call_3'])

  // nothing stored for reasoning without encrypted_content (store absent upstream)
  const bare = new MemoryStore()
  await runTransform(BODY, recorded('tool_call.response.json'), { ctx, store: bare })
  t.equal(bare.size, 0)
})


// ---------------------------------------------------------------------------------------------
// responses-stream.yaml
// ---------------------------------------------------------------------------------------------

const PROGRAM = `${root}rules/transforms/responses-stream.yaml`
const sseOf = (name: string): string => readFileSync(`${streamsDir}${name}.sse`, 'utf8')
const cursorReq = { model: 'gpt-5.5', stream: true, stream_options: { include_usage: true } }
const chunkCtx = { id: 'resp_68a1f0c2', created: 1767225600, model: 'gpt-5.5' }
const head = { id: 'chatcmpl-resp_68a1f0c2', object: 'chat.completion.chunk', created: 1767225600, model: 'gpt-5.5' }
const delta = (d: Json, finish: string | null = null): Json => ({ ...head, choices: [{ index: 0, delta: d, finish_reason: finish }] })
const ROLE = delta({ role: 'assistant', content: '' })

/** What a client reconstructs from the frames. */
function collect(frames: Json[]) {
  const calls: Json[] = []
  let content = ''
  let reasoning = ''
  let refusal = ''
  const finish: string[] = []
  const usage: Json[] = []
  let roles = 0
  const errors: Json[] = []
  for (const f of frames) {
    if (typeof f === 'string') continue
    if (f.error) { errors.push(f.error); continue }
    if (f.usage) usage.push(f.usage)
    for (const c of f.choices ?? []) {
      const d = c.delta ?? {}
      if (d.role) roles++
      if (typeof d.content === 'string') content += d.content
      if (typeof d.reasoning_content === 'string') reasoning += d.reasoning_content
      if (typeof d.refusal === 'string') refusal += d.refusal
      for (const tc of d.tool_calls ?? []) {
        const call = (calls[tc.index] ??= { id: undefined, type: undefined, name: '', arguments: '' })
        if (tc.id) { if (call.id) throw new Error(`call ${tc.index} opened twice`); call.id = tc.id }
        if (tc.type) call.type = tc.type
        if (tc.function?.name) call.name += tc.function.name
        if (typeof tc.function?.arguments === 'string') call.arguments += tc.function.arguments
      }
      if (c.finish_reason) finish.push(c.finish_reason)
    }
  }
  return { content, reasoning, refusal, calls, finish, usage, roles, errors, done: frames.at(-1) === '[DONE]' }
}

const stream = (sse: string, opts: Parameters<typeof runStream>[2] = {}) =>
  runStream(PROGRAM, sse, { request: cursorReq, ctx: chunkCtx, ...opts })

const u = (p: number, c: number, tot: number, cached: number, r: number) =>
  ({ prompt_tokens: p, completion_tokens: c, total_tokens: tot, prompt_tokens_details: { cached_tokens: cached }, completion_tokens_details: { reasoning_tokens: r } })

const patchText = recorded('custom_tool_call.response.json').output[1].input as string
const REASONING = '**Checking divisibility**\n\n221 is not divisible by 2, 3, 5, 7 or 11, but 221 ÷ 13 = 17, so 221 = 13 × 17.'

/** scenario → what the client must reconstruct (the conversations of streams/README.md). */
const scenarios: Record<string, Json> = {
  text: { content: 'The capital of France is Paris.', reasoning: '', calls: [], finish: ['stop'], usage: [u(27, 78, 105, 0, 64)] },
  reasoning: { content: 'No. 221 = 13 × 17, so it is not prime.', reasoning: REASONING, calls: [], finish: ['stop'], usage: [u(24, 214, 238, 0, 192)] },
  tool_call: {
    content: '', reasoning: '', finish: ['tool_calls'], usage: [u(112, 88, 200, 0, 64)],
    calls: [{ id: 'call_DpXRyDhXYyhQLgN6cfziouBs', type: 'function', name: 'get_weather', arguments: '{"location":"Paris, France","unit":"celsius"}' }],
  },
  parallel_tool_calls: {
    content: '', reasoning: '', finish: ['tool_calls'], usage: [u(161, 215, 376, 0, 192)],
    calls: [
      { id: 'call_Z3lN1R3p0uB39vSKJMV3VrOR', type: 'function', name: 'get_weather', arguments: '{"location":"Paris, France"}' },
      { id: 'call_sWoRtk6NndNB8sxZ402tg3qv', type: 'function', name: 'get_local_time', arguments: '{"timezone":"Asia/Tokyo"}' },
    ],
  },
  custom_tool_call: {
    content: '', reasoning: '', finish: ['tool_calls'], usage: [u(486, 203, 689, 0, 128)],
    calls: [{ id: 'call_M8LmgpmdspDopbZ4nbpDMWzd', type: 'function', name: 'apply_patch', arguments: patchText }],
  },
  usage: { content: 'Refunds are issued within 14 days of a return.', reasoning: '', calls: [], finish: ['stop'], usage: [u(1847, 140, 1987, 1536, 128)] },
}

const reconstructed = (r: Awaited<ReturnType<typeof stream>>) => {
  const c = collect(r.frames)
  return { content: c.content, reasoning: c.reasoning, calls: c.calls, finish: c.finish, usage: c.usage }
}

t.test('every scenario: reconstructed answer, finish_reason, usage; strict chunks', async (t) => {
  const v = schema('openai', 'CreateChatCompletionStreamResponse')
  for (const [name, want] of Object.entries(scenarios)) {
    const r = await stream(sseOf(name))
    t.notOk(r.httpError, `${name}: no HTTP error`)
    t.same(reconstructed(r), want, `${name}: reconstructed`)
    const c = collect(r.frames)
    t.equal(c.roles, 1, `${name}: one role chunk`)
    t.same(r.frames[0], ROLE, `${name}: first chunk`)
    t.ok(c.done, `${name}: ends with [DONE]`)
    t.same(r.frames.at(-3).choices, [{ index: 0, delta: {}, finish_reason: want.finish[0] }], `${name}: finish chunk`)
    t.same(r.frames.at(-2), { ...head, choices: [], usage: want.usage[0] }, `${name}: usage chunk`)
    t.notOk(r.text.includes('event:') || r.text.includes('response.'), `${name}: no upstream event leaks`)
    for (const f of r.frames) if (typeof f !== 'string') t.same(Object.keys(f).slice(0, 4), ['id', 'object', 'created', 'model'])
    for (const [i, f] of r.frames.entries()) if (f !== '[DONE]') t.ok(v(f), `${name} frame ${i}: ${explain(v)}`)
  }
})

t.test('exact frames: text and tool calls', async (t) => {
  const text = await stream(sseOf('text'))
  t.same(text.frames, [
    ROLE,
    ...['The', ' capital', ' of', ' France', ' is', ' Paris', '.'].map((s) => delta({ content: s })),
    delta({}, 'stop'),
    { ...head, choices: [], usage: u(27, 78, 105, 0, 64) },
    '[DONE]',
  ])
  const call = await stream(sseOf('tool_call'))
  t.same(call.frames.slice(0, 3), [
    ROLE,
    delta({ tool_calls: [{ index: 0, id: 'call_DpXRyDhXYyhQLgN6cfziouBs', type: 'function', function: { name: 'get_weather', arguments: '' } }] }),
    delta({ tool_calls: [{ index: 0, function: { arguments: '{"' } }] }),
  ])
  // index 0 although the call is at output_index 1 (the empty reasoning item is at 0)
  t.ok(sseOf('tool_call').includes('"type":"function_call","status":"in_progress"'))
  t.ok(call.frames.slice(1, -3).every((f: Json) => f.choices[0].delta.tool_calls[0].index === 0))
})

t.test('the Cursor-accepted tool-call stream, rebuilt from Responses events', async (t) => {
  const expected = cursor('expected-stream-tool-calls-with-applypatch.json') as Json[]
  let seq = 0
  const ev = (e: Json) => `event: ${e.type}\ndata: ${JSON.stringify({ ...e, sequence_number: seq++ })}\n\n`
  const calls = expected.flatMap((f) => f.choices?.[0]?.delta?.tool_calls ?? [])
  const sse = [
    ev({ type: 'response.created', response: { id: 'resp_1', status: 'in_progress', output: [], usage: null } }),
    ev({ type: 'response.output_item.added', output_index: 0, item: { id: 'rs_1', type: 'reasoning', summary: [] } }),
    ev({ type: 'response.output_item.done', output_index: 0, item: { id: 'rs_1', type: 'reasoning', summary: [] } }),
    ev({ type: 'response.output_item.added', output_index: 1, item: { id: 'fc_1', type: 'function_call', status: 'in_progress', call_id: 'call_Ap9Lm2Xn', name: 'ReadFile', arguments: '' } }),
    ...calls.filter((c) => c.index === 0 && !c.id).map((c) => ev({ type: 'response.function_call_arguments.delta', item_id: 'fc_1', output_index: 1, delta: c.function.arguments })),
    ev({ type: 'response.function_call_arguments.done', item_id: 'fc_1', output_index: 1, arguments: '{"path":"test/server.test.ts"}' }),
    ev({ type: 'response.output_item.done', output_index: 1, item: { id: 'fc_1', type: 'function_call', status: 'completed', call_id: 'call_Ap9Lm2Xn', name: 'ReadFile', arguments: '{"path":"test/server.test.ts"}' } }),
    ev({ type: 'response.output_item.added', output_index: 2, item: { id: 'ctc_2', type: 'custom_tool_call', call_id: 'call_Bq7Kd4Yr', name: 'ApplyPatch', input: '' } }),
    ...calls.filter((c) => c.index === 1 && !c.id).map((c) => ev({ type: 'response.custom_tool_call_input.delta', item_id: 'ctc_2', output_index: 2, delta: c.function.arguments })),
    ev({ type: 'response.output_item.done', output_index: 2, item: { id: 'ctc_2', type: 'custom_tool_call', call_id: 'call_Bq7Kd4Yr', name: 'ApplyPatch', input: '…' } }),
    ev({ type: 'response.completed', response: { id: 'resp_1', status: 'completed', output: [], usage: { input_tokens: 18500, output_tokens: 140, total_tokens: 18640 } } }),
  ].join('')
  const r = await stream(sse)
  // the role goes in a chunk of its own (content ""), the rest is frame for frame what Cursor accepts
  const first = structuredClone(expected[0])
  delete first.choices[0].delta.role
  delete first.choices[0].delta.content
  t.same(r.frames, [ROLE, first, ...expected.slice(1)])
})

t.test('the Cursor-accepted reasoning stream: same text with the mirror on', async (t) => {
  const expected = cursor('expected-stream-text-with-reasoning.json') as Json[]
  const want = collect(expected)
  const opening = '<details>\n<summary>Thinking</summary>\n\n'
  const closing = '\n\n</details>\n\n'
  const body = want.content.slice(opening.length)
  const thinking = body.slice(0, body.indexOf(closing))
  const answer = body.slice(body.indexOf(closing) + closing.length)
  let seq = 0
  const ev = (e: Json) => `event: ${e.type}\ndata: ${JSON.stringify({ ...e, sequence_number: seq++ })}\n\n`
  const parts = thinking.split('\n\n')
  const sse = [
    ev({ type: 'response.created', response: { id: 'resp_1', status: 'in_progress', output: [], usage: null } }),
    ev({ type: 'response.output_item.added', output_index: 0, item: { id: 'rs_1', type: 'reasoning', summary: [] } }),
    ...parts.map((p, i) => ev({ type: 'response.reasoning_summary_text.delta', item_id: 'rs_1', output_index: 0, summary_index: i, delta: p })),
    ev({ type: 'response.output_item.added', output_index: 1, item: { id: 'msg_1', type: 'message', role: 'assistant', status: 'in_progress', content: [] } }),
    ...[answer.slice(0, 20), answer.slice(20)].map((d) => ev({ type: 'response.output_text.delta', item_id: 'msg_1', output_index: 1, content_index: 0, delta: d })),
    ev({ type: 'response.completed', response: { id: 'resp_1', status: 'completed', output: [], usage: {
      input_tokens: 18234, input_tokens_details: { cached_tokens: 17920 }, output_tokens: 212, output_tokens_details: { reasoning_tokens: 96 }, total_tokens: 18446 } } }),
  ].join('')
  const r = await stream(sse, { vars: { reasoning_mirror: true } })
  const got = collect(r.frames)
  t.equal(got.content, want.content, 'content with the <details> block, summary parts separated by a blank line')
  t.equal(got.reasoning, thinking, 'reasoning_content too')
  t.same(got.usage, want.usage)
  t.same(got.finish, ['stop'])
  t.same(r.frames[0], expected[0])
})

t.test('mirror on/off', async (t) => {
  const off = await stream(sseOf('reasoning'))
  t.notOk(collect(off.frames).content.includes('<details>'))
  t.same(off.frames[1], delta({ reasoning_content: '**Checking divisibility**\n\n' }))
  const on = await stream(sseOf('reasoning'), { vars: { reasoning_mirror: true } })
  const c = collect(on.frames)
  t.equal(c.content, `<details>\n<summary>Thinking</summary>\n\n${REASONING}\n\n</details>\n\nNo. 221 = 13 × 17, so it is not prime.`)
  t.equal(c.reasoning, REASONING)
  t.same(on.frames[1], delta({ content: '<details>\n<summary>Thinking</summary>\n\n**Checking divisibility**\n\n', reasoning_content: '**Checking divisibility**\n\n' }))
  t.same(on.frames[5], delta({ content: '\n\n</details>\n\nNo' }), 'closed with the first answer text')

  // the block is closed before a tool call too, and at the end when nothing follows
  let seq = 0
  const ev = (e: Json) => `event: ${e.type}\ndata: ${JSON.stringify({ ...e, sequence_number: seq++ })}\n\n`
  const thinkThenCall = [
    ev({ type: 'response.reasoning_summary_text.delta', item_id: 'rs_1', summary_index: 0, delta: 'Plan A.' }),
    ev({ type: 'response.reasoning_summary_text.delta', item_id: 'rs_1', summary_index: 1, delta: 'Plan B.' }),
    ev({ type: 'response.output_item.added', output_index: 1, item: { id: 'fc_1', type: 'function_call', call_id: 'call_1', name: 'f', arguments: '' } }),
    ev({ type: 'response.function_call_arguments.delta', item_id: 'fc_1', delta: '{}' }),
    ev({ type: 'response.completed', response: { status: 'completed', usage: { input_tokens: 1, output_tokens: 1, total_tokens: 2 } } }),
  ].join('')
  const tc = await stream(thinkThenCall, { vars: { reasoning_mirror: true } })
  t.same(tc.frames.slice(1, 5), [
    delta({ content: '<details>\n<summary>Thinking</summary>\n\nPlan A.', reasoning_content: 'Plan A.' }),
    delta({ content: '\n\nPlan B.', reasoning_content: '\n\nPlan B.' }),
    delta({ content: '\n\n</details>\n\n' }),
    delta({ tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'f', arguments: '' } }] }),
  ])
  t.same(collect(tc.frames).finish, ['tool_calls'])
  const onlyThinking = await stream(thinkThenCall.split('event: response.output_item.added')[0]! +
    ev({ type: 'response.completed', response: { status: 'completed', usage: { input_tokens: 1, output_tokens: 1, total_tokens: 2 } } }), { vars: { reasoning_mirror: true } })
  t.equal(collect(onlyThinking.frames).content, '<details>\n<summary>Thinking</summary>\n\nPlan A.\n\nPlan B.\n\n</details>\n\n')
})

t.test('the same output however the bytes are split', async (t) => {
  for (const name of [...Object.keys(scenarios), 'error_midstream', 'error_event']) {
    const sse = sseOf(name)
    const whole = await stream(sse, { vars: { reasoning_mirror: true } })
    for (const step of [1, 7, 13, 64, 333]) {
      if (step === 1 && name !== 'custom_tool_call' && name !== 'reasoning') continue
      const split = await stream(sse, { vars: { reasoning_mirror: true }, split: every(step, Buffer.byteLength(sse)) })
      t.same(split, whole, `${name} split every ${step} bytes`)
    }
  }
  // a multi-byte character cut in two
  const sse = sseOf('reasoning')
  const at = Buffer.from(sse).indexOf(Buffer.from('÷')) + 1
  t.same(await stream(sse, { split: [at] }), await stream(sse))
})

t.test('usage: only when asked for (or $vars.usage_always); estimated when the upstream gave none', async (t) => {
  const plain = await stream(sseOf('text'), { request: { model: 'gpt-5.5', stream: true } })
  t.same(collect(plain.frames).usage, [])
  t.same(plain.frames.at(-2).choices[0].finish_reason, 'stop')
  const always = await stream(sseOf('text'), { request: { model: 'gpt-5.5', stream: true }, vars: { usage_always: true } })
  t.same(collect(always.frames).usage, [u(27, 78, 105, 0, 64)])

  const noUsage = sseOf('text').replace(/"usage":\{"input_tokens".*?"total_tokens":105\}/, '"usage":null')
  t.ok(noUsage !== sseOf('text'))
  const request = { model: 'gpt-5.5', stream: true, input: 'What is the capital of France?', stream_options: { include_usage: true } }
  const est = await stream(noUsage, { request })
  // 31 characters of answer → 8 tokens; the request's input → 9
  t.same(collect(est.frames).usage, [{ prompt_tokens: 9, completion_tokens: 8, total_tokens: 17 }])

  const cacheWrite = sseOf('usage').replace('"cache_write_tokens":0', '"cache_write_tokens":300')
  t.same(collect((await stream(cacheWrite)).frames).usage[0].prompt_tokens_details, { cached_tokens: 1536, cache_write_tokens: 300 })
})

t.test('finish reasons of response.incomplete', async (t) => {
  const cut = (reason: string) => sseOf('text')
    .replace(/event: response\.completed\ndata: \{"type":"response\.completed"/, 'event: response.incomplete\ndata: {"type":"response.incomplete"')
    .replace(/"status":"completed","background"/g, '"status":"incomplete","background"')
    .replace(/("type":"response\.incomplete".*?"incomplete_details":)null/, `$1{"reason":"${reason}"}`)
  t.same(collect((await stream(cut('max_output_tokens'))).frames).finish, ['length'])
  t.same(collect((await stream(cut('content_filter'))).frames).finish, ['content_filter'])
})

t.test('errors', async (t) => {
  // response.failed after text: the text, the error as a last content delta (/cursor), the error frame, [DONE]
  const mid = await stream(sseOf('error_midstream'), { vars: { error_text: true } })
  t.notOk(mid.httpError)
  const c = collect(mid.frames)
  t.match(c.content, /^The capital of France\n\nUpstream .* failed during the stream: An error occurred while processing your request\./)
  t.equal(c.errors.length, 1)
  t.match(c.errors[0], { type: 'upstream_error', code: 'server_error', message: /An error occurred while processing your request.*server_error/ })
  t.same(c.finish, [])
  t.ok(c.done)
  t.equal(mid.frames.length, 1 + 4 + 1 + 1 + 1)
  // off /cursor: no text the model never said, only the error frame and [DONE]
  const v1 = await stream(sseOf('error_midstream'))
  t.equal(collect(v1.frames).content, 'The capital of France')
  t.same(v1.frames, [...mid.frames.slice(0, -3), ...mid.frames.slice(-2)])

  // a bare `error` event before any output: a real HTTP error (429), nothing written
  const early = await stream(sseOf('error_event'))
  t.same(early.frames, [])
  t.equal(early.httpError?.status, 429)
  t.match(early.httpError?.body, { error: { type: 'rate_limit_error', code: 'rate_limit_exceeded', message: /Rate limit reached for gpt-5/ } })

  // an `error` event nested the other way, mid-stream, with the mirror open: the block is closed first
  let seq = 0
  const ev = (e: Json) => `event: ${e.type}\ndata: ${JSON.stringify({ ...e, sequence_number: seq++ })}\n\n`
  const nested = await stream(ev({ type: 'response.reasoning_summary_text.delta', item_id: 'rs', summary_index: 0, delta: 'Hm.' }) +
    ev({ type: 'error', error: { code: 'invalid_prompt', message: 'Bad prompt.' } }), { vars: { reasoning_mirror: true, error_text: true } })
  const n = collect(nested.frames)
  t.match(n.content, /^<details>\n<summary>Thinking<\/summary>\n\nHm\.\n\n<\/details>\n\n\n\nUpstream .*Bad prompt\./)
  t.match(n.errors[0], { code: 'invalid_prompt', type: 'invalid_request_error' })

  // the upstream hangs up without a terminal event
  const cutOff = sseOf('text').split('event: response.output_text.done')[0]!
  const cut = collect((await stream(cutOff, { vars: { error_text: true } })).frames)
  t.equal(cut.content, 'The capital of France is Paris.\n\nUpstream test closed the stream before the response completed (route-engine rule test)')
  t.equal(cut.errors.length, 1)
  t.same(cut.finish, [])
  const nothing = await stream(sseOf('text').split('event: response.output_item.added')[0]!)
  t.equal(nothing.httpError?.status, 502)
})

t.test('stream: encrypted reasoning remembered under the call that follows it', async (t) => {
  const store = new MemoryStore()
  // reasoning.sse: encrypted reasoning, then a message and no call: nothing to key it by
  await stream(sseOf('reasoning'), { store })
  t.equal(store.size, 0)
  // the same reasoning item followed by a call
  const rsDone = sseOf('reasoning').split('\n\n').find((b) => b.includes('"type":"response.output_item.done"') && b.includes('"type":"reasoning"'))!
  const rsItem = JSON.parse(rsDone.split('data: ')[1]!).item
  let seq = 0
  const ev = (e: Json) => `event: ${e.type}\ndata: ${JSON.stringify({ ...e, sequence_number: seq++ })}\n\n`
  const sse = [
    `${rsDone}\n\n`,
    ev({ type: 'response.output_item.added', output_index: 1, item: { id: 'fc_1', type: 'function_call', call_id: 'call_1', name: 'f', arguments: '' } }),
    ev({ type: 'response.function_call_arguments.delta', item_id: 'fc_1', delta: '{}' }),
    ev({ type: 'response.output_item.added', output_index: 2, item: { id: 'fc_2', type: 'function_call', call_id: 'call_2', name: 'g', arguments: '' } }),
    ev({ type: 'response.output_item.done', output_index: 2, item: { id: 'fc_2', type: 'function_call', call_id: 'call_2', name: 'g', arguments: '{"x":1}' } }),
    ev({ type: 'response.completed', response: { status: 'completed', usage: { input_tokens: 1, output_tokens: 1, total_tokens: 2 } } }),
  ].join('')
  const r = await stream(sse, { store })
  const stored = [{ type: 'reasoning', id: rsItem.id, summary: rsItem.summary, encrypted_content: rsItem.encrypted_content }]
  t.same(await store.get('openai:reasoning:call_1'), stored)
  t.equal(await store.get('openai:reasoning:call_2'), undefined, 'parallel calls: stored once, under the first')
  t.same(collect(r.frames).calls, [
    { id: 'call_1', type: 'function', name: 'f', arguments: '{}' },
    { id: 'call_2', type: 'function', name: 'g', arguments: '{"x":1}' },
  ], 'whole arguments from output_item.done when no delta came')

  // a server that sends no text deltas: the message item's text, once
  const quiet = [
    ev({ type: 'response.output_item.added', output_index: 0, item: { id: 'msg_1', type: 'message', role: 'assistant', content: [] } }),
    ev({ type: 'response.output_item.done', output_index: 0, item: { id: 'msg_1', type: 'message', role: 'assistant', status: 'completed',
      content: [{ type: 'output_text', text: 'Hello ', annotations: [] }, { type: 'output_text', text: 'there.', annotations: [] }] } }),
    ev({ type: 'response.completed', response: { status: 'completed', usage: { input_tokens: 1, output_tokens: 1, total_tokens: 2 } } }),
  ].join('')
  const q = await stream(quiet)
  t.same(q.frames.slice(0, 3), [ROLE, delta({ content: 'Hello there.' }), delta({}, 'stop')])

  // the next turn replays it before the call
  const next = await runTransform(TO, base({
    store: false,
    messages: [
      { role: 'user', content: [{ type: 'text', text: 'go' }] },
      { role: 'assistant', content: null, tool_calls: collect(r.frames).calls.map((c: Json) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: c.arguments } })) },
      { role: 'tool', tool_call_id: 'call_1', content: 'a' },
      { role: 'tool', tool_call_id: 'call_2', content: 'b' },
    ],
  }), { store })
  t.same(next.input.slice(1, 4), [
    stored[0],
    { type: 'function_call', call_id: 'call_1', name: 'f', arguments: '{}' },
    { type: 'function_call', call_id: 'call_2', name: 'g', arguments: '{"x":1}' },
  ])
})
