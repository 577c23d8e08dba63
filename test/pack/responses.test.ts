// The OpenAI Responses upstream of the Cursor pack: to-responses.jsonata (neutral form → request),
// responses-body.jsonata (non-streaming body → chat.completion), responses-stream.yaml (SSE → chunks).
import t from 'tap'
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { runTransform } from '../helpers/transform.js'
import { schema, explain, SPECS_MISSING } from '../helpers/schemas.js'
import { MemoryStore } from '../../engine/store/memory.js'

const root = fileURLToPath(new URL('../../', import.meta.url))
const TO = `${root}rules/transforms/to-responses.jsonata`
const BODY = `${root}rules/transforms/responses-body.jsonata`
const cursorDir = `${root}test/fixtures/cursor/`
const streamsDir = `${root}test/fixtures/streams/responses/`

const readJson = (path: string): any => JSON.parse(readFileSync(path, 'utf8'))
const cursor = (name: string): any => readJson(`${cursorDir}${name}`)
const recorded = (name: string): any => readJson(`${streamsDir}${name}`)

// ---------------------------------------------------------------------------------------------
// Neutral inputs. The normalize pipeline (rules/10-normalize.yaml) belongs to another helper; until
// it exists, this test builds the neutral form from the fixtures itself, following
// rules/transforms/README.md to the letter (a small reference normalizer, not the shipped one).
// ---------------------------------------------------------------------------------------------

type Json = any

function textOf(content: Json): string {
  if (typeof content === 'string') return content
  if (!Array.isArray(content)) return ''
  return content.filter((p) => typeof p?.text === 'string').map((p) => p.text).join('\n\n')
}

function userParts(content: Json): Json[] {
  if (typeof content === 'string') return [{ type: 'text', text: content }]
  const out: Json[] = []
  for (const p of content ?? []) {
    if (typeof p === 'string') out.push({ type: 'text', text: p })
    else if (['text', 'input_text', 'output_text'].includes(p.type)) out.push({ type: 'text', text: p.text })
    else if (p.type === 'input_image') out.push({ type: 'image_url', image_url: { url: p.image_url ?? p.url, detail: p.detail ?? 'auto' } })
    else if (p.type === 'image_url') out.push({ type: 'image_url', image_url: typeof p.image_url === 'string' ? { url: p.image_url } : p.image_url })
  }
  return out
}

function neutralTools(tools: Json): Json[] | undefined {
  if (!Array.isArray(tools) || tools.length === 0) return undefined
  return tools.map((t) => {
    if (t.type === 'custom') {
      const c = t.custom ?? t
      const f = c.format ?? {}
      const g = f.grammar ?? f
      return {
        type: 'custom',
        custom: {
          name: c.name, description: c.description,
          format: f.type === 'grammar' && g.syntax && g.definition ? { type: 'grammar', grammar: { syntax: g.syntax, definition: g.definition } } : { type: 'text' },
        },
      }
    }
    if (t.function) return { type: 'function', function: t.function }
    if (t.input_schema) return { type: 'function', function: { name: t.name, description: t.description, parameters: t.input_schema } }
    return { type: 'function', function: { name: t.name, description: t.description, parameters: t.parameters, strict: t.strict } }
  })
}

/** Responses-, Chat- or Anthropic-flavoured Cursor body → the neutral form. */
function neutral(body: Json): Json {
  const tools = neutralTools(body.tools)
  const custom = new Set((tools ?? []).filter((t) => t.type === 'custom').map((t) => t.custom.name))
  const call = (id: string, name: string, args: Json): Json => custom.has(name)
    ? { id, type: 'custom', custom: { name, input: typeof args === 'string' ? args : args?.input ?? '' } }
    : { id, type: 'function', function: { name, arguments: typeof args === 'string' ? args : JSON.stringify(args) } }
  const messages: Json[] = []
  let pendingReasoning: Json[] = []
  const assistant = (): Json => {
    const last = messages[messages.length - 1]
    if (last?.role === 'assistant') return last
    const m: Json = { role: 'assistant', content: null }
    if (pendingReasoning.length) { m.reasoning_items = pendingReasoning; pendingReasoning = [] }
    messages.push(m)
    return m
  }
  const addCall = (c: Json) => { const a = assistant(); (a.tool_calls ??= []).push(c) }
  const addText = (text: string) => {
    if (!text) return
    const a = assistant()
    a.content = a.content ? `${a.content}\n\n${text}` : text
  }
  const items: Json[] = body.input !== undefined && !(Array.isArray(body.messages) && body.messages.length)
    ? (typeof body.input === 'string' ? [{ role: 'user', content: body.input }] : body.input)
    : body.messages ?? []
  if (body.instructions) messages.push({ role: 'system', content: body.instructions })
  for (const it of items) {
    if (it.type === 'reasoning') { pendingReasoning.push(it); continue }
    if (it.type === 'function_call') { addCall(call(it.call_id, it.name, it.arguments)); continue }
    if (it.type === 'custom_tool_call') { addCall({ id: it.call_id, type: 'custom', custom: { name: it.name, input: it.input } }); continue }
    if (it.type === 'function_call_output' || it.type === 'custom_tool_call_output') {
      messages.push({ role: 'tool', tool_call_id: it.call_id, content: typeof it.output === 'string' ? it.output : textOf(it.output) })
      continue
    }
    if (it.role === 'system' || it.role === 'developer') { messages.push({ role: it.role, content: textOf(it.content) }); continue }
    if (it.role === 'tool') { messages.push({ role: 'tool', tool_call_id: it.tool_call_id, content: typeof it.content === 'string' ? it.content : textOf(it.content) }); continue }
    if (it.role === 'assistant') {
      const blocks = typeof it.content === 'string' ? [{ type: 'text', text: it.content }] : it.content ?? []
      assistant()
      for (const b of blocks) {
        if (b.type === 'tool_use') addCall(call(b.id, b.name, b.input))
        else addText(String(b.text ?? '').replace(/<details>\n<summary>Thinking<\/summary>[\s\S]*?<\/details>\n*/g, ''))
      }
      for (const c of it.tool_calls ?? []) addCall(call(c.id, c.function.name, c.function.arguments))
      continue
    }
    if (it.role === 'user') {
      const blocks = typeof it.content === 'string' ? [{ type: 'text', text: it.content }] : it.content ?? []
      for (const b of blocks.filter((b: Json) => b.type === 'tool_result')) {
        messages.push({ role: 'tool', tool_call_id: b.tool_use_id, content: textOf(b.content) })
      }
      const parts = userParts(blocks.filter((b: Json) => b.type !== 'tool_result'))
      if (parts.length) messages.push({ role: 'user', content: parts })
    }
  }
  const n: Json = {
    model: body.model,
    stream: body.stream === true,
    messages,
    tools,
    tool_choice: body.tool_choice,
    parallel_tool_calls: body.parallel_tool_calls,
    reasoning: body.reasoning ?? (body.reasoning_effort ? { effort: body.reasoning_effort } : undefined),
    max_completion_tokens: body.max_output_tokens ?? body.max_completion_tokens ?? body.max_tokens,
    temperature: body.temperature, top_p: body.top_p, stop: body.stop, seed: body.seed, n: body.n,
    presence_penalty: body.presence_penalty, frequency_penalty: body.frequency_penalty,
    response_format: body.response_format ?? (body.text?.format ? { type: body.text.format.type } : undefined),
    verbosity: body.text?.verbosity ?? body.verbosity,
    stream_options: body.stream_options,
    user: body.user, metadata: body.metadata, store: body.store, service_tier: body.service_tier,
    safety_identifier: body.safety_identifier, prompt_cache_key: body.prompt_cache_key,
    prompt_cache_retention: body.prompt_cache_retention, include: body.include, truncation: body.truncation,
  }
  for (const k of Object.keys(n)) if (n[k] === undefined) delete n[k]
  return n
}

const cursorRequests = readdirSync(cursorDir).filter((f) => f.endsWith('.json') && !f.startsWith('expected-')).sort()

// ---------------------------------------------------------------------------------------------
// to-responses.jsonata
// ---------------------------------------------------------------------------------------------

const CHAT_ONLY = ['messages', 'stream_options', 'previous_response_id', 'stop', 'seed', 'n', 'presence_penalty',
  'frequency_penalty', 'logit_bias', 'max_tokens', 'max_completion_tokens', 'response_format', 'verbosity', 'reasoning_effort']

t.test('every Cursor fixture request becomes a valid Responses request', async (t) => {
  for (const f of cursorRequests) {
    const body = cursor(f)
    const out = await runTransform(TO, neutral(body), { request: body })
    t.same(CHAT_ONLY.filter((k) => k in out), [], `${f}: no Chat-only or refused fields`)
    t.equal(out.model, body.model, `${f}: model`)
    t.ok(Array.isArray(out.input) && out.input.length > 0, `${f}: input items`)
    if (!SPECS_MISSING) {
      const v = schema('openai', 'CreateResponse')
      t.ok(v(out), `${f}: ${explain(v)}`)
    }
  }
})

t.test('the full Cursor agent turn, exactly', async (t) => {
  const body = cursor('gpt5-agent-responses-full-turn.json')
  const out = await runTransform(TO, neutral(body), { request: body })
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
  const out = await runTransform(TO, neutral(body), { request: body })
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
  const out = await runTransform(TO, neutral(legacy), { request: legacy })
  t.equal(out.model, 'gpt-4.1')
  t.notOk('reasoning' in out, 'gpt-4.1 rejects reasoning')
  t.equal(out.temperature, 0)
  t.same(out.input.slice(0, 3).map((i: Json) => i.role), ['system', 'user', 'user'])
  t.same(out.input[3], { type: 'message', role: 'assistant', content: "I'll read the commands module first." })
  t.equal(out.input[4].type, 'function_call')
  t.notOk(out.input.some((i: Json) => i.type === 'message' && i.role === 'assistant' && i.content === ''), 'empty assistant content dropped')

  const ping = cursor('verify-ping-key-check-2025.json')
  const p = await runTransform(TO, neutral(ping), { request: ping })
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
  if (!SPECS_MISSING) {
    const v = schema('openai', 'CreateResponse')
    t.ok(v(out), explain(v))
  }
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
    ],
    tools: [{ type: 'custom', custom: { name: 'ApplyPatch', format: { type: 'text' } } }],
  }))
  t.same(out.input.slice(1), [
    { type: 'function_call', call_id: 'call_a', name: 'shot', arguments: '{}' },
    { type: 'custom_tool_call', call_id: 'call_b', name: 'ApplyPatch', input: '*** Begin Patch\n*** End Patch' },
    { type: 'function_call_output', call_id: 'call_a', output: [{ type: 'input_text', text: 'see' }, { type: 'input_image', image_url: 'https://x/y.png', detail: 'low' }] },
    { type: 'custom_tool_call_output', call_id: 'call_b', output: 'ok' },
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
  if (!SPECS_MISSING) {
    const v = schema('openai', 'CreateResponse')
    t.ok(v(out), explain(v))
  }
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
  const v = SPECS_MISSING ? null : schema('openai', 'CreateChatCompletionResponse')
  const bodies = readdirSync(streamsDir).filter((f) => f.endsWith('.response.json') && f !== 'error.response.json')
  for (const f of bodies) {
    const out = await runTransform(BODY, recorded(f), { ctx })
    if (v) t.ok(v(out), `${f}: ${explain(v)}`)
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
  t.same(est.usage, { prompt_tokens: 8, completion_tokens: 8, total_tokens: 16 }, 'estimated when the upstream gives none')

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


