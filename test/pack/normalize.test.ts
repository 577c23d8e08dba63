// The `normalize` pipeline of rules/10-normalize.yaml: every client dialect → the neutral form of
// rules/transforms/README.md. The steps run the way the engine runs them: each step's `when` is
// tested on the step's input, then its transform (same compiler, limits and functions) gets it.
import t from 'tap'
import { readFileSync, readdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import jsonata from 'jsonata'
import { FUNCTIONS } from '../../engine/expr/functions.js'
import { globToRegExp } from '../../engine/ruleset/glob.js'
import { runTransform } from '../helpers/transform.js'
import { schema, explain } from '../helpers/schemas.js'
import { normalize, shippedRuleset } from '../helpers/pack.js'
import { truthy } from '../../engine/pipeline/transform-stream.js'
import { resolve } from 'node:path'

const rulesDir = fileURLToPath(new URL('../../rules/', import.meta.url))
const fixtures = fileURLToPath(new URL('../fixtures/', import.meta.url))
const readJson = (path: string): any => JSON.parse(readFileSync(path, 'utf8'))
const cursor = (name: string): any => readJson(`${fixtures}cursor/${name}.json`)
const clone = <T>(v: T): T => structuredClone(v)

// ---- the pipeline runner ----------------------------------------------------------------------


// ---- the neutral-form invariants (rules/transforms/README.md) ---------------------------------

const DROPPED = ['input', 'instructions', 'previous_response_id', 'text', 'reasoning_effort', 'max_tokens',
  'max_output_tokens', 'system', 'stop_sequences', 'functions', 'function_call', 'conversation']
const PART_TYPES = ['text', 'image_url', 'file', 'input_audio']

const typeOf = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v)

// The compiled steps of the shipped pipeline, for the checks below that look at each step file.
const pipeline = ((await shippedRuleset()).pipelines.get('normalize') ?? []).flatMap((s) =>
  s.kind === 'transform' ? [{ file: resolve(s.expr.at.file), when: s.when }] : [])
async function applies(step: (typeof pipeline)[number], body: unknown): Promise<boolean> {
  const w = step.when
  return !w || (w.kind === 'fields' ? w.test(body) : truthy(await w.expr.expr.evaluate(body, {})))
}

/** Every way `out` breaks the neutral form, as readable lines (none = valid). */
function neutralProblems(out: any): string[] {
  const p: string[] = []
  const bad = (where: string, what: string) => p.push(`${where}: ${what}`)
  if (typeOf(out) !== 'object') return ['body is not an object']
  for (const [k, v] of Object.entries(out)) if (v === null) bad(k, 'null at the top level')
  for (const k of DROPPED) if (k in out) bad(k, 'should have been consumed or dropped')
  if (typeof out.stream !== 'boolean') bad('stream', 'not a boolean')
  if (!Array.isArray(out.messages)) return [...p, 'messages: not an array']

  const customTools = new Set<string>()
  if ('tools' in out) {
    if (!Array.isArray(out.tools) || out.tools.length === 0) bad('tools', 'present but not a non-empty array')
    else out.tools.forEach((tool: any, i: number) => {
      if (tool.type === 'function') {
        if (typeof tool.function?.name !== 'string') bad(`tools[${i}]`, 'function without a name')
        if (typeOf(tool.function?.parameters) !== 'object') bad(`tools[${i}]`, 'function without parameters')
        if (Object.keys(tool).length !== 2) bad(`tools[${i}]`, 'stray keys beside type/function')
      } else if (tool.type === 'custom') {
        customTools.add(tool.custom?.name)
        const f = tool.custom?.format
        if (typeof tool.custom?.name !== 'string') bad(`tools[${i}]`, 'custom without a name')
        if (!(f?.type === 'text' || (f?.type === 'grammar' && typeof f.grammar?.syntax === 'string' && typeof f.grammar?.definition === 'string')))
          bad(`tools[${i}]`, `custom format ${JSON.stringify(f)}`)
      } else bad(`tools[${i}]`, `unexpected tool ${JSON.stringify(tool)}`)
    })
  } else if ('tool_choice' in out) bad('tool_choice', 'present without tools')
  if ('reasoning' in out && Object.keys(out.reasoning).some((k) => k !== 'effort' && k !== 'summary')) bad('reasoning', 'stray keys')
  if ('stop' in out && !Array.isArray(out.stop)) bad('stop', 'not a list')

  const callAt = new Map<string, number>()
  const checkParts = (where: string, parts: any[]) => parts.forEach((part, j) => {
    if (!PART_TYPES.includes(part?.type)) bad(`${where}[${j}]`, `part type ${part?.type}`)
    if (part.type === 'text' && (typeof part.text !== 'string' || part.text === '')) bad(`${where}[${j}]`, 'empty text part')
    if (part.type === 'image_url' && typeof part.image_url?.url !== 'string' && typeof part.image_url?.file_id !== 'string')
      bad(`${where}[${j}]`, 'image without url or file_id')
  })
  out.messages.forEach((m: any, i: number) => {
    const where = `messages[${i}]`
    switch (m.role) {
      case 'system': case 'developer':
        if (typeof m.content !== 'string' || m.content === '') bad(where, 'system/developer content not a non-empty string')
        break
      case 'user':
        if (!Array.isArray(m.content) || m.content.length === 0) bad(where, 'user content not a non-empty array')
        else checkParts(`${where}.content`, m.content)
        break
      case 'assistant': {
        if (!(m.content === null || (typeof m.content === 'string' && m.content !== ''))) bad(where, `assistant content ${JSON.stringify(m.content)}`)
        if (typeof m.content === 'string' && /^\s*<(details|think)/.test(m.content)) bad(where, 'mirror block left in')
        if ('tool_calls' in m && (!Array.isArray(m.tool_calls) || m.tool_calls.length === 0)) bad(where, 'empty tool_calls')
        if (m.content === null && !m.tool_calls) bad(where, 'neither content nor tool_calls')
        if ('reasoning_items' in m && (!Array.isArray(m.reasoning_items) || m.reasoning_items.length === 0)) bad(where, 'empty reasoning_items')
        for (const c of m.tool_calls ?? []) {
          if (typeof c.id !== 'string') bad(where, 'tool call without id')
          if (callAt.has(c.id)) bad(where, `duplicate tool_call id ${c.id}`)
          callAt.set(c.id, i)
          if (c.type === 'function') {
            if (typeof c.function?.name !== 'string' || typeof c.function?.arguments !== 'string') bad(where, `function call ${c.id}`)
            if (customTools.has(c.function?.name)) bad(where, `call ${c.id} of custom tool ${c.function.name} left as a function`)
          } else if (c.type === 'custom') {
            if (typeof c.custom?.name !== 'string' || typeof c.custom?.input !== 'string') bad(where, `custom call ${c.id}`)
          } else bad(where, `tool call type ${c.type}`)
        }
        break
      }
      case 'tool':
        if (!((callAt.get(m.tool_call_id) ?? Infinity) < i)) bad(where, `answers no earlier call (${m.tool_call_id})`)
        if (Array.isArray(m.content)) checkParts(`${where}.content`, m.content)
        else if (typeof m.content !== 'string') bad(where, 'tool content neither string nor parts')
        break
      default: bad(where, `role ${m.role}`)
    }
  })
  return p
}

/** The neutral form minus its documented non-Chat extras: what a Chat Completions writer sends. */
function asChatRequest(out: any): any {
  const { reasoning, include, truncation, top_k, max_tool_calls, ...rest } = clone(out)
  if (reasoning?.effort) rest.reasoning_effort = reasoning.effort
  for (const m of rest.messages) { delete m.reasoning_items; delete m.reasoning_content }
  return rest
}

// ---- every request fixture --------------------------------------------------------------------

const requestFiles = [
  ...readdirSync(`${fixtures}cursor`).filter((f) => f.endsWith('.json') && !f.startsWith('expected-')).map((f) => `cursor/${f}`),
  ...['chat-completions', 'responses'].flatMap((api) =>
    readdirSync(`${fixtures}streams/${api}`).filter((f) => f.endsWith('.request.json')).map((f) => `streams/${api}/${f}`)),
]

t.test('every step file of the pipeline exists and compiles', async (t) => {
  t.ok(pipeline.length >= 4, 'the pipeline has steps')
  for (const step of pipeline) t.doesNotThrow(() => readFileSync(step.file), step.file)
})

t.test('every request fixture normalizes to a valid neutral form', async (t) => {
  t.ok(requestFiles.length >= 25, `${requestFiles.length} request fixtures`)
  for (const file of requestFiles) {
    const request = readJson(`${fixtures}${file}`)
    const before = JSON.stringify(request)
    const out = await normalize(request)
    t.same(neutralProblems(out), [], file)
    t.equal(out.model, request.model, `${file}: model kept`)
    t.equal(JSON.stringify(request), before, `${file}: the client body is not mutated`)
  }
})

t.test('the Chat projection of every output is a valid Chat Completions request', async (t) => {
  const v = schema('openai', 'CreateChatCompletionRequest')
  for (const file of requestFiles) {
    const chat = asChatRequest(await normalize(readJson(`${fixtures}${file}`)))
    t.ok(v(chat), `${file}: ${explain(v)}`)
  }
})

// ---- dialect A ----------------------------------------------------------------------------------

t.test('A: the full GPT-5 agent turn', async (t) => {
  const req = cursor('gpt5-agent-responses-full-turn')
  const out = await normalize(req)
  const flat = req.tools.filter((x: any) => x.type === 'function')
  const applyPatch = req.tools.find((x: any) => x.type === 'custom')
  t.strictSame(out, {
    model: 'gpt-5.5',
    stream: true,
    messages: [
      // system and developer items become the first messages, content as strings
      { role: 'system', content: req.input[0].content },
      { role: 'developer', content: req.input[1].content },
      { role: 'user', content: [
        { type: 'text', text: req.input[2].content[0].text },
        { type: 'image_url', image_url: { url: req.input[2].content[1].image_url, detail: 'auto' } },
      ] },
      // reasoning + message + function_call → ONE assistant message; the reasoning item byte-exact
      { role: 'assistant', content: "I'll look at how the server is started.",
        tool_calls: [{ id: 'call_Qm7Yt1nR0sXh4LkZ2vBc9aEd', type: 'function', function: { name: 'ReadFile', arguments: '{"path":"src/server.ts"}' } }],
        reasoning_items: [req.input[3]] },
      { role: 'tool', tool_call_id: 'call_Qm7Yt1nR0sXh4LkZ2vBc9aEd', content: req.input[6].output },
      // ApplyPatch replayed in the function envelope → a custom call with the raw patch
      { role: 'assistant', content: null,
        tool_calls: [{ id: 'call_Vr3Kp8Wd2Lq6Zn1Xa5Tb7HcJ', type: 'custom', custom: { name: 'ApplyPatch', input: req.input[7].arguments } }] },
      { role: 'tool', tool_call_id: 'call_Vr3Kp8Wd2Lq6Zn1Xa5Tb7HcJ', content: 'Success. Updated the following files:\nM src/server.ts' },
      { role: 'assistant', content: null,
        tool_calls: [{ id: 'call_Hn4Jw9Ek3Rf7Uy2Pc6Sg8DzM', type: 'function', function: { name: 'ReadLints', arguments: '{"paths":["src/server.ts"]}' } }] },
      { role: 'tool', tool_call_id: 'call_Hn4Jw9Ek3Rf7Uy2Pc6Sg8DzM', content: 'No linter errors found.' },
      { role: 'user', content: [{ type: 'text', text: '<user_query>Great. Also add a test for it.</user_query>' }] },
    ],
    tools: [
      ...flat.map((x: any) => ({ type: 'function', function: { name: x.name, description: x.description, parameters: x.parameters, strict: false } })),
      { type: 'custom', custom: { name: 'ApplyPatch', description: applyPatch.description,
        format: { type: 'grammar', grammar: { syntax: 'lark', definition: applyPatch.format.definition } } } },
    ],
    tool_choice: 'auto',
    reasoning: { effort: 'medium', summary: 'auto' },
    verbosity: 'low',
    stream_options: { include_usage: true },
    user: '1d4c0b6e5f7a29c3b8e1f0a2d6c94e7b',
    metadata: { cursorConversationId: '6b0f3c1e-92d4-4a8e-b7a1-0c5d2e9f4b38' },
    store: false,
    prompt_cache_retention: '24h',
    include: ['reasoning.encrypted_content'],
    truncation: 'disabled',
    // previous_response_id: dropped (Q23)
  })
})

t.test('A: items, parts and parameters beyond the fixtures', async (t) => {
  const params = { type: 'object', properties: { path: { type: 'string' } }, required: ['path'] }
  const out = await normalize({
    model: 'gpt-5',
    instructions: 'Be brief.',
    input: [
      { type: 'message', role: 'developer', content: [{ type: 'input_text', text: 'Rule one.' }, { type: 'input_text', text: 'Rule two.' }] },
      { role: 'user', content: [
        { type: 'input_text', text: 'Look' },
        { type: 'input_image', image_url: { url: 'https://example.com/a.png' } },
        { type: 'input_image', file_id: 'file-abc', detail: 'high' },
        { type: 'input_image', url: 'https://example.com/b.png' },
        { type: 'input_text', text: '' },
      ] },
      { type: 'reasoning', id: 'rs_1', summary: [], encrypted_content: 'enc1' },
      { type: 'function_call', id: 'fc_1', call_id: 'call_a', name: 'ReadFile', arguments: '{"path":"a"}' },
      { type: 'function_call', id: 'fc_2', call_id: 'call_b', name: 'Grep', arguments: '{"pattern":"x"}' },
      { type: 'function_call_output', call_id: 'call_a', output: 'A' },
      { type: 'function_call_output', call_id: 'call_b', output: [{ type: 'input_text', text: 'B1' }, { type: 'input_text', text: 'B2' }] },
      { type: 'reasoning', id: 'rs_2', summary: [], encrypted_content: 'enc2' },
      { type: 'custom_tool_call', call_id: 'call_c', name: 'ApplyPatch', input: '*** Begin Patch\n*** End Patch' },
      { type: 'custom_tool_call_output', call_id: 'call_c', output: 'Done' },
      { type: 'function_call_output', call_id: 'call_unknown', output: 'orphan' },
      { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'All set.' }] },
      { type: 'item_reference', id: 'msg_x' },
      { type: 'reasoning', id: 'rs_3', summary: [] },
      { role: 'user', content: 'Thanks' },
    ],
    tools: [
      { type: 'function', name: 'ReadFile', parameters: params },
      { type: 'function', name: 'Grep', description: null },
      { type: 'custom', name: 'ApplyPatch', format: {} },
    ],
    tool_choice: { type: 'function', name: 'ApplyPatch' },
    reasoning: { summary: 'detailed' },
    reasoning_effort: 'low',
    max_output_tokens: 500,
    text: { format: { type: 'json_schema', name: 'out', schema: { type: 'object' }, strict: true }, verbosity: 'high' },
    previous_response_id: 'resp_1',
    temperature: null,
    stop: 'END',
    service_tier: 'priority',
    safety_identifier: 'u1',
    prompt_cache_key: 'k1',
  })
  t.strictSame(out, {
    model: 'gpt-5',
    stream: false,
    messages: [
      { role: 'system', content: 'Be brief.' },
      { role: 'developer', content: 'Rule one.\n\nRule two.' },
      { role: 'user', content: [
        { type: 'text', text: 'Look' },
        { type: 'image_url', image_url: { url: 'https://example.com/a.png', detail: 'auto' } },
        { type: 'image_url', image_url: { file_id: 'file-abc', detail: 'high' } },
        { type: 'image_url', image_url: { url: 'https://example.com/b.png', detail: 'auto' } },
      ] },
      { role: 'assistant', content: null, tool_calls: [
        { id: 'call_a', type: 'function', function: { name: 'ReadFile', arguments: '{"path":"a"}' } },
        { id: 'call_b', type: 'function', function: { name: 'Grep', arguments: '{"pattern":"x"}' } },
      ], reasoning_items: [{ type: 'reasoning', id: 'rs_1', summary: [], encrypted_content: 'enc1' }] },
      { role: 'tool', tool_call_id: 'call_a', content: 'A' },
      { role: 'tool', tool_call_id: 'call_b', content: 'B1B2' }, // the tool's text parts joined with nothing: its output unchanged
      { role: 'assistant', content: null,
        tool_calls: [{ id: 'call_c', type: 'custom', custom: { name: 'ApplyPatch', input: '*** Begin Patch\n*** End Patch' } }],
        reasoning_items: [{ type: 'reasoning', id: 'rs_2', summary: [], encrypted_content: 'enc2' }] },
      { role: 'tool', tool_call_id: 'call_c', content: 'Done' },
      // the orphan output, the item_reference and the trailing reasoning item (no turn after it) are gone
      { role: 'assistant', content: 'All set.' },
      { role: 'user', content: [{ type: 'text', text: 'Thanks' }] },
    ],
    tools: [
      { type: 'function', function: { name: 'ReadFile', parameters: params } },
      { type: 'function', function: { name: 'Grep', parameters: { type: 'object', properties: {} } } },
      { type: 'custom', custom: { name: 'ApplyPatch', format: { type: 'text' } } },
    ],
    tool_choice: { type: 'custom', custom: { name: 'ApplyPatch' } },
    reasoning: { effort: 'low', summary: 'detailed' },
    max_completion_tokens: 500,
    stop: ['END'],
    response_format: { type: 'json_schema', json_schema: { name: 'out', schema: { type: 'object' }, strict: true } },
    verbosity: 'high',
    service_tier: 'priority',
    safety_identifier: 'u1',
    prompt_cache_key: 'k1',
  })
})

t.test('A: a string input, and `messages: []` beside input (Q14)', async (t) => {
  const out = await normalize({ model: 'm', input: 'Hello', instructions: 'Sys', messages: [], stream: true })
  t.strictSame(out, { model: 'm', stream: true, messages: [
    { role: 'system', content: 'Sys' },
    { role: 'user', content: [{ type: 'text', text: 'Hello' }] },
  ] })
})

t.test('A: custom_tool_call history from the Responses fixtures stays custom', async (t) => {
  const req = readJson(`${fixtures}streams/responses/custom_tool_result.request.json`)
  const out = await normalize(req)
  t.strictSame(out.messages, [
    { role: 'system', content: 'You are a concise assistant.' },
    { role: 'user', content: [{ type: 'text', text: req.input[0].content[0].text }] },
    { role: 'assistant', content: null, tool_calls: [{ id: 'call_M8LmgpmdspDopbZ4nbpDMWzd', type: 'custom', custom: { name: 'apply_patch', input: req.input[1].input } }] },
    { role: 'tool', tool_call_id: 'call_M8LmgpmdspDopbZ4nbpDMWzd', content: req.input[2].output },
  ])
  t.strictSame(out.tools, [{ type: 'custom', custom: { name: 'apply_patch', description: req.tools[0].description,
    format: { type: 'grammar', grammar: { syntax: 'lark', definition: req.tools[0].format.definition } } } }])
  t.equal(out.parallel_tool_calls, false)
  t.notOk('tool_choice' in out)
})

// ---- dialect B ----------------------------------------------------------------------------------

t.test('B: mixed nested and flat tools, ApplyPatch history, content []', async (t) => {
  const req = cursor('chat-dialect-mixed-tools-applypatch-history')
  const out = await normalize(req)
  t.strictSame(out, {
    model: 'gpt-5.4',
    stream: true,
    messages: [
      { role: 'system', content: req.messages[0].content },
      { role: 'user', content: [{ type: 'text', text: req.messages[1].content }] },
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_Lb2Mx7Qe4Ty9Pn1Ka6Wr3Hs0', type: 'function', function: { name: 'ReadFile', arguments: '{"path":"src/config.ts"}' } }] },
      { role: 'tool', tool_call_id: 'call_Lb2Mx7Qe4Ty9Pn1Ka6Wr3Hs0', content: req.messages[3].content },
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_Zc8Nv1Bf5Gj2Dk7Xm4Qp9Lt6', type: 'custom', custom: { name: 'ApplyPatch', input: req.messages[4].tool_calls[0].function.arguments } }] },
      { role: 'tool', tool_call_id: 'call_Zc8Nv1Bf5Gj2Dk7Xm4Qp9Lt6', content: 'Success. Updated the following files:\nM src/config.ts' },
      { role: 'user', content: [{ type: 'text', text: '<user_query>Thanks. Now do the same in src/index.ts.</user_query>' }] },
    ],
    tools: [
      ...req.tools.slice(0, 3),   // nested function tools pass unchanged
      { type: 'custom', custom: { name: 'ApplyPatch', description: 'Apply a V4A-format patch to files in the workspace.', format: { type: 'text' } } },
    ],
    tool_choice: 'auto',
    stream_options: { include_usage: true },
    user: '1d4c0b6e5f7a29c3b8e1f0a2d6c94e7b',
  })
})

t.test('B: the legacy 2025 agent turn (reasoning:{effort}, index on calls, name on tool messages)', async (t) => {
  const req = cursor('chat-dialect-legacy-2025-agent-turn')
  const out = await normalize(req)
  const call = (c: any) => ({ id: c.id, type: 'function', function: c.function })
  t.strictSame(out, {
    model: 'gpt-4.1',
    stream: true,
    messages: [
      { role: 'system', content: req.messages[0].content },
      { role: 'user', content: [{ type: 'text', text: req.messages[1].content }] },
      { role: 'user', content: [{ type: 'text', text: req.messages[2].content }] },
      { role: 'assistant', content: "I'll read the commands module first.", tool_calls: [call(req.messages[3].tool_calls[0])] },
      { role: 'tool', tool_call_id: 'call_4FV11dO0cANJcmBiybINeEtu', content: req.messages[4].content },
      { role: 'assistant', content: null, tool_calls: [call(req.messages[5].tool_calls[0])] },
      { role: 'tool', tool_call_id: 'call_hCrrHRkt8BDlblpqBLSmSQtH', content: req.messages[6].content },
    ],
    tools: req.tools,
    tool_choice: 'auto',
    reasoning: { effort: 'medium' },
    temperature: 0,
    user: '1d4c0b6e5f7a29c3b8e1f0a2d6c94e7b',
  })
})

t.test('B: a thinking model\'s history: the <details> mirror is stripped', async (t) => {
  const req = cursor('thinking-model-chat-history-missing-reasoning')
  const out = await normalize(req)
  t.strictSame(out, {
    model: 'deepseek-v4-pro',
    stream: true,
    messages: [
      { role: 'system', content: 'You are an AI coding assistant. You operate in Cursor.' },
      { role: 'user', content: [{ type: 'text', text: "<user_query>What's in package.json scripts?</user_query>" }] },
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_00_k3Jd8sL2mQ9vX1rT5wYz', type: 'function', function: { name: 'read_file', arguments: '{"target_file":"package.json"}' } }] },
      { role: 'tool', tool_call_id: 'call_00_k3Jd8sL2mQ9vX1rT5wYz', content: '{"scripts":{"test":"vitest","build":"tsc"}}' },
      { role: 'user', content: [{ type: 'text', text: '<user_query>Add a lint script.</user_query>' }] },
    ],
    tools: req.tools,
    tool_choice: 'auto',
    reasoning: { effort: 'high' },
    stream_options: { include_usage: true },
    user: '1d4c0b6e5f7a29c3b8e1f0a2d6c94e7b',
  })
})

t.test('B: tools null is no tools (Q20), and takes tool_choice with it', async (t) => {
  const req = { ...cursor('chat-dialect-legacy-2025-agent-turn'), tools: null }
  req.messages = req.messages.slice(0, 3)
  const out = await normalize(req)
  t.notOk('tools' in out)
  t.notOk('tool_choice' in out)
  t.same(neutralProblems(out), [])
  t.notOk('tools' in await normalize({ ...req, tools: [] }), 'tools [] too')
})

t.test('B: parts, mirrors, empty turns, custom calls in both envelopes, parameters', async (t) => {
  const out = await normalize({
    model: 'kimi-k2',
    messages: [
      { role: 'system', content: [{ type: 'text', text: 'S1' }, { type: 'text', text: 'S2' }] },
      { role: 'user', name: 'dev', content: [
        { type: 'input_text', text: 'hi' },
        { type: 'image_url', image_url: { url: 'data:image/png;base64,AAA', detail: 'low' } },
        { type: 'image_url', image_url: 'https://example.com/c.png' },
        { type: 'text', text: '' },
      ] },
      { role: 'assistant', content: '<think>\nhmm\n</think>\n\nHello there.' },
      { role: 'user', content: '' },
      { role: 'assistant', content: [] },
      { role: 'assistant', content: '<details>\n<summary>Thinking</summary>\n\nonly thinking\n</details>\n\n' },
      { role: 'assistant', content: [{ type: 'text', text: '<details><summary>Thinking</summary>cut off mid-thou' }] },
      { role: 'assistant', content: 'Text about <details><summary>Thinking</summary>x</details> later.' },
      { role: 'assistant', content: '', reasoning_content: 'because', tool_calls: [
        { id: 'call_1', type: 'function', index: 0, function: { name: 'ApplyPatch', arguments: '*** Begin Patch\n*** Add File: a\n+x\n*** End Patch' } },
        { id: 'call_2', type: 'custom', custom: { name: 'ApplyPatch', input: 'raw' } },
        { id: 'call_3', type: 'function', function: { name: 'Run', arguments: { cmd: 'ls' } } },
      ] },
      { role: 'tool', tool_call_id: 'call_1', name: 'ApplyPatch', content: [{ type: 'text', text: 'ok' }] },
      { role: 'tool', tool_call_id: 'call_2', content: 'ok2' },
      { role: 'tool', tool_call_id: 'call_3', content: null },
      { role: 'tool', tool_call_id: 'call_9', content: 'orphan' },
      { role: 'function', name: 'legacy', content: 'x' },
      { role: 'user', content: 'next' },
    ],
    tools: [
      { type: 'custom', custom: { name: 'ApplyPatch', format: { type: 'grammar', grammar: { syntax: 'lark', definition: 'start: x' } } } },
      { type: 'custom', name: 'Other', format: { type: 'grammar' } },
      { type: 'function', function: { name: 'Run' } },
      null,
    ],
    tool_choice: { type: 'function', function: { name: 'Run' } },
    max_tokens: 100,
    max_completion_tokens: 200,
    response_format: { type: 'json_object' },
    reasoning_effort: 'minimal',
    parallel_tool_calls: true,
    n: 1, seed: 7, top_p: 0.5, presence_penalty: 0, frequency_penalty: 0.1,
  })
  t.strictSame(out, {
    model: 'kimi-k2',
    stream: false,
    messages: [
      { role: 'system', content: 'S1\n\nS2' },
      { role: 'user', name: 'dev', content: [
        { type: 'text', text: 'hi' },
        { type: 'image_url', image_url: { url: 'data:image/png;base64,AAA', detail: 'low' } },
        { type: 'image_url', image_url: { url: 'https://example.com/c.png', detail: 'auto' } },
      ] },
      { role: 'assistant', content: 'Hello there.' },
      // the empty user turn, the empty assistant turns and the mirror-only ones are gone
      { role: 'assistant', content: 'Text about <details><summary>Thinking</summary>x</details> later.' },
      { role: 'assistant', content: null, reasoning_content: 'because', tool_calls: [
        { id: 'call_1', type: 'custom', custom: { name: 'ApplyPatch', input: '*** Begin Patch\n*** Add File: a\n+x\n*** End Patch' } },
        { id: 'call_2', type: 'custom', custom: { name: 'ApplyPatch', input: 'raw' } },
        { id: 'call_3', type: 'function', function: { name: 'Run', arguments: '{"cmd":"ls"}' } },
      ] },
      { role: 'tool', tool_call_id: 'call_1', content: 'ok' },
      { role: 'tool', tool_call_id: 'call_2', content: 'ok2' },
      { role: 'tool', tool_call_id: 'call_3', content: '' },
      { role: 'user', content: [{ type: 'text', text: 'next' }] },
    ],
    tools: [
      { type: 'custom', custom: { name: 'ApplyPatch', format: { type: 'grammar', grammar: { syntax: 'lark', definition: 'start: x' } } } },
      { type: 'custom', custom: { name: 'Other', format: { type: 'text' } } },
      { type: 'function', function: { name: 'Run', parameters: { type: 'object', properties: {} } } },
    ],
    tool_choice: { type: 'function', function: { name: 'Run' } },
    parallel_tool_calls: true,
    reasoning: { effort: 'minimal' },
    max_completion_tokens: 200,
    top_p: 0.5, seed: 7, n: 1, presence_penalty: 0, frequency_penalty: 0.1,
    response_format: { type: 'json_object' },
  })
})

t.test('B: files, audio, a refusal and the deprecated function calling → the neutral form', async (t) => {
  const pdf = 'data:application/pdf;base64,JVBERi0x'
  const out = await normalize({
    model: 'm',
    messages: [
      { role: 'user', content: [
        { type: 'text', text: 'read' },
        { type: 'file', file: { filename: 'a.pdf', file_data: pdf } },
        { type: 'file', file: { file_id: 'file-1' } },
        { type: 'file', file: { filename: 'notes.md', file_data: 'IyBoaQ==' } },
        { type: 'input_audio', input_audio: { data: 'UklG', format: 'mp3' } },
        { type: 'video_url', video_url: { url: 'https://x/v.mp4' } },
      ] },
      { role: 'assistant', content: null, refusal: 'No.' },
      { role: 'assistant', content: null, function_call: { name: 'f', arguments: '{"a":1}' } },
      { role: 'function', name: 'f', content: 'done' },
      { role: 'user', content: [{ type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: 'JVBERi0x' }, title: 'd.pdf' }] },
    ],
    functions: [{ name: 'f', parameters: { type: 'object', properties: {} } }],
    function_call: { name: 'f' },
  })
  t.same(neutralProblems(out).filter((x) => !x.includes('video_url')), [], 'a valid neutral form (the unknown part aside)')
  t.strictSame(out, {
    model: 'm',
    stream: false,
    messages: [
      { role: 'user', content: [
        { type: 'text', text: 'read' },
        { type: 'file', file: { file_data: pdf, filename: 'a.pdf' }, media_type: 'application/pdf', at: 'messages[0].content[1]' },
        { type: 'file', file: { file_id: 'file-1' }, at: 'messages[0].content[2]' },
        { type: 'file', file: { file_data: 'IyBoaQ==', filename: 'notes.md' }, media_type: 'text/markdown', at: 'messages[0].content[3]' },
        { type: 'input_audio', input_audio: { data: 'UklG', format: 'mp3' }, at: 'messages[0].content[4]' },
        { type: 'video_url', video_url: { url: 'https://x/v.mp4' }, at: 'messages[0].content[5]' },
      ] },
      { role: 'assistant', content: 'No.' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_fn_2', type: 'function', function: { name: 'f', arguments: '{"a":1}' } }] },
      { role: 'tool', tool_call_id: 'call_fn_2', content: 'done' },
      { role: 'user', content: [
        { type: 'file', file: { file_data: 'data:application/pdf;base64,JVBERi0x', filename: 'd.pdf' }, media_type: 'application/pdf', at: 'messages[4].content[0]' },
      ] },
    ],
    tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object', properties: {} } } }],
    tool_choice: { type: 'function', function: { name: 'f' } },
  })
})

t.test('tool_choice in every dialect\'s spelling', async (t) => {
  const tools = [{ type: 'function', name: 'F' }, { type: 'custom', name: 'C' }]
  const cases: [unknown, unknown][] = [
    ['auto', 'auto'], ['none', 'none'], ['required', 'required'],
    [{ type: 'function', name: 'F' }, { type: 'function', function: { name: 'F' } }],
    [{ type: 'function', function: { name: 'F' } }, { type: 'function', function: { name: 'F' } }],
    [{ type: 'custom', name: 'C' }, { type: 'custom', custom: { name: 'C' } }],
    [{ type: 'custom', custom: { name: 'C' } }, { type: 'custom', custom: { name: 'C' } }],
    [{ type: 'tool', name: 'F' }, { type: 'function', function: { name: 'F' } }],
    [{ type: 'tool', name: 'C' }, { type: 'custom', custom: { name: 'C' } }],
    [{ type: 'auto' }, 'auto'], [{ type: 'any' }, 'required'], [{ type: 'none' }, 'none'],
    [{ type: 'allowed_tools', mode: 'auto', tools: [{ type: 'function', name: 'F' }, { type: 'custom', name: 'C' }] },
      { type: 'allowed_tools', allowed_tools: { mode: 'auto', tools: [{ type: 'function', function: { name: 'F' } }, { type: 'custom', custom: { name: 'C' } }] } }],
  ]
  for (const [given, want] of cases) {
    const out = await normalize({ model: 'm', input: 'x', tools, tool_choice: given })
    t.strictSame(out.tool_choice, want, JSON.stringify(given))
  }
  const anthropic = await normalize({ model: 'm', input: 'x', tools, tool_choice: { type: 'auto', disable_parallel_tool_use: true } })
  t.equal(anthropic.parallel_tool_calls, false, 'Anthropic disable_parallel_tool_use')
})

t.test('shapes with no neutral meaning are dropped, not passed on', async (t) => {
  const out = await normalize({
    model: 'm',
    input: [
      { role: 'user', content: [null, { type: 'input_text', text: 'ok' }] },
      { type: 'message', role: 'assistant', content: null },
      { type: 'web_search_call', id: 'ws_1', status: 'completed' },
      { role: 'user', content: null },
      { type: 'function_call', call_id: 'c1', name: 'F', arguments: '{}' },
      { type: 'function_call_output', output: 'no call_id' },
      { type: 'function_call_output', call_id: 'c1', output: 0 },
    ],
    tools: [{ type: 'web_search' }, { type: 'function', parameters: {} }, { type: 'function', name: 'F' }, 'junk'],
    tool_choice: { type: 'web_search' },
  })
  t.strictSame(out, {
    model: 'm',
    stream: false,
    messages: [
      { role: 'user', content: [{ type: 'text', text: 'ok' }] },
      { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'F', arguments: '{}' } }] },
      { role: 'tool', tool_call_id: 'c1', content: '0' },
    ],
    tools: [{ type: 'function', function: { name: 'F', parameters: { type: 'object', properties: {} } } }],
  })
})

t.test('reasoning precedence: reasoning.effort, then reasoning_effort (Q19)', async (t) => {
  const out = await normalize({ model: 'm', messages: [{ role: 'user', content: 'x' }], reasoning: { effort: 'high' }, reasoning_effort: 'low' })
  t.strictSame(out.reasoning, { effort: 'high' })
  const none = await normalize({ model: 'm', messages: [{ role: 'user', content: 'x' }], reasoning: null })
  t.notOk('reasoning' in none)
})

// ---- dialect C ----------------------------------------------------------------------------------

const hybrid = cursor('anthropic-model-hybrid-input')

function expectedHybrid(): any {
  const b = hybrid
  return {
    model: 'claude-sonnet-4-6',
    stream: true,
    messages: [
      { role: 'system', content: b.input[0].content },
      { role: 'user', content: [{ type: 'text', text: '<user_query>Why does `npm test` fail?</user_query>' }] },
      { role: 'assistant', content: 'Let me run the tests to see the failure.', tool_calls: [
        { id: 'toolu_01A9xQeP3mZ7LrKc2VbN8tYw', type: 'function',
          function: { name: 'run_terminal_cmd', arguments: JSON.stringify(b.input[2].content[1].input) } },
      ] },
      { role: 'tool', tool_call_id: 'toolu_01A9xQeP3mZ7LrKc2VbN8tYw', content: b.input[3].content[0].content[0].text },
      { role: 'assistant', content: null, tool_calls: [
        { id: 'toolu_01Bq5RtY8uI2oP4aS6dF9gHj', type: 'function', function: { name: 'read_file', arguments: '{"target_file":"src/log.ts"}' } },
      ] },
      { role: 'tool', tool_call_id: 'toolu_01Bq5RtY8uI2oP4aS6dF9gHj', content: b.input[5].content[0].content },
    ],
    tools: b.tools.map((x: any) => ({ type: 'function', function: { name: x.name, description: x.description, parameters: x.input_schema } })),
    tool_choice: 'auto',
    stream_options: { include_usage: true },
    user: '1d4c0b6e5f7a29c3b8e1f0a2d6c94e7b',
  }
}

t.test('C: Anthropic blocks in the `input` envelope, raw Anthropic tools', async (t) => {
  t.strictSame(await normalize(hybrid), expectedHybrid())
})

t.test('C: both envelopes, tool results only in `messages` (Q16)', async (t) => {
  const req = clone(hybrid)
  const lastResult = req.input.pop()   // the result of the read_file call now lives only in `messages`
  req.messages = [
    { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_01A9xQeP3mZ7LrKc2VbN8tYw', content: 'already answered in input' }] },
    lastResult,
    { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_unknown', content: 'no such call' }] },
  ]
  t.strictSame(await normalize(req), expectedHybrid())

  // the same with Responses items and a Chat tool message; the result goes after its run of calls
  const out = await normalize({
    model: 'claude-x',
    input: [
      { role: 'user', content: 'go' },
      { type: 'function_call', call_id: 'c1', name: 'A', arguments: '{}' },
      { type: 'function_call', call_id: 'c2', name: 'B', arguments: '{}' },
      { type: 'function_call_output', call_id: 'c2', output: 'b' },
      { role: 'user', content: 'and?' },
    ],
    messages: [{ role: 'tool', tool_call_id: 'c1', content: 'a' }],
  })
  t.strictSame(out.messages, [
    { role: 'user', content: [{ type: 'text', text: 'go' }] },
    { role: 'assistant', content: null, tool_calls: [
      { id: 'c1', type: 'function', function: { name: 'A', arguments: '{}' } },
      { id: 'c2', type: 'function', function: { name: 'B', arguments: '{}' } },
    ] },
    { role: 'tool', tool_call_id: 'c2', content: 'b' },
    { role: 'tool', tool_call_id: 'c1', content: 'a' },
    { role: 'user', content: [{ type: 'text', text: 'and?' }] },
  ])
})

t.test('C: the `messages` variant', async (t) => {
  const req = cursor('anthropic-model-messages-variant')
  t.strictSame(await normalize(req), {
    model: 'claude-opus-4-7',
    stream: true,
    messages: [
      { role: 'system', content: req.messages[0].content },
      { role: 'user', content: [{ type: 'text', text: '<user_query>List the files in src/</user_query>' }] },
      { role: 'assistant', content: null, tool_calls: [
        { id: 'toolu_01Cz2Wx4Ev6Rb8Tn0Ym1Ul3Ik', type: 'function', function: { name: 'list_dir', arguments: '{"target_directory":"src"}' } },
      ] },
      { role: 'tool', tool_call_id: 'toolu_01Cz2Wx4Ev6Rb8Tn0Ym1Ul3Ik', content: 'app.ts\nlog.ts\nserver.ts' },
      { role: 'user', content: [{ type: 'text', text: '<user_query>Which one configures logging?</user_query>' }] },
    ],
    tools: req.tools.map((x: any) => ({ type: 'function', function: { name: x.name, description: x.description, parameters: x.input_schema } })),
  })
})

t.test('C: images, thinking, parallel tool_use, results before text, top-level system', async (t) => {
  const schemaA = { type: 'object', properties: { target_file: { type: 'string' } } }
  const out = await normalize({
    model: 'claude-y',
    system: [{ type: 'text', text: 'Sys A' }, { type: 'text', text: 'Sys B' }],
    messages: [
      { role: 'user', content: [
        { type: 'text', text: 'see' },
        { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'AAAA' } },
        { type: 'image', source: { type: 'url', url: 'https://example.com/d.png' } },
      ] },
      { role: 'assistant', content: [
        { type: 'thinking', thinking: 'ponder', signature: 'sig' },
        { type: 'text', text: 'Two calls.' },
        { type: 'tool_use', id: 'toolu_1', name: 'read_file', input: { target_file: 'a' } },
        { type: 'tool_use', id: 'toolu_2', name: 'list_dir', input: {} },
      ] },
      { role: 'user', content: [
        { type: 'text', text: 'also this' },
        { type: 'tool_result', tool_use_id: 'toolu_1', content: [
          { type: 'text', text: 'file a' },
          { type: 'image', source: { type: 'base64', media_type: 'image/jpeg', data: 'BBBB' } },
        ] },
        { type: 'tool_result', tool_use_id: 'toolu_2', content: [{ type: 'text', text: 'x' }, { type: 'text', text: 'y' }], is_error: true },
      ] },
    ],
    tools: [
      { name: 'read_file', input_schema: schemaA },
      { type: 'custom', name: 'list_dir', description: 'd', input_schema: { type: 'object' } },
    ],
    tool_choice: { type: 'tool', name: 'read_file', disable_parallel_tool_use: true },
    max_tokens: 1024,
    stop_sequences: ['STOP'],
    top_k: 5,
  })
  t.strictSame(out, {
    model: 'claude-y',
    stream: false,
    messages: [
      { role: 'system', content: 'Sys A\n\nSys B' },
      { role: 'user', content: [
        { type: 'text', text: 'see' },
        { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA', detail: 'auto' } },
        { type: 'image_url', image_url: { url: 'https://example.com/d.png', detail: 'auto' } },
      ] },
      { role: 'assistant', content: 'Two calls.', reasoning_content: 'ponder', tool_calls: [
        { id: 'toolu_1', type: 'function', function: { name: 'read_file', arguments: '{"target_file":"a"}' } },
        { id: 'toolu_2', type: 'function', function: { name: 'list_dir', arguments: '{}' } },
      ] },
      // results first, in the client's order, then the text of the same user message
      { role: 'tool', tool_call_id: 'toolu_1', content: [
        { type: 'text', text: 'file a' },
        { type: 'image_url', image_url: { url: 'data:image/jpeg;base64,BBBB', detail: 'auto' } },
      ] },
      { role: 'tool', tool_call_id: 'toolu_2', content: 'xy' }, // joined with nothing, as the tool wrote it
      { role: 'user', content: [{ type: 'text', text: 'also this' }] },
    ],
    tools: [
      { type: 'function', function: { name: 'read_file', parameters: schemaA } },
      { type: 'function', function: { name: 'list_dir', description: 'd', parameters: { type: 'object' } } },
    ],
    tool_choice: { type: 'function', function: { name: 'read_file' } },
    parallel_tool_calls: false,
    max_completion_tokens: 1024,
    top_k: 5,
    stop: ['STOP'],
  })
})

// ---- the stream fixtures' requests ---------------------------------------------------------------

t.test('stream fixtures: tool results in both APIs normalize to the same conversation', async (t) => {
  const chat = await normalize(readJson(`${fixtures}streams/chat-completions/tool_result.request.json`))
  const resp = await normalize(readJson(`${fixtures}streams/responses/tool_result.request.json`))
  const shape = (o: any) => o.messages.map((m: any) => ({ ...m, ...(m.tool_calls && { tool_calls: m.tool_calls.map((c: any) => ({ ...c, id: 'x' })) }), ...(m.tool_call_id && { tool_call_id: 'x' }) }))
  t.strictSame(shape(chat), shape(resp))
  t.strictSame(chat.messages[2], { role: 'assistant', content: null, tool_calls: [
    { id: 'call_Zz2EyppryPkfCt0TkYEi20AQ', type: 'function', function: { name: 'get_weather', arguments: '{"location":"Paris, France","unit":"celsius"}' } },
  ] })
  t.strictSame(chat.tools, resp.tools)
  t.equal(resp.max_completion_tokens, undefined)
  t.equal((await normalize(readJson(`${fixtures}streams/responses/text.request.json`))).max_completion_tokens, 1024)
  t.equal((await normalize(readJson(`${fixtures}streams/chat-completions/reasoning_content.request.json`))).max_completion_tokens, 2048)
})

// Cost is counted in evaluated JSONata nodes (the engine's time limit is about 1 s of wall time;
// a node costs 0.5–1.5 µs once warm): deterministic, unlike timings on a shared or instrumented
// machine. Every step must stay linear in the history, with a bounded cost per item.
async function nodesOf(file: string, input: unknown): Promise<{ nodes: number; out: unknown }> {
  const e = jsonata(readFileSync(file, 'utf8'))
  for (const [name, [fn, signature]] of Object.entries(FUNCTIONS)) e.registerFunction(name, fn as never, signature)
  let nodes = 0
  e.assign(Symbol.for('jsonata.__evaluate_entry') as never, () => { nodes++ })
  const out = await e.evaluate(input, { request: input })
  return { nodes, out }
}

async function pipelineCost(req: any): Promise<{ perStep: Record<string, number>; out: any }> {
  let body: any = req
  const perStep: Record<string, number> = {}
  for (const step of pipeline) {
    if (!(await applies(step, body))) continue
    const r = await nodesOf(step.file, body)
    perStep[step.file.slice(rulesDir.length)] = r.nodes
    body = r.out
  }
  return { perStep, out: JSON.parse(JSON.stringify(body)) }
}

/** Dialect A: the full turn's agent loop repeated. */
function longResponses(turns: number): any {
  const req = clone(cursor('gpt5-agent-responses-full-turn'))
  const turn = req.input.slice(3, 11)
  for (let i = 0; i < turns; i++) {
    req.input.push(...turn.map((it: any) => (it.call_id ? { ...it, call_id: `${it.call_id}_${i}` } : it)))
  }
  return req
}

/** Dialect C, both envelopes: tool_use / tool_result turns in `input`, the last result in `messages`. */
function longAnthropic(turns: number): any {
  const req = clone(hybrid)
  const [use, result] = [req.input[2], req.input[3]]
  for (let i = 0; i < turns; i++) {
    const id = `toolu_${i}`
    req.input.push({ ...use, content: [use.content[0], { ...use.content[1], id }] })
    req.input.push({ ...result, content: [{ ...result.content[0], tool_use_id: id }] })
  }
  req.messages = [req.input.pop()]
  return req
}

t.test('long histories: every step is linear and cheap', async (t) => {
  // budgets per input item: a dialect-C item is a whole turn of blocks, and goes through three more steps
  for (const [name, build, messagesPerTurn, budget] of [['A', longResponses, 6, 250], ['C', longAnthropic, 2, 600]] as const) {
    const [small, large] = [build(20), build(80)]
    const [cs, cl] = [await pipelineCost(small), await pipelineCost(large)]
    t.equal(cl.out.messages.length - cs.out.messages.length, 60 * messagesPerTurn, `${name}: every turn kept`)
    t.same(neutralProblems(cl.out), [], `${name}: neutral`)
    const items = (r: any) => r.input.length + (r.messages?.length ?? 0)
    const growth = items(large) / items(small)
    for (const [step, nodes] of Object.entries(cl.perStep)) {
      t.ok(nodes / cs.perStep[step]! <= growth * 1.05,
        `${name} ${step}: linear (${cs.perStep[step]} → ${nodes} nodes for ×${growth.toFixed(1)} items)`)
    }
    const total = Object.values(cl.perStep).reduce((a, b) => a + b, 0)
    t.ok(total / items(large) < budget, `${name}: ${(total / items(large)).toFixed(0)} nodes per input item over the whole pipeline`)
  }
})
