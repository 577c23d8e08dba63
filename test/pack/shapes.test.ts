// Request shapes the Cursor fixtures do not show, but that Cursor and other clients send or may send
// (Responses tools without a Chat equivalent, output arrays, typed message items, item references,
// Anthropic system blocks, odd tool names, …): through each upstream's request pipeline, every
// result must be a valid request of that API (the official strict schemas) and nothing may throw.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { transformRequest } from '../../engine/pipeline/transform-request.js'
import { MemoryStore } from '../../engine/store/memory.js'
import { shippedRuleset } from '../helpers/pack.js'
import { explain, schema } from '../helpers/schemas.js'

const fixture = (name: string) => JSON.parse(readFileSync(new URL(`../fixtures/cursor/${name}`, import.meta.url), 'utf8'))
const agent = fixture('gpt5-agent-responses-full-turn.json')
const chat = fixture('chat-dialect-mixed-tools-applypatch-history.json')
const PNG = 'data:image/png;base64,iVBORw0KGgo='

const SHAPES: Record<string, Record<string, unknown>> = {
  'input as a string': { input: 'hello', stream: true },
  'a function_call_output whose output is parts': {
    input: [
      { role: 'user', content: 'run it' },
      { type: 'function_call', call_id: 'call_1', name: 'Shell', arguments: '{"command":"ls"}' },
      { type: 'function_call_output', call_id: 'call_1', output: [{ type: 'input_text', text: 'a.txt' }, { type: 'input_image', image_url: PNG }] },
    ],
    tools: agent.tools,
  },
  'Responses built-in tools beside function tools': { ...agent, tools: [...agent.tools, { type: 'web_search' }, { type: 'file_search', vector_store_ids: ['vs_1'] }, { type: 'mcp', server_label: 'docs', server_url: 'https://mcp.example' }] },
  'a flat tool_choice': { ...agent, tool_choice: { type: 'function', name: 'Shell' } },
  'tool_choice allowed_tools': { ...agent, tool_choice: { type: 'allowed_tools', mode: 'auto', tools: [{ type: 'function', name: 'Shell' }] } },
  'text.format json_schema and verbosity': { ...agent, text: { format: { type: 'json_schema', name: 'answer', schema: { type: 'object', properties: { a: { type: 'string' } } }, strict: true }, verbosity: 'low' } },
  'an item_reference item': { ...agent, input: [...agent.input, { type: 'item_reference', id: 'msg_123' }] },
  'typed message items with status and annotations': {
    input: [
      { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'hi' }] },
      { type: 'message', role: 'assistant', id: 'msg_1', status: 'completed', content: [{ type: 'output_text', text: 'hello', annotations: [] }] },
      { type: 'message', role: 'user', content: 'again' },
    ],
  },
  'a reasoning item with an empty summary before a call': {
    input: [
      { role: 'user', content: 'q' },
      { type: 'reasoning', id: 'rs_1', summary: [] },
      { type: 'function_call', call_id: 'c1', name: 'Shell', arguments: '{}' },
      { type: 'function_call_output', call_id: 'c1', output: 'ok' },
    ],
    tools: agent.tools,
    reasoning: { effort: 'high', summary: 'auto' },
  },
  'max_output_tokens, temperature and top_p': { ...agent, max_output_tokens: 4096, temperature: 0.2, top_p: 0.9 },
  'Chat: null assistant content with tool calls, stream_options': {
    messages: [
      { role: 'system', content: 'sys' },
      { role: 'user', content: 'hi' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'ReadFile', arguments: '{"path":"a"}' } }] },
      { role: 'tool', tool_call_id: 'c1', content: 'file' },
    ],
    tools: chat.tools,
    stream: true,
    stream_options: { include_usage: true },
  },
  'Chat: a tool without parameters': { messages: [{ role: 'user', content: 'hi' }], tools: [{ type: 'function', function: { name: 'noargs' } }] },
  'Chat: image parts by URL with detail': { messages: [{ role: 'user', content: [{ type: 'text', text: 'look' }, { type: 'image_url', image_url: { url: 'https://example.com/a.png', detail: 'high' } }] }] },
  'Chat: response_format, n, seed, stop': { messages: [{ role: 'user', content: 'hi' }], response_format: { type: 'json_schema', json_schema: { name: 'x', schema: { type: 'object' } } }, max_completion_tokens: 100, n: 1, seed: 1, stop: ['END'] },
  'Chat: a named tool_choice, parallel_tool_calls false': { ...chat, tool_choice: { type: 'function', function: { name: 'ReadFile' } }, parallel_tool_calls: false },
  'Anthropic blocks, tools and system blocks with cache_control': {
    messages: [
      { role: 'user', content: [{ type: 'text', text: 'hi' }] },
      { role: 'assistant', content: [{ type: 'text', text: 'calling' }, { type: 'tool_use', id: 'toolu_1', name: 'read', input: { p: 1 } }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: [{ type: 'text', text: 'ok' }] }] },
    ],
    tools: [{ name: 'read', description: 'r', input_schema: { type: 'object', properties: { p: { type: 'number' } } } }],
    system: [{ type: 'text', text: 'sys', cache_control: { type: 'ephemeral' } }],
    max_tokens: 1000,
  },
  'a developer item and every Responses-only parameter': {
    ...agent,
    input: [{ role: 'developer', content: 'dev' }, ...agent.input],
    metadata: { cursorConversationId: 'conv-1', other: 'x' },
    store: false, include: ['reasoning.encrypted_content'], truncation: 'auto', prompt_cache_retention: '24h', service_tier: 'auto', user: 'u1',
  },
  'an empty tools array with tool_choice': { input: [{ role: 'user', content: 'hi' }], tools: [], tool_choice: 'auto' },
  'unicode text and an over-long tool name with dots and slashes': {
    messages: [{ role: 'user', content: 'héllo 🌍' }],
    tools: [{ type: 'function', function: { name: 'mcp_server-name.with.dots/and-slashes_' + 'x'.repeat(70), parameters: { type: 'object', properties: {} } } }],
  },
}

const UPSTREAMS = [
  { rule: 'cursor-openai', model: 'gpt-5.5', api: 'openai', schema: 'CreateResponse' },
  { rule: 'cursor-anthropic', model: 'claude-sonnet-4-6', api: 'anthropic', schema: 'CreateMessageParams' },
  { rule: 'cursor-gemini', model: 'gemini-2.5-pro', api: 'gemini', schema: 'GenerateContentRequest' },
  { rule: 'cursor-compat', model: 'llama-3', api: 'openai', schema: 'CreateChatCompletionRequest' },
] as const

/** Shapes an upstream cannot honour: a 400 naming the parameter (test/pack/nothing-lost.test.ts), not a request. */
const REFUSED: Record<string, Record<string, string>> = {
  'Chat: response_format, n, seed, stop': { 'cursor-openai': 'stop' },
}

t.test('unseen request shapes → a valid request for every upstream', async (t) => {
  const ruleset = await shippedRuleset()
  for (const u of UPSTREAMS) {
    const rule = ruleset.rules.find((r) => r.name === u.rule)!
    const valid = schema(u.api, u.schema)
    for (const [name, shape] of Object.entries(SHAPES)) {
      const body = { ...structuredClone(shape), model: u.model }
      const store = new MemoryStore()
      const bindings = {
        request: body,
        ctx: { id: 'shape', created: 1767225600, model: u.model, rule: u.rule, headers: {}, query: {} },
        vars: rule.vars,
        models: [],
        recall: (k: unknown) => store.get(String(k)),
        remember: async (k: unknown, v: unknown) => { await store.set(String(k), v); return v },
      }
      const refused = REFUSED[name]?.[u.rule]
      let out: unknown
      try {
        out = await transformRequest(rule.targets[0]!.request, body, bindings, u.rule)
      } catch (err) {
        const e = err as { status?: number; param?: string; message: string }
        if (refused) t.same({ status: e.status, param: e.param }, { status: 400, param: refused }, `${name} → ${u.rule}: 400 naming ${refused}`)
        else t.fail(`${name} → ${u.rule}: ${e.message}`)
        continue
      }
      if (refused) { t.fail(`${name} → ${u.rule}: expected a 400 naming ${refused}`); continue }
      t.ok(valid(out), `${name} → ${u.rule}${valid.errors ? `: ${explain(valid)}` : ''}`)
    }
  }
})
