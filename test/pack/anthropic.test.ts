// The Anthropic Messages upstream of the Cursor pack: to-anthropic (neutral form → Messages request),
// anthropic-body (Messages body → chat.completion) and anthropic-stream (Messages SSE → chat chunks).
import t, { type Test } from 'tap'
import { readFileSync, readdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { runTransform } from '../helpers/transform.js'
import { runStream, every } from '../helpers/stream.js'
import { schema, explain } from '../helpers/schemas.js'
import { MemoryStore } from '../../engine/store/memory.js'
import { normalize } from '../helpers/pack.js'

const root = fileURLToPath(new URL('../../', import.meta.url))
const TO = `${root}rules/transforms/to-anthropic.jsonata`
const BODY = `${root}rules/transforms/anthropic-body.jsonata`
const cursorDir = `${root}test/fixtures/cursor/`
const streamDir = `${root}test/fixtures/streams/anthropic-messages/`
const json = (path: string): any => JSON.parse(readFileSync(path, 'utf8'))
const cursor = (name: string): any => json(`${cursorDir}${name}`)
const upstream = (name: string): any => json(`${streamDir}${name}`)

// ---------------------------------------------------------------------------------------------
// Neutral inputs: the shipped normalize pipeline (rules/10-normalize.yaml), run the way the engine runs
// it (as test/pack/normalize.test.ts does): each step's `when` tested on the step's input, then its
// transform with the same compiler, limits and functions.
// ---------------------------------------------------------------------------------------------

type Json = any
/** Cursor's body → the neutral form, through the shipped normalize pipeline. */
const neutral = (request: unknown): Promise<Json> => normalize(request)

/** The structural rules of the Messages API that the schema cannot express (wire-formats.md §6.3). */
function turnProblems(req: Json): string[] {
  const problems: string[] = []
  const msgs: Json[] = req.messages
  if (msgs[0]?.role !== 'user') problems.push('first turn is not user')
  msgs.forEach((m, i) => {
    if (i > 0 && msgs[i - 1].role === m.role) problems.push(`turns ${i - 1} and ${i} are both ${m.role}`)
    const blocks: Json[] = typeof m.content === 'string' ? [{ type: 'text', text: m.content }] : m.content
    if (!blocks.length) problems.push(`turn ${i} is empty`)
    for (const b of blocks) if (b.type === 'text' && !b.text.trim()) problems.push(`turn ${i} has a blank text block`)
    const uses = blocks.filter((b) => b.type === 'tool_use').map((b) => b.id)
    if (uses.length) {
      const next: Json[] = msgs[i + 1]?.content ?? []
      const results = next.filter((b: Json) => b.type === 'tool_result').map((b: Json) => b.tool_use_id)
      for (const id of uses) if (!results.includes(id)) problems.push(`tool_use ${id} (turn ${i}) has no tool_result right after`)
      const firstOther = next.findIndex((b: Json) => b.type !== 'tool_result')
      if (firstOther !== -1 && next.slice(firstOther).some((b: Json) => b.type === 'tool_result')) problems.push(`turn ${i + 1}: tool_result after other blocks`)
    }
    const results = blocks.filter((b) => b.type === 'tool_result').map((b) => b.tool_use_id)
    const prevUses = i > 0 ? (msgs[i - 1].content as Json[]).filter?.((b: Json) => b.type === 'tool_use').map((b: Json) => b.id) ?? [] : []
    for (const id of results) if (!prevUses.includes(id)) problems.push(`tool_result ${id} (turn ${i}) answers no tool_use of the turn before`)
  })
  const names = (req.tools ?? []).map((x: Json) => x.name)
  if (new Set(names).size !== names.length) problems.push('duplicate tool names')
  for (const n of names) if (!/^[a-zA-Z0-9_-]{1,128}$/.test(n)) problems.push(`bad tool name ${n}`)
  if (req.thinking?.type === 'enabled' && !(req.thinking.budget_tokens >= 1024 && req.thinking.budget_tokens < req.max_tokens)) problems.push('bad budget_tokens')
  return problems
}

const toAnthropic = (neutralBody: Json, opts: Parameters<typeof runTransform>[2] = {}) => runTransform(TO, neutralBody, opts)

const requestFixtures = readdirSync(cursorDir).filter((f) => f.endsWith('.json') && !f.startsWith('expected-'))

t.test('every Cursor request → neutral → to-anthropic is a valid Messages request', async (t) => {
  t.ok(requestFixtures.length >= 10, 'the fixtures are there')
  for (const f of requestFixtures) {
    const req = await toAnthropic(await neutral(cursor(f)))
    t.same(turnProblems(req), [], `${f}: turn structure`)
    t.equal(typeof req.max_tokens, 'number', `${f}: max_tokens`)
    const v = schema('anthropic', 'CreateMessageParams')
    t.ok(v(req), `${f}: ${explain(v)}`)
  }
})

t.test('Anthropic-flavoured Cursor bodies: tool_use/tool_result paired, system lifted', async (t) => {
  const hybrid = cursor('anthropic-model-hybrid-input.json')
  const req = await toAnthropic(await neutral(hybrid))
  t.same(req.system, [{ type: 'text', text: hybrid.input[0].content }])
  t.same(req.messages, [
    { role: 'user', content: [{ type: 'text', text: '<user_query>Why does `npm test` fail?</user_query>' }] },
    { role: 'assistant', content: [
      { type: 'text', text: 'Let me run the tests to see the failure.' },
      { type: 'tool_use', id: 'toolu_01A9xQeP3mZ7LrKc2VbN8tYw', name: 'run_terminal_cmd', input: { command: 'npm test', is_background: false, explanation: 'Reproduce the failure' } },
    ] },
    { role: 'user', content: [
      // normalize turns a text-only tool_result into a string
      { type: 'tool_result', tool_use_id: 'toolu_01A9xQeP3mZ7LrKc2VbN8tYw', content: 'Exit code: 1\n\nFAIL test/server.test.ts\n  TypeError: log is not a function' },
    ] },
    { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_01Bq5RtY8uI2oP4aS6dF9gHj', name: 'read_file', input: { target_file: 'src/log.ts' } }] },
    { role: 'user', content: [
      { type: 'tool_result', tool_use_id: 'toolu_01Bq5RtY8uI2oP4aS6dF9gHj', content: 'export default function log(msg: string) { console.log(msg); }\n' },
    ] },
  ])
  t.same(req.tools, hybrid.tools, 'Anthropic-shaped tools go back exactly as Cursor sent them')
  t.same(req.tool_choice, { type: 'auto' })
  t.same(req.metadata, { user_id: hybrid.user })
  t.equal(req.stream, true)
  t.same(Object.keys(req).sort(), ['max_tokens', 'messages', 'metadata', 'model', 'stream', 'system', 'tool_choice', 'tools'], 'stream_options and the like are dropped')

  const variant = cursor('anthropic-model-messages-variant.json')
  t.same(await toAnthropic(await neutral(variant)), {
    model: 'claude-opus-4-7',
    max_tokens: 32000,
    system: [{ type: 'text', text: 'You are an AI coding assistant, powered by Claude Opus 4.7. You operate in Cursor.' }],
    messages: [
      { role: 'user', content: [{ type: 'text', text: '<user_query>List the files in src/</user_query>' }] },
      { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_01Cz2Wx4Ev6Rb8Tn0Ym1Ul3Ik', name: 'list_dir', input: { target_directory: 'src' } }] },
      // the tool result and the next user message are one user turn, the result first
      { role: 'user', content: [
        { type: 'tool_result', tool_use_id: 'toolu_01Cz2Wx4Ev6Rb8Tn0Ym1Ul3Ik', content: 'app.ts\nlog.ts\nserver.ts' },
        { type: 'text', text: '<user_query>Which one configures logging?</user_query>' },
      ] },
    ],
    tools: variant.tools,
    stream: true,
  })
})

t.test('the full GPT-5 turn: system + developer lifted, ApplyPatch lowered, calls grouped, image kept', async (t) => {
  const body = cursor('gpt5-agent-responses-full-turn.json')
  const req = await toAnthropic(await neutral(body))
  t.same(req.system, [{ type: 'text', text: body.input[0].content }, { type: 'text', text: body.input[1].content }])
  const patch = body.input[7].arguments
  t.same(req.messages, [
    { role: 'user', content: [
      { type: 'text', text: body.input[2].content[0].text },
      { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC' } },
    ] },
    { role: 'assistant', content: [
      { type: 'text', text: "I'll look at how the server is started." },
      { type: 'tool_use', id: 'call_Qm7Yt1nR0sXh4LkZ2vBc9aEd', name: 'ReadFile', input: { path: 'src/server.ts' } },
    ] },
    { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'call_Qm7Yt1nR0sXh4LkZ2vBc9aEd', content: body.input[6].output }] },
    { role: 'assistant', content: [{ type: 'tool_use', id: 'call_Vr3Kp8Wd2Lq6Zn1Xa5Tb7HcJ', name: 'ApplyPatch', input: { input: patch } }] },
    { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'call_Vr3Kp8Wd2Lq6Zn1Xa5Tb7HcJ', content: 'Success. Updated the following files:\nM src/server.ts' }] },
    { role: 'assistant', content: [{ type: 'tool_use', id: 'call_Hn4Jw9Ek3Rf7Uy2Pc6Sg8DzM', name: 'ReadLints', input: { paths: ['src/server.ts'] } }] },
    { role: 'user', content: [
      { type: 'tool_result', tool_use_id: 'call_Hn4Jw9Ek3Rf7Uy2Pc6Sg8DzM', content: 'No linter errors found.' },
      { type: 'text', text: '<user_query>Great. Also add a test for it.</user_query>' },
    ] },
  ])
  const applyPatch = req.tools.find((x: Json) => x.name === 'ApplyPatch')
  const custom = body.tools.find((x: Json) => x.type === 'custom')
  t.same(applyPatch, {
    name: 'ApplyPatch',
    description: `${custom.description}\n\nPut the raw text in the string property \`input\`; it is passed on verbatim.\n\nThe text must match this Lark grammar:\n${custom.format.definition}`,
    input_schema: { type: 'object', properties: { input: { type: 'string' } }, required: ['input'], additionalProperties: false },
  })
  t.same(req.tools.map((x: Json) => x.name), body.tools.map((x: Json) => x.name))
  t.same(req.tools[0], { name: 'Shell', description: body.tools[0].description, input_schema: body.tools[0].parameters }, 'strict:false is not forwarded')
  t.notOk(req.thinking, 'effort medium, but the last tool-use turn has no stored thinking: thinking off rather than a 400')
  for (const k of ['store', 'include', 'truncation', 'prompt_cache_retention', 'stream_options', 'reasoning', 'verbosity', 'previous_response_id', 'text', 'input']) t.notOk(k in req, `${k} dropped`)
})

t.test('thinking replay: the stored signed blocks open their tool-use turn, byte-exact', async (t) => {
  const fixture = upstream('thinking_tool_result.request.json')
  const [question, turn, results] = fixture.messages
  const store = new MemoryStore()
  await store.set(`anthropic:thinking:${turn.content[1].id}`, [turn.content[0]])
  const body = {
    model: fixture.model,
    stream: true,
    messages: [
      { role: 'system', content: fixture.system },
      { role: 'user', content: [{ type: 'text', text: question.content }] },
      { role: 'assistant', content: null, tool_calls: [{ id: turn.content[1].id, type: 'function', function: { name: 'get_weather', arguments: JSON.stringify(turn.content[1].input) } }] },
      { role: 'tool', tool_call_id: results.content[0].tool_use_id, content: results.content[0].content },
    ],
    tools: fixture.tools.map((x: Json) => ({ type: 'function', function: { name: x.name, description: x.description, parameters: x.input_schema, strict: false } })),
    reasoning: { effort: 'low' },
    max_completion_tokens: 4096,
  }
  const req = await toAnthropic(body, { store })
  t.same(req, { ...fixture, system: [{ type: 'text', text: fixture.system }], messages: [{ role: 'user', content: [{ type: 'text', text: question.content }] }, turn, results] })
  t.equal(JSON.stringify(req.messages[1].content[0]), JSON.stringify(turn.content[0]), 'byte-exact')

  const cold = await toAnthropic(body)
  t.notOk(cold.thinking, 'nothing stored: thinking off for this request')
  t.same(cold.messages[1].content.map((b: Json) => b.type), ['tool_use'])
  const later = await toAnthropic({ ...body, messages: [...body.messages,
    { role: 'assistant', content: null, tool_calls: [{ id: 'toolu_later', type: 'function', function: { name: 'get_weather', arguments: '{"location":"Rome"}' } }] },
    { role: 'tool', tool_call_id: 'toolu_later', content: '20C' },
  ] }, { store })
  t.notOk(later.thinking, 'the LAST tool-use turn has nothing stored: thinking off')
  t.notOk(JSON.stringify(later.messages).includes('"thinking"'), 'and the blocks recalled for an earlier turn are left out')
  t.ok(schema('anthropic', 'CreateMessageParams')(later))
  const off = await toAnthropic({ ...body, reasoning: { effort: 'none' } }, { store })
  t.notOk(off.thinking)
  t.same(off.messages[1].content.map((b: Json) => b.type), ['tool_use'], 'thinking off: stored blocks are not replayed')
})

const user = (text: string) => ({ role: 'user', content: [{ type: 'text', text }] })
const base = (messages: Json[], extra: Json = {}) => ({ model: 'claude-sonnet-4-6', stream: false, messages, ...extra })

t.test('turn rules: system anywhere, merging, empty content, pairing repairs', async (t) => {
  const req = await toAnthropic(base([
    { role: 'system', content: 'S1' },
    user('a'),
    { role: 'user', content: [{ type: 'text', text: '' }, { type: 'text', text: '  ' }] },
    user('b'),
    { role: 'developer', content: 'D1' },
    { role: 'assistant', content: 'x' },
    { role: 'assistant', content: null },
    { role: 'assistant', content: 'y', tool_calls: [
      { id: 'c1', type: 'function', function: { name: 'f', arguments: '{"a":1}' } },
      { id: 'c2', type: 'function', function: { name: 'f', arguments: '' } },
      { id: 'c3', type: 'function', function: { name: 'f', arguments: '{oops' } },
    ] },
    { role: 'tool', tool_call_id: 'c2', content: '' },
    { role: 'tool', tool_call_id: 'zz', content: 'late result' },
    user('c'),
    { role: 'system', content: '' },
  ]))
  t.same(req.system, [{ type: 'text', text: 'S1' }, { type: 'text', text: 'D1' }])
  t.same(req.messages, [
    { role: 'user', content: [{ type: 'text', text: 'a' }, { type: 'text', text: 'b' }] },
    { role: 'assistant', content: [
      { type: 'text', text: 'x' },
      { type: 'text', text: 'y' },
      { type: 'text', text: '(The arguments of the f call c3 were not a JSON object; they were, verbatim: {oops)' },
      { type: 'tool_use', id: 'c1', name: 'f', input: { a: 1 } },
      { type: 'tool_use', id: 'c2', name: 'f', input: {} },
      { type: 'tool_use', id: 'c3', name: 'f', input: {} },
    ] },
    { role: 'user', content: [
      { type: 'tool_result', tool_use_id: 'c2' },
      { type: 'tool_result', tool_use_id: 'c1', content: 'No result was returned for this tool call.', is_error: true },
      { type: 'tool_result', tool_use_id: 'c3', content: 'No result was returned for this tool call.', is_error: true },
      { type: 'text', text: '[Result of tool call zz]\nlate result' },
      { type: 'text', text: 'c' },
    ] },
  ])

  const trailing = await toAnthropic(base([user('go'), { role: 'assistant', content: null, tool_calls: [{ id: 'k', type: 'function', function: { name: 'f', arguments: '{}' } }] }]))
  t.same(trailing.messages.slice(-1), [{ role: 'user', content: [{ type: 'tool_result', tool_use_id: 'k', content: 'No result was returned for this tool call.', is_error: true }] }], 'a call the history ends on gets its result turn')

  const oddIds = await toAnthropic(base([user('go'),
    { role: 'assistant', content: null, tool_calls: [{ id: 'fc.1/x', type: 'function', function: { name: 'f', arguments: '{}' } }] },
    { role: 'tool', tool_call_id: 'fc.1/x', content: [{ type: 'text', text: 'r' }, { type: 'image_url', image_url: { url: 'https://x.test/a.png' } }] },
  ]))
  const id = oddIds.messages[1].content[0].id
  t.match(id, /^toolu_[0-9a-f]{24}$/, 'an id Anthropic rejects is hashed')
  t.same(oddIds.messages[2].content, [{ type: 'tool_result', tool_use_id: id, content: [{ type: 'text', text: 'r' }, { type: 'image', source: { type: 'url', url: 'https://x.test/a.png' } }] }])
})

t.test('images', async (t) => {
  const req = await toAnthropic(base([{ role: 'user', content: [
    { type: 'image_url', image_url: { url: 'data:image/jpg;base64,/9j/AAAA', detail: 'high' } },
    { type: 'image_url', image_url: { url: 'data:image/webp;base64,UklG' } },
    { type: 'image_url', image_url: { url: 'http://x.test/i.gif' } },
    { type: 'image_url', image_url: { url: 'data:image/svg+xml;base64,PHN2Zz4=' } },
    { type: 'image_url', image_url: { url: 'file-abc123' } },
  ] }]))
  t.same(req.messages[0].content, [
    { type: 'image', source: { type: 'base64', media_type: 'image/jpeg', data: '/9j/AAAA' } },
    { type: 'image', source: { type: 'base64', media_type: 'image/webp', data: 'UklG' } },
    { type: 'image', source: { type: 'url', url: 'http://x.test/i.gif' } },
    { type: 'text', text: '[image omitted: unsupported type image/svg+xml]' },
    { type: 'text', text: '[image omitted: unsupported URL]' },
  ])
})

t.test('tools: names made valid and unique, custom tools lowered, tool_choice', async (t) => {
  const tools = [
    { type: 'function', function: { name: 'mcp.server:lookup', description: '', parameters: { properties: { q: { type: 'string' } } } } },
    { type: 'function', function: { name: 'dup', description: 'first' } },
    { type: 'function', function: { name: 'dup', description: 'second', parameters: { type: 'object', properties: {} } } },
    { type: 'function', function: { name: 'strict_one', parameters: { type: 'object', properties: {}, additionalProperties: false }, strict: true } },
    { type: 'custom', custom: { name: 'ApplyPatch', format: { type: 'text' } } },
  ]
  const req = await toAnthropic(base([user('hi'),
    { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'mcp.server:lookup', arguments: '{"q":"x"}' } }] },
    { role: 'tool', tool_call_id: 'c1', content: 'ok' },
  ], { tools, tool_choice: { type: 'function', function: { name: 'mcp.server:lookup' } }, parallel_tool_calls: false }))
  const enc = req.tools[0].name
  t.match(enc, /^mcp_server_lookup_[0-9a-f]{12}$/)
  t.same(req.tools, [
    { name: enc, input_schema: { type: 'object', properties: { q: { type: 'string' } } } },
    { name: 'dup', description: 'first', input_schema: { type: 'object', properties: {} } },
    { name: 'strict_one', input_schema: { type: 'object', properties: {}, additionalProperties: false }, strict: true },
    { name: 'ApplyPatch', description: 'Put the raw text in the string property `input`; it is passed on verbatim.',
      input_schema: { type: 'object', properties: { input: { type: 'string' } }, required: ['input'], additionalProperties: false } },
  ])
  t.equal(req.messages[1].content[0].name, enc, 'history uses the same name')
  t.same(req.tool_choice, { type: 'tool', name: enc, disable_parallel_tool_use: true })

  const choice = async (tool_choice: Json, extra: Json = {}) => (await toAnthropic(base([user('x')], { tools, tool_choice, ...extra }))).tool_choice
  t.same(await choice('auto'), { type: 'auto' })
  t.same(await choice('required'), { type: 'any' })
  t.same(await choice('none'), { type: 'none' })
  t.same(await choice('none', { parallel_tool_calls: false }), { type: 'none' }, 'none takes no disable_parallel_tool_use')
  t.same(await choice({ type: 'custom', custom: { name: 'ApplyPatch' } }), { type: 'tool', name: 'ApplyPatch' })
  t.same(await choice({ type: 'function', function: { name: 'missing' } }), { type: 'auto' }, 'forcing a tool that is not offered would be a 400')
  t.same(await choice(undefined, { parallel_tool_calls: false }), { type: 'auto', disable_parallel_tool_use: true })
  t.equal(await choice(undefined), undefined)
  t.notOk('tool_choice' in (await toAnthropic(base([user('x')], { tool_choice: 'auto' }))), 'no tools: no tool_choice')
})

t.test('max_tokens, thinking budgets, sampling, stop, metadata, response_format', async (t) => {
  const one = (extra: Json, vars: Json = {}) => toAnthropic(base([user('x')], extra), { vars })
  t.equal((await one({})).max_tokens, 32000)
  t.equal((await one({}, { anthropic_max_tokens: 8192 })).max_tokens, 8192)
  t.equal((await one({ max_completion_tokens: 100 }, { anthropic_max_tokens: 8192 })).max_tokens, 100)

  const budget = async (effort: string, max?: number) => (await one({ reasoning: { effort }, ...(max ? { max_completion_tokens: max } : {}) })).thinking
  t.same(await budget('low'), { type: 'enabled', budget_tokens: 2048 })
  t.same(await budget('medium'), { type: 'enabled', budget_tokens: 8192 })
  t.same(await budget('high'), { type: 'enabled', budget_tokens: 16384 })
  t.same(await budget('xhigh'), { type: 'enabled', budget_tokens: 30976 }, 'capped below max_tokens, leaving room for the answer')
  t.same(await budget('high', 4096), { type: 'enabled', budget_tokens: 3072 })
  t.same(await budget('low', 2048), { type: 'enabled', budget_tokens: 1024 })
  t.equal(await budget('low', 1500), undefined, 'no room for the 1024 minimum: no thinking')
  t.equal(await budget('minimal'), undefined)
  t.equal(await budget('none'), undefined)
  t.same((await one({ reasoning: { effort: 'high' } }, { anthropic_thinking: 'adaptive' })).thinking, { type: 'adaptive' })
  t.same((await one({ reasoning: { effort: 'high' } }, { anthropic_thinking: 'adaptive' })).output_config, { effort: 'high' })

  const s = await one({ temperature: 1.7, top_p: 0.5, stop: 'END', user: 'u'.repeat(300) })
  t.equal(s.temperature, 1, 'clamped to 0..1')
  t.notOk('top_p' in s, 'recent models take temperature or top_p, not both')
  t.same(s.stop_sequences, ['END'])
  t.match(s.metadata.user_id, /^[0-9a-f]{64}$/, 'a user id over 256 characters is hashed')
  t.equal((await one({ top_p: 1.5 })).top_p, 1)
  const th = await one({ temperature: 0.2, top_p: 0.97, reasoning: { effort: 'low' }, stop: ['a', ' ', ''] })
  t.notOk('temperature' in th, 'no temperature with thinking')
  t.equal(th.top_p, 0.97, 'top_p ≥ 0.95 is allowed with thinking')
  t.same(th.stop_sequences, ['a'])
  t.same((await one({ response_format: { type: 'json_schema', json_schema: { name: 'x', schema: { type: 'object' } } } })).output_config,
    { format: { type: 'json_schema', schema: { type: 'object' } } })
  t.notOk('output_config' in (await one({ response_format: { type: 'json_object' } })))
  t.equal((await one({}, { anthropic_cache_control: true })).cache_control.type, 'ephemeral')
  t.equal((await one({})).stream, false)
})

// ---------------------------------------------------------------------------------------------
// anthropic-body: non-streaming Messages body → chat.completion
// ---------------------------------------------------------------------------------------------

const completion = (message: Json, finish_reason: string, usage: Json) => ({
  id: 'chatcmpl-test0000',
  object: 'chat.completion',
  created: 1767225600,
  model: 'claude-sonnet-4-6',
  choices: [{ index: 0, message: { role: 'assistant', refusal: null, ...message }, logprobs: null, finish_reason }],
  usage,
})
const usageOf = (prompt: number, completion: number, cached = 0, extra: Json = {}) => ({
  prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion, prompt_tokens_details: { cached_tokens: cached }, ...extra,
})
const REASONING = 'The user asks whether 221 is prime. Check small primes: 221 is odd, its digit sum is 5 so 3 does not divide it, it does not end in 0 or 5. 221 / 7 = 31.57..., 221 / 11 = 20.09..., 221 / 13 = 17 exactly. So 221 = 13 × 17 and it is not prime.'
const PATCH = '*** Begin Patch\n*** Update File: src/greet.ts\n@@\n-export const greet = (name: string) => `Hello ${name}`;\n+export const greet = (name: string) => `Hello, ${name}!`;\n*** End Patch'
/** The client's request for the custom-tool scenario: ApplyPatch-style custom tool named apply_patch. */
const customRequest = { model: 'claude-sonnet-4-6', stream: true, tools: [{ type: 'custom', name: 'apply_patch', description: 'Edit files.' }] }

const body = (name: string, opts: Parameters<typeof runTransform>[2] = {}) =>
  runTransform(BODY, upstream(`${name}.response.json`), { request: { model: 'claude-sonnet-4-6' }, ctx: { model: 'claude-sonnet-4-6' }, ...opts })

t.test('anthropic-body: exact chat.completion for every scenario', async (t) => {
  const cases: [string, Json, string, Json, Json?][] = [
    ['text', { content: 'The capital of France is Paris.' }, 'stop', usageOf(27, 12)],
    ['reasoning', { content: 'No. 221 = 13 × 17, so it is not prime.', reasoning_content: REASONING }, 'stop', usageOf(58, 131)],
    ['tool_call', { content: "I'll check the current weather in Paris for you.", tool_calls: [
      { id: 'toolu_01KTxTN4xsRpB14jz5hZDKEq', type: 'function', function: { name: 'get_weather', arguments: '{"location":"Paris, France","unit":"celsius"}' } },
    ] }, 'tool_calls', usageOf(603, 71)],
    ['parallel_tool_calls', { content: '', tool_calls: [
      { id: 'toolu_01WL2P3u7Tq5UfQnmnko3z7A', type: 'function', function: { name: 'get_weather', arguments: '{"location":"Paris, France"}' } },
      { id: 'toolu_013bAyTq6xxgdSPAM8y54cjs', type: 'function', function: { name: 'get_local_time', arguments: '{"timezone":"Asia/Tokyo"}' } },
    ] }, 'tool_calls', usageOf(688, 98)],
    ['custom_tool_call', { content: '', tool_calls: [
      { id: 'toolu_01Es3x87t58yz1jqLGoExhK8', type: 'function', function: { name: 'apply_patch', arguments: PATCH } },
    ] }, 'tool_calls', usageOf(912, 117), customRequest],
    ['usage', { content: 'Refunds are issued within 14 days of a return.' }, 'stop', usageOf(311 + 1536, 14, 1536)],
  ]
  for (const [name, message, finish, usage, request] of cases) {
    const out = await body(name, request ? { request } : {})
    t.same(out, completion(message, finish, usage), name)
    const v = schema('openai', 'CreateChatCompletionResponse')
    t.ok(v(out), `${name}: ${explain(v)}`)
  }
  const asFunction = await body('custom_tool_call')
  t.equal(asFunction.choices[0].message.tool_calls[0].function.arguments, JSON.stringify({ input: PATCH }), 'not a custom tool of the request: JSON arguments')
})

t.test('anthropic-body: mirror, finish reasons, usage details, names mapped back', async (t) => {
  const mirrored = await body('reasoning', { vars: { reasoning_mirror: true } })
  t.equal(mirrored.choices[0].message.content, `<details>\n<summary>Thinking</summary>\n\n${REASONING}\n\n</details>\n\nNo. 221 = 13 × 17, so it is not prime.`)
  t.equal(mirrored.choices[0].message.reasoning_content, REASONING)
  t.equal((await body('text', { vars: { reasoning_mirror: true } })).choices[0].message.content, 'The capital of France is Paris.', 'no thinking, no mirror')

  const text = upstream('text.response.json')
  const finish = async (stop_reason: string | null, extra: Json = {}) =>
    (await runTransform(BODY, { ...text, stop_reason, ...extra }, { request: {} })).choices[0].finish_reason
  t.equal(await finish('end_turn'), 'stop')
  t.equal(await finish('stop_sequence'), 'stop')
  t.equal(await finish('pause_turn'), 'stop')
  t.equal(await finish('max_tokens'), 'length')
  t.equal(await finish('model_context_window_exceeded'), 'length')
  t.equal(await finish('refusal'), 'content_filter')
  t.equal(await finish('tool_use'), 'tool_calls')
  t.equal(await finish(null), 'stop')

  const rich = await runTransform(BODY, { ...text, usage: { input_tokens: 10, cache_read_input_tokens: 5, cache_creation_input_tokens: 7, output_tokens: 20, output_tokens_details: { thinking_tokens: 12 } } }, { request: {} })
  t.same(rich.usage, { prompt_tokens: 22, completion_tokens: 20, total_tokens: 42, prompt_tokens_details: { cached_tokens: 5, cache_write_tokens: 7 }, completion_tokens_details: { reasoning_tokens: 12 } })
  const none = await runTransform(BODY, { ...text, usage: undefined }, { request: { messages: [{ role: 'user', content: 'What is the capital of France?' }] } })
  t.ok(none.usage.prompt_tokens > 0 && none.usage.completion_tokens === 8, 'no usage upstream: estimated')
  t.notOk('prompt_tokens_details' in none.usage)

  // a tool whose client name Anthropic rejects went out encoded (to-anthropic); it comes back under the client's name
  const clientTools = [{ type: 'function', function: { name: 'mcp.server:lookup', parameters: { type: 'object' } } }]
  const sent = await toAnthropic(base([user('x')], { tools: clientTools }))
  const reply = { ...upstream('tool_call.response.json'), content: [{ type: 'tool_use', id: 'toolu_1', name: sent.tools[0].name, input: { q: 1 } }] }
  const back = await runTransform(BODY, reply, { request: { tools: clientTools } })
  t.same(back.choices[0].message.tool_calls, [{ id: 'toolu_1', type: 'function', function: { name: 'mcp.server:lookup', arguments: '{"q":1}' } }])
  const flat = await runTransform(BODY, reply, { request: { tools: [{ type: 'function', name: 'mcp.server:lookup' }] } })
  t.equal(flat.choices[0].message.tool_calls[0].function.name, 'mcp.server:lookup', 'Responses-shaped tools too')
})

t.test('anthropic-body stores the signed thinking of a tool-use turn; to-anthropic replays it', async (t) => {
  const store = new MemoryStore()
  const fixture = upstream('thinking_tool_result.request.json')
  const signed = fixture.messages[1].content[0]
  const reply = { ...upstream('tool_call.response.json'), content: [signed, { type: 'redacted_thinking', data: 'b3BhcXVl' }, ...upstream('tool_call.response.json').content] }
  const out = await runTransform(BODY, reply, { request: {}, store })
  t.equal(out.choices[0].message.reasoning_content, signed.thinking, 'redacted thinking is not shown')
  t.same(await store.get('anthropic:thinking:toolu_01KTxTN4xsRpB14jz5hZDKEq'), [signed, { type: 'redacted_thinking', data: 'b3BhcXVl' }])

  const next = await toAnthropic(base([user('weather?'),
    { role: 'assistant', content: "I'll check the current weather in Paris for you.", tool_calls: out.choices[0].message.tool_calls },
    { role: 'tool', tool_call_id: 'toolu_01KTxTN4xsRpB14jz5hZDKEq', content: '18C' },
  ], { reasoning: { effort: 'low' }, max_completion_tokens: 4096 }), { store })
  t.same(next.messages[1].content.map((b: Json) => b.type), ['thinking', 'redacted_thinking', 'text', 'tool_use'])
  t.same(next.thinking, { type: 'enabled', budget_tokens: 2048 })

  const plain = new MemoryStore()
  await runTransform(BODY, upstream('reasoning.response.json'), { request: {}, store: plain })
  await runTransform(BODY, upstream('tool_call.response.json'), { request: {}, store: plain })
  t.equal(plain.size, 0, 'nothing to store without both thinking and a tool call')
})

// ---------------------------------------------------------------------------------------------
// anthropic-stream: Messages SSE → chat.completion.chunk frames
// ---------------------------------------------------------------------------------------------

const STREAM = `${root}rules/transforms/anthropic-stream.yaml`
const sse = (name: string) => readFileSync(`${streamDir}${name}.sse`, 'utf8')
const streamRequest = { model: 'claude-sonnet-4-6', stream: true, stream_options: { include_usage: true } }
const stream = (name: string, opts: Parameters<typeof runStream>[2] = {}) =>
  runStream(STREAM, typeof name === 'string' && !name.includes('\n') ? sse(name) : name, { request: streamRequest, ...opts })

const envelope = { id: 'chatcmpl-test0000', object: 'chat.completion.chunk', created: 1767225600, model: 'claude-sonnet-4-6' }
const chunk = (delta: Json, finish_reason: string | null = null) => ({ ...envelope, choices: [{ index: 0, delta, finish_reason }] })
const usageChunk = (usage: Json) => ({ ...envelope, choices: [], usage })

/** What a client reconstructs from the frames. */
function collect(frames: Json[]) {
  let content = ''
  let reasoning = ''
  const calls: Json[] = []
  let finish: string | null = null
  let usage: Json = null
  let error: Json = null
  for (const f of frames) {
    if (f === '[DONE]') continue
    if (f.error) { error = f.error; continue }
    if (f.usage) usage = f.usage
    for (const c of f.choices ?? []) {
      const d = c.delta
      if (typeof d.content === 'string') content += d.content
      if (typeof d.reasoning_content === 'string') reasoning += d.reasoning_content
      for (const tc of d.tool_calls ?? []) {
        const call = (calls[tc.index] ??= { id: undefined, name: undefined, arguments: '' })
        if (tc.id) call.id = tc.id
        if (tc.function?.name) call.name = tc.function.name
        call.arguments += tc.function?.arguments ?? ''
      }
      if (c.finish_reason) finish = c.finish_reason
    }
  }
  return { content, reasoning, calls, finish, usage, error }
}

/** Every frame a valid chunk (the {"error"} frame and [DONE] aside); the role first; finish once, then at most usage. */
function checkFrames(t: Test, frames: Json[], label: string) {
  const chunks = frames.filter((f) => f !== '[DONE]' && !f.error)
  t.equal(frames[frames.length - 1], '[DONE]', `${label}: ends with [DONE]`)
  t.same(chunks[0]?.choices?.[0]?.delta, { role: 'assistant', content: '' }, `${label}: role chunk first`)
  for (const f of chunks) t.match(f, envelope, `${label}: envelope`)
  const v = schema('openai', 'CreateChatCompletionStreamResponse')
  for (const f of chunks) if (!v(f)) t.fail(`${label}: ${JSON.stringify(f)}: ${explain(v)}`)
}

t.test('anthropic-stream text: exact frames', async (t) => {
  const r = await stream('text')
  t.same(r.frames, [
    chunk({ role: 'assistant', content: '' }),
    ...['The', ' capital', ' of', ' France', ' is', ' Paris', '.'].map((s) => chunk({ content: s })),
    chunk({}, 'stop'),
    usageChunk({ prompt_tokens: 27, completion_tokens: 12, total_tokens: 39, prompt_tokens_details: { cached_tokens: 0 } }),
    '[DONE]',
  ])
  checkFrames(t, r.frames, 'text')
  const noUsage = await stream('text', { request: { model: 'claude-sonnet-4-6', stream: true } })
  t.same(noUsage.frames.slice(-2), [chunk({}, 'stop'), '[DONE]'], 'no include_usage: no usage chunk')
  const always = await stream('text', { request: { model: 'claude-sonnet-4-6', stream: true }, vars: { usage_always: true } })
  t.same(always.frames.slice(-2), r.frames.slice(-2), 'usage_always')
})

t.test('anthropic-stream tool_call: text block 0 then tool_use block 1 → tool index 0', async (t) => {
  const r = await stream('tool_call')
  const args = ['{"location"', ': "Pari', 's, France', '", "unit": "c', 'elsius"}']
  t.same(r.frames, [
    chunk({ role: 'assistant', content: '' }),
    chunk({ content: "I'll check" }), chunk({ content: ' the current weather' }), chunk({ content: ' in Paris for you.' }),
    chunk({ tool_calls: [{ index: 0, id: 'toolu_01KTxTN4xsRpB14jz5hZDKEq', type: 'function', function: { name: 'get_weather', arguments: '' } }] }),
    ...args.map((a) => chunk({ tool_calls: [{ index: 0, function: { arguments: a } }] })),
    chunk({}, 'tool_calls'),
    usageChunk({ prompt_tokens: 603, completion_tokens: 71, total_tokens: 674, prompt_tokens_details: { cached_tokens: 0 } }),
    '[DONE]',
  ])
  checkFrames(t, r.frames, 'tool_call')
})

const scenarios: Record<string, { request?: Json; want: ReturnType<typeof collect> }> = {
  text: { want: { content: 'The capital of France is Paris.', reasoning: '', calls: [], finish: 'stop',
    usage: { prompt_tokens: 27, completion_tokens: 12, total_tokens: 39, prompt_tokens_details: { cached_tokens: 0 } }, error: null } },
  reasoning: { want: { content: 'No. 221 = 13 × 17, so it is not prime.', reasoning: REASONING, calls: [], finish: 'stop',
    usage: { prompt_tokens: 58, completion_tokens: 131, total_tokens: 189, prompt_tokens_details: { cached_tokens: 0 }, completion_tokens_details: { reasoning_tokens: 104 } }, error: null } },
  tool_call: { want: { content: "I'll check the current weather in Paris for you.", reasoning: '', finish: 'tool_calls',
    calls: [{ id: 'toolu_01KTxTN4xsRpB14jz5hZDKEq', name: 'get_weather', arguments: '{"location": "Paris, France", "unit": "celsius"}' }],
    usage: { prompt_tokens: 603, completion_tokens: 71, total_tokens: 674, prompt_tokens_details: { cached_tokens: 0 } }, error: null } },
  parallel_tool_calls: { want: { content: '', reasoning: '', finish: 'tool_calls',
    calls: [
      { id: 'toolu_01WL2P3u7Tq5UfQnmnko3z7A', name: 'get_weather', arguments: '{"location": "Paris, France"}' },
      { id: 'toolu_013bAyTq6xxgdSPAM8y54cjs', name: 'get_local_time', arguments: '{"timezone": "Asia/Tokyo"}' },
    ],
    usage: { prompt_tokens: 688, completion_tokens: 98, total_tokens: 786, prompt_tokens_details: { cached_tokens: 0 } }, error: null } },
  custom_tool_call: { request: { ...customRequest, stream_options: { include_usage: true } }, want: { content: '', reasoning: '', finish: 'tool_calls',
    calls: [{ id: 'toolu_01Es3x87t58yz1jqLGoExhK8', name: 'apply_patch', arguments: PATCH }],
    usage: { prompt_tokens: 912, completion_tokens: 117, total_tokens: 1029, prompt_tokens_details: { cached_tokens: 0 } }, error: null } },
  usage: { want: { content: 'Refunds are issued within 14 days of a return.', reasoning: '', calls: [], finish: 'stop',
    usage: { prompt_tokens: 1847, completion_tokens: 14, total_tokens: 1861, prompt_tokens_details: { cached_tokens: 1536 } }, error: null } },
}

t.test('anthropic-stream: every scenario, whole and cut into network chunks anywhere', async (t) => {
  for (const [name, { request, want }] of Object.entries(scenarios)) {
    const opts = request ? { request } : {}
    const whole = await stream(name, opts)
    t.same(collect(whole.frames), want, name)
    checkFrames(t, whole.frames, name)
    const len = Buffer.byteLength(sse(name))
    for (const step of [7, 13, 64, 333]) {
      const cut = await stream(name, { ...opts, split: every(step, len) })
      t.same(cut.frames, whole.frames, `${name}: cut every ${step} bytes`)
    }
  }
  const text = sse('custom_tool_call')
  const bytewise = await stream('custom_tool_call', { request: scenarios.custom_tool_call!.request, split: every(1, Buffer.byteLength(text)) })
  t.same(bytewise.frames, (await stream('custom_tool_call', { request: scenarios.custom_tool_call!.request })).frames, 'custom_tool_call byte by byte')
})

t.test('anthropic-stream custom tool: the JSON-escaped patch streams out as raw text fragments', async (t) => {
  const r = await stream('custom_tool_call', { request: scenarios.custom_tool_call!.request })
  const fragments = r.frames.filter((f) => f.choices?.[0]?.delta?.tool_calls && !f.choices[0].delta.tool_calls[0].id)
    .map((f) => f.choices[0].delta.tool_calls[0].function.arguments)
  t.ok(fragments.length > 10, 'incremental, not buffered to the end')
  t.ok(fragments.every((s: string) => s !== '' && !s.includes('\\n') && !s.startsWith('{')), 'raw text, never JSON')
  t.equal(fragments.join(''), PATCH)
  // cut inside \n and inside \uXXXX, with a surrogate pair split between its halves
  const raw = 'a\n"é😀\\z'
  const encoded = JSON.stringify({ input: raw })
  const pieces = ['', '{"in', 'put": "a\\', 'n\\"\\u00', 'e9\\ud83d', '\\ude00\\\\', 'z"', '}']
  t.equal(pieces.join(''), encoded.replace('é', '\\u00e9').replace('😀', '\\ud83d\\ude00').replace(/":"/, '": "'))
  const ev = (name: string, data: Json) => `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`
  const body = ev('message_start', { type: 'message_start', message: { usage: { input_tokens: 1, output_tokens: 1 } } })
    + ev('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'tool_use', id: 'toolu_x', name: 'apply_patch', input: {} } })
    + pieces.map((p) => ev('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'input_json_delta', partial_json: p } })).join('')
    + ev('content_block_stop', { type: 'content_block_stop', index: 0 })
    + ev('message_delta', { type: 'message_delta', delta: { stop_reason: 'tool_use' }, usage: { output_tokens: 9 } })
    + ev('message_stop', { type: 'message_stop' })
  const out = await stream(body, { request: customRequest })
  t.equal(collect(out.frames).calls[0].arguments, raw)
  t.ok(out.frames.every((f: Json) => !JSON.stringify(f).includes('\\ud83d"')), 'no lone surrogate ever sent')
  // a lowered call whose JSON is not {"input": "…"}: what the model wrote still reaches the client
  const odd = body.replace(/"partial_json":"(?:[^"\\]|\\.)*"/g, '"partial_json":""').replace('"partial_json":""}}\n\nevent: content_block_stop', '"partial_json":"{\\"patch\\": 1}"}}\n\nevent: content_block_stop')
  t.equal(collect((await stream(odd, { request: customRequest })).frames).calls[0].arguments, '{"patch": 1}')
})

t.test('anthropic-stream reasoning: reasoning_content, the <details> mirror on and off', async (t) => {
  const off = await stream('reasoning')
  t.notOk(off.frames.some((f: Json) => f.choices?.[0]?.delta?.content?.includes('<details>')), 'mirror off by default')
  const on = await stream('reasoning', { vars: { reasoning_mirror: true } })
  const got = collect(on.frames)
  t.equal(got.content, `<details>\n<summary>Thinking</summary>\n\n${REASONING}\n\n</details>\n\nNo. 221 = 13 × 17, so it is not prime.`)
  t.equal(got.reasoning, REASONING)
  t.same(on.frames[1], chunk({ reasoning_content: 'The user asks whether 221 is prime.', content: '<details>\n<summary>Thinking</summary>\n\nThe user asks whether 221 is prime.' }))
  t.same(on.frames.find((f: Json) => f.choices?.[0]?.delta?.content?.startsWith('\n\n</details>')), chunk({ content: '\n\n</details>\n\nNo' }), 'closed with the first answer text')
  checkFrames(t, on.frames, 'reasoning mirrored')
  t.equal(collect((await stream('reasoning', { vars: { reasoning_mirror: true }, split: every(5, Buffer.byteLength(sse('reasoning'))) })).frames).content, got.content)
})

/** A thinking turn that ends in a tool call, assembled from the fixtures' events. */
function thinkingToolSse(): string {
  const events = sse('reasoning').split('\n\n').filter(Boolean)
  const tool = sse('tool_call').split('\n\n').filter(Boolean)
  const thinking = events.filter((e) => /"index":0/.test(e))
  const toolBlock = tool.filter((e) => /"index":1/.test(e) && !/text/.test(e))
  const tail = tool.filter((e) => /message_delta|message_stop/.test(e))
  return [events[0], ...thinking, ...toolBlock, ...tail].join('\n\n') + '\n\n'
}

t.test('anthropic-stream: signed thinking stored under the first tool_use id, replayed by to-anthropic', async (t) => {
  const store = new MemoryStore()
  const r = await stream(thinkingToolSse(), { store, vars: { reasoning_mirror: true } })
  const got = collect(r.frames)
  t.equal(got.reasoning, REASONING)
  t.equal(got.content, `<details>\n<summary>Thinking</summary>\n\n${REASONING}\n\n</details>\n\n`, 'mirror closed before the tool call')
  t.same(got.calls.map((c: Json) => c.id), ['toolu_01KTxTN4xsRpB14jz5hZDKEq'])
  t.equal(got.finish, 'tool_calls')
  const reference = upstream('reasoning.response.json').content[0]
  const stored = await store.get('anthropic:thinking:toolu_01KTxTN4xsRpB14jz5hZDKEq')
  t.same(stored, [reference])
  t.equal(JSON.stringify(stored), JSON.stringify([reference]), 'byte-exact, same key order as the non-streaming block')
  checkFrames(t, r.frames, 'thinking + tool')

  const next = await toAnthropic(base([user('weather?'),
    { role: 'assistant', content: null, tool_calls: got.calls.map((c: Json) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: c.arguments } })) },
    { role: 'tool', tool_call_id: got.calls[0].id, content: '18C' },
  ], { reasoning: { effort: 'low' }, max_completion_tokens: 4096 }), { store })
  t.same(next.messages[1].content[0], reference)
  t.same(next.messages[1].content[1], { type: 'tool_use', id: 'toolu_01KTxTN4xsRpB14jz5hZDKEq', name: 'get_weather', input: { location: 'Paris, France', unit: 'celsius' } })

  const plain = new MemoryStore()
  await stream('reasoning', { store: plain })
  await stream('tool_call', { store: plain })
  t.equal(plain.size, 0, 'nothing stored without both thinking and a tool call')
})

t.test('anthropic-stream errors: before any content → HTTP error; mid-stream → text (/cursor), error frame, [DONE]', async (t) => {
  const mid = await stream('error_midstream', { vars: { error_text: true } })
  const got = collect(mid.frames)
  t.match(got.content, /^The capital of France\n\nError: .*Overloaded/)
  t.match(got.error, { message: /overloaded_error.*Overloaded/ })
  t.equal(got.finish, null, 'no finish_reason: the answer is incomplete')
  t.equal(mid.frames[mid.frames.length - 1], '[DONE]')
  checkFrames(t, mid.frames, 'error_midstream')
  for (const step of [3, 17]) {
    t.same((await stream('error_midstream', { vars: { error_text: true }, split: every(step, Buffer.byteLength(sse('error_midstream'))) })).frames, mid.frames, `cut every ${step}`)
  }
  const v1 = await stream('error_midstream')
  t.equal(collect(v1.frames).content, 'The capital of France', 'off /cursor no text the model never said')
  t.same(v1.frames.slice(-2), mid.frames.slice(-2), 'only the error frame, then [DONE]')

  const events = sse('error_midstream').split('\n\n').filter(Boolean)
  const early = await stream([events[0], events[1], events[2], events.at(-1)].join('\n\n') + '\n\n')
  t.equal(early.httpError?.status, 502, 'overloaded before any content: a real HTTP error')
  t.match(early.httpError?.body, { error: { message: /Overloaded/ } })
  const limited = await stream('event: error\ndata: {"type":"error","error":{"type":"rate_limit_error","message":"Slow down"}}\n\n')
  t.equal(limited.httpError?.status, 429)

  const mirrored = await stream(thinkingToolSse().split('event: content_block_start\ndata: {"type":"content_block_start","index":1')[0]
    + 'event: error\ndata: {"type":"error","error":{"type":"api_error","message":"Internal"}}\n\n', { vars: { reasoning_mirror: true, error_text: true } })
  t.match(collect(mirrored.frames).content, /\n\n<\/details>\n\n\n\nError: .*Internal$/, 'the mirror is closed before the error text')
})

t.test('anthropic-stream: odd but legal streams', async (t) => {
  const ev = (name: string, data: Json) => `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`
  // no usage at all: estimated
  const bare = ev('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } })
    + ev('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Hello there!' } })
    + ev('message_delta', { type: 'message_delta', delta: { stop_reason: 'max_tokens' } })
  const r = await stream(bare, { request: { ...streamRequest, messages: [{ role: 'user', content: 'Say hello to everyone here' }] } })
  const got = collect(r.frames)
  t.equal(got.finish, 'length')
  t.same(got.usage, { prompt_tokens: 14, completion_tokens: 3, total_tokens: 17 }, 'estimated from the request and the streamed text')
  checkFrames(t, r.frames, 'bare')
  // an empty stream still closes properly
  const empty = await stream('event: ping\ndata: {"type": "ping"}\n\n')
  t.same(empty.frames, [chunk({ role: 'assistant', content: '' }), chunk({}, 'stop'), usageChunk({ prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 }), '[DONE]'])
  // unknown block kinds (server tools) and unknown events are ignored; refusal → content_filter
  const odd = ev('message_start', { type: 'message_start', message: { usage: { input_tokens: 5, output_tokens: 1 } } })
    + ev('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'server_tool_use', id: 'srvtoolu_1', name: 'web_search', input: {} } })
    + ev('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'input_json_delta', partial_json: '{"query": "x"}' } })
    + ev('content_block_stop', { type: 'content_block_stop', index: 0 })
    + ev('something_new', { type: 'something_new' })
    + ev('content_block_start', { type: 'content_block_start', index: 1, content_block: { type: 'text', text: '' } })
    + ev('content_block_delta', { type: 'content_block_delta', index: 1, delta: { type: 'text_delta', text: 'No.' } })
    + ev('message_delta', { type: 'message_delta', delta: { stop_reason: 'refusal' }, usage: { output_tokens: 2 } })
    + ev('message_stop', { type: 'message_stop' })
  const o = collect((await stream(odd)).frames)
  t.same([o.content, o.calls, o.finish], ['No.', [], 'content_filter'])
})
t.test('anthropic-stream: interleaved thinking (thinking, tool, thinking, tool)', async (t) => {
  const ev = (name: string, data: Json) => `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`
  const think = (i: number, text: string, sig: string) =>
    ev('content_block_start', { type: 'content_block_start', index: i, content_block: { type: 'thinking', thinking: '', signature: '' } })
    + ev('content_block_delta', { type: 'content_block_delta', index: i, delta: { type: 'thinking_delta', thinking: text } })
    + ev('content_block_delta', { type: 'content_block_delta', index: i, delta: { type: 'signature_delta', signature: sig } })
    + ev('content_block_stop', { type: 'content_block_stop', index: i })
  const tool = (i: number, id: string) =>
    ev('content_block_start', { type: 'content_block_start', index: i, content_block: { type: 'tool_use', id, name: 'f', input: {} } })
    + ev('content_block_delta', { type: 'content_block_delta', index: i, delta: { type: 'input_json_delta', partial_json: '' } })
    + ev('content_block_delta', { type: 'content_block_delta', index: i, delta: { type: 'input_json_delta', partial_json: '{}' } })
    + ev('content_block_stop', { type: 'content_block_stop', index: i })
  const body = ev('message_start', { type: 'message_start', message: { usage: { input_tokens: 3, output_tokens: 1 } } })
    + think(0, 'First.', 's1') + tool(1, 'toolu_a')
    + ev('content_block_start', { type: 'content_block_start', index: 2, content_block: { type: 'redacted_thinking', data: 'opaque' } })
    + ev('content_block_stop', { type: 'content_block_stop', index: 2 })
    + think(3, 'Second.', 's2') + tool(4, 'toolu_b')
    + ev('message_delta', { type: 'message_delta', delta: { stop_reason: 'tool_use' }, usage: { output_tokens: 40 } })
    + ev('message_stop', { type: 'message_stop' })
  const store = new MemoryStore()
  const r = await stream(body, { store, vars: { reasoning_mirror: true } })
  const got = collect(r.frames)
  t.equal(got.reasoning, 'First.\n\nSecond.')
  const open = '<details>\n<summary>Thinking</summary>\n\n'
  const close = '\n\n</details>\n\n'
  t.equal(got.content, `${open}First.${close}${open}Second.${close}`)
  t.same(got.calls, [{ id: 'toolu_a', name: 'f', arguments: '{}' }, { id: 'toolu_b', name: 'f', arguments: '{}' }])
  t.same(await store.get('anthropic:thinking:toolu_a'), [
    { type: 'thinking', thinking: 'First.', signature: 's1' },
    { type: 'redacted_thinking', data: 'opaque' },
    { type: 'thinking', thinking: 'Second.', signature: 's2' },
  ])
  checkFrames(t, r.frames, 'interleaved')
})

