// Nothing a Chat Completions client sends is lost silently on its way to an upstream, and nothing an
// upstream answers is lost on its way back (the hardening issue, items 9–12). Through the real server
// on the shipped rules, against a mock of each upstream: for each case the client's status and exactly
// what the upstream received (valid against the official schema, test/fixtures/specs).
//   9  file and audio parts: mapped where the upstream has an equivalent, else 400 naming the part
//   10 parameters without an equivalent: mapped, or 400 naming the parameter and the upstream
//   11 legacy function messages, refusals, a lone system message, tool results split into parts
//   12 a Responses tool call seen only in output_item.done; an upstream JSON body cut mid-way
import t, { type Test } from 'tap'
import type { ServerResponse } from 'node:http'
import { request } from 'undici'
import { SHIPPED_RULES } from '../helpers/pack.js'
import { transcript, type Api } from '../helpers/pack-upstream.js'
import { schema, explain } from '../helpers/schemas.js'
import { mockUpstream, parseSse, startEngine, type Engine, type Mock, type Seen } from '../helpers/server.js'

type Json = any

interface Up { api: Api; name: string; model: string; prefix: string; env: string; schema: ['openai' | 'anthropic' | 'gemini', string] }
const UPS: Record<'openai' | 'anthropic' | 'gemini' | 'compat', Up> = {
  openai: { api: 'responses', name: 'openai', model: 'gpt-5.5', prefix: '/openai', env: 'OPENAI_BASE_URL', schema: ['openai', 'CreateResponse'] },
  anthropic: { api: 'anthropic-messages', name: 'anthropic', model: 'claude-sonnet-4-6', prefix: '/anthropic', env: 'ANTHROPIC_BASE_URL', schema: ['anthropic', 'CreateMessageParams'] },
  gemini: { api: 'gemini', name: 'gemini', model: 'gemini-2.5-flash', prefix: '/gemini', env: 'GEMINI_BASE_URL', schema: ['gemini', 'GenerateContentRequest'] },
  compat: { api: 'chat-completions', name: 'openai-compat', model: 'deepseek-v4-pro', prefix: '/compat', env: 'OPENAI_COMPAT_BASE_URL', schema: ['openai', 'CreateChatCompletionRequest'] },
}
type UpName = keyof typeof UPS
const ALL: UpName[] = ['openai', 'anthropic', 'gemini', 'compat']

type Reply = (seen: Seen, res: ServerResponse) => void
/** What the mock answers: the `text` transcript of the upstream's API unless a test sets its own. */
let reply: Reply | null = null
let scenario = 'text'

let mock: Mock
let engine: Engine
const saved: Record<string, string | undefined> = {}

t.before(async () => {
  for (const u of Object.values(UPS)) schema(...u.schema)
  mock = await mockUpstream((seen, res) => {
    if (reply) return reply(seen, res)
    const up = Object.values(UPS).find((u) => seen.url.startsWith(u.prefix + '/'))!
    const streaming = up.api === 'gemini' ? seen.url.includes(':streamGenerateContent') : seen.json?.stream === true
    res.writeHead(200, { 'content-type': streaming ? 'text/event-stream' : 'application/json' })
      .end(transcript(up.api, `${scenario}.${streaming ? 'sse' : 'response.json'}`))
  })
  for (const u of Object.values(UPS)) { saved[u.env] = process.env[u.env]; process.env[u.env] = mock.url + u.prefix }
  engine = await startEngine(SHIPPED_RULES)
})
t.teardown(async () => {
  await engine?.close()
  await mock?.close()
  for (const [k, v] of Object.entries(saved)) { if (v === undefined) delete process.env[k]; else process.env[k] = v }
})
t.beforeEach(() => { reply = null; scenario = 'text' })

interface Call { status: number; json: Json; frames: Json[]; upstream?: Json; url?: string }

/** One client request to `up` (its model unless the body names one); what came back and what the upstream got. */
async function call(up: UpName, body: Json, path = '/v1/chat/completions'): Promise<Call> {
  const before = mock.seen.length
  const r = await request(engine.url + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: UPS[up].model, ...body }),
  })
  const text = await r.body.text()
  let json: Json
  try { json = JSON.parse(text) } catch { json = undefined }
  const seen = mock.seen.slice(before)
  return { status: r.statusCode, json, frames: parseSse(text).frames, upstream: seen[0]?.json, url: seen[0]?.url }
}

/** The upstream request is valid for the upstream's official schema. */
function valid(t: Test, up: UpName, body: Json): void {
  const v = schema(...UPS[up].schema)
  t.ok(v(body), `the ${UPS[up].name} request validates against ${UPS[up].schema.join(' ')}${v(body) ? '' : `\n${explain(v)}`}`)
}

/** A 400 that names the parameter (or part) and the upstream, with no upstream call made. */
function refused(t: Test, r: Call, up: UpName, param: string, says: RegExp): void {
  t.same(
    { status: r.status, param: r.json?.error?.param, type: r.json?.error?.type, upstreamCalled: r.upstream !== undefined },
    { status: 400, param, type: 'invalid_request_error', upstreamCalled: false },
    `400 naming ${param}, before any upstream call`,
  )
  t.match(r.json?.error?.message, says, 'the message says what')
  t.match(r.json?.error?.message, new RegExp(`'${UPS[up].name}'`), 'the message names the upstream')
}

const PDF = 'JVBERi0xLjQKJcfsj6IKJSVFT0YK' // "%PDF-1.4\n%…\n%%EOF\n"
const WAV = 'UklGRiQAAABXQVZFZm10IBAAAAABAAEA'
const pdfPart = (name: string) => ({ type: 'file', file: { filename: name, file_data: `data:application/pdf;base64,${PDF}` } })

// ---------------------------------------------------------------------------------------------
// 9. File and audio parts
// ---------------------------------------------------------------------------------------------

t.test('9: a PDF file part reaches every upstream, also in a message holding only the PDF', async (t) => {
  const messages = [
    { role: 'user', content: [{ type: 'text', text: 'Summarise this.' }, pdfPart('a.pdf')] },
    { role: 'assistant', content: 'It is empty.' },
    { role: 'user', content: [pdfPart('b.pdf')] },
  ]
  const want: Record<UpName, (u: Json) => [unknown, unknown]> = {
    openai: (u) => [u.input, [
      { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'Summarise this.' }, { type: 'input_file', filename: 'a.pdf', file_data: `data:application/pdf;base64,${PDF}` }] },
      { type: 'message', role: 'assistant', content: 'It is empty.' },
      { type: 'message', role: 'user', content: [{ type: 'input_file', filename: 'b.pdf', file_data: `data:application/pdf;base64,${PDF}` }] },
    ]],
    anthropic: (u) => [u.messages, [
      { role: 'user', content: [{ type: 'text', text: 'Summarise this.' }, { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: PDF }, title: 'a.pdf' }] },
      { role: 'assistant', content: [{ type: 'text', text: 'It is empty.' }] },
      { role: 'user', content: [{ type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: PDF }, title: 'b.pdf' }] },
    ]],
    gemini: (u) => [u.contents, [
      { role: 'user', parts: [{ text: 'Summarise this.' }, { inlineData: { mimeType: 'application/pdf', data: PDF } }] },
      { role: 'model', parts: [{ text: 'It is empty.' }] },
      { role: 'user', parts: [{ inlineData: { mimeType: 'application/pdf', data: PDF } }] },
    ]],
    compat: (u) => [u.messages, [
      { role: 'user', content: [{ type: 'text', text: 'Summarise this.' }, pdfPart('a.pdf')] },
      { role: 'assistant', content: 'It is empty.' },
      { role: 'user', content: [pdfPart('b.pdf')] },
    ]],
  }
  for (const up of ALL) {
    await t.test(up, async (t) => {
      const r = await call(up, { messages })
      t.equal(r.status, 200)
      const [got, expected] = want[up](r.upstream) as [unknown, unknown]
      t.same(got, expected, 'the upstream got both PDFs, the PDF-only message included')
      valid(t, up, r.upstream)
    })
  }
})

t.test('9: an input_audio part goes to Gemini (inlineData) and Chat servers; Responses and Anthropic answer 400 naming it', async (t) => {
  const messages = [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: [{ type: 'text', text: 'What is said?' }, { type: 'input_audio', input_audio: { data: WAV, format: 'wav' } }] },
  ]
  for (const up of ['openai', 'anthropic'] as const) {
    await t.test(up, async (t) => refused(t, await call(up, { messages }), up, 'messages[1].content[1]', /input_audio/))
  }
  await t.test('gemini', async (t) => {
    const r = await call('gemini', { messages })
    t.equal(r.status, 200)
    t.same(r.upstream.contents, [{ role: 'user', parts: [{ text: 'What is said?' }, { inlineData: { mimeType: 'audio/wav', data: WAV } }] }])
    valid(t, 'gemini', r.upstream)
  })
  await t.test('compat', async (t) => {
    const r = await call('compat', { messages })
    t.equal(r.status, 200)
    t.same(r.upstream.messages[1], messages[1], 'passed on as sent')
    valid(t, 'compat', r.upstream)
  })
})

t.test('9: the part a 400 names is where the client put it, in a Responses-shaped body too', async (t) => {
  const input = [
    { role: 'user', content: [{ type: 'input_text', text: 'Listen.' }] },
    { role: 'user', content: [{ type: 'input_text', text: 'And this:' }, { type: 'input_audio', input_audio: { data: WAV, format: 'mp3' } }] },
  ]
  refused(t, await call('anthropic', { input }), 'anthropic', 'input[1].content[1]', /input_audio/)
  refused(t, await call('openai', { input }), 'openai', 'input[1].content[1]', /input_audio/)
})

t.test('9: Responses input_file and a file in a tool result reach Anthropic as document blocks', async (t) => {
  const input = [
    { role: 'user', content: [{ type: 'input_file', filename: 'spec.pdf', file_data: `data:application/pdf;base64,${PDF}` }] },
    { type: 'function_call', call_id: 'call_1', name: 'Fetch', arguments: '{}' },
    { type: 'function_call_output', call_id: 'call_1', output: [{ type: 'input_text', text: 'Fetched:' }, { type: 'input_file', filename: 'out.pdf', file_data: `data:application/pdf;base64,${PDF}` }] },
  ]
  const r = await call('anthropic', { input, tools: [{ type: 'function', name: 'Fetch', parameters: { type: 'object', properties: {} } }] })
  t.equal(r.status, 200)
  const doc = (title: string) => ({ type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: PDF }, title })
  t.same(r.upstream.messages, [
    { role: 'user', content: [doc('spec.pdf')] },
    { role: 'assistant', content: [{ type: 'tool_use', id: 'call_1', name: 'Fetch', input: {} }] },
    { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'call_1', content: [{ type: 'text', text: 'Fetched:' }, doc('out.pdf')] }] },
  ])
  valid(t, 'anthropic', r.upstream)
})

t.test('9: files an upstream cannot take are a 400 naming the part and why', async (t) => {
  const byId = [{ role: 'user', content: [{ type: 'text', text: 'Read it.' }, { type: 'file', file: { file_id: 'file-abc123' } }] }]
  refused(t, await call('anthropic', { messages: byId }), 'anthropic', 'messages[0].content[1]', /file_id/)
  refused(t, await call('gemini', { messages: byId }), 'gemini', 'messages[0].content[1]', /file_id/)
  const idToOpenai = await call('openai', { messages: byId })
  t.equal(idToOpenai.status, 200)
  t.same(idToOpenai.upstream.input[0].content[1], { type: 'input_file', file_id: 'file-abc123' }, 'an OpenAI file id goes to OpenAI')
  const idToCompat = await call('compat', { messages: byId })
  t.same(idToCompat.upstream.messages[0].content[1], byId[0]!.content[1], 'and to a Chat server, as sent')

  const csv = [{ role: 'user', content: [{ type: 'file', file: { filename: 'a.csv', file_data: 'data:text/csv;base64,YSxiCjEsMgo=' } }] }]
  refused(t, await call('anthropic', { messages: csv }), 'anthropic', 'messages[0].content[0]', /text\/csv/)
  const csvToGemini = await call('gemini', { messages: csv })
  t.same(csvToGemini.upstream.contents[0].parts, [{ inlineData: { mimeType: 'text/csv', data: 'YSxiCjEsMgo=' } }], 'Gemini takes any type inline')

  const video = [{ role: 'user', content: [{ type: 'video_url', video_url: { url: 'https://example.com/v.mp4' } }] }]
  for (const up of ['openai', 'anthropic', 'gemini'] as const) refused(t, await call(up, { messages: video }), up, 'messages[0].content[0]', /video_url/)
  const videoToCompat = await call('compat', { messages: video })
  t.same(videoToCompat.upstream.messages[0].content, video[0]!.content, 'a Chat server gets a part type it may know, as sent')
})

// ---------------------------------------------------------------------------------------------
// 10. Parameters without an equivalent
// ---------------------------------------------------------------------------------------------

const hello = [{ role: 'user', content: 'Hello' }]

t.test('10: n > 1 is a 400 where the upstream (or the stream translation) gives one choice; mapped elsewhere', async (t) => {
  refused(t, await call('openai', { messages: hello, n: 2 }), 'openai', 'n', /\bn\b.*2|choices/)
  refused(t, await call('anthropic', { messages: hello, n: 2 }), 'anthropic', 'n', /\bn\b.*2|choices/)
  refused(t, await call('gemini', { messages: hello, n: 2, stream: true }), 'gemini', 'n', /stream/)
  refused(t, await call('compat', { messages: hello, n: 2, stream: true }), 'compat', 'n', /stream/)

  const gemini = await call('gemini', { messages: hello, n: 2 })
  t.equal(gemini.status, 200)
  t.equal(gemini.upstream.generationConfig.candidateCount, 2, 'Gemini: candidateCount')
  const compat = await call('compat', { messages: hello, n: 2 })
  t.equal(compat.status, 200)
  t.equal(compat.upstream.n, 2, 'a Chat server: n')

  for (const up of ALL) {
    const one = await call(up, { messages: hello, n: 1, stream: true })
    t.equal(one.status, 200, `${up}: n: 1 is no problem`)
  }
})

t.test('10: stop on Responses is a 400; seed is a declared drop on Responses and Anthropic', async (t) => {
  refused(t, await call('openai', { messages: hello, stop: ['END'] }), 'openai', 'stop', /stop/)
  refused(t, await call('openai', { messages: hello, stop: 'END' }), 'openai', 'stop', /stop/)
  t.equal((await call('openai', { messages: hello, stop: [] })).status, 200, 'an empty stop list asks for nothing')
  refused(t, await call('openai', { messages: hello, stop_sequences: ['END'] }), 'openai', 'stop_sequences', /stop_sequences/)

  // seed: declared under drops: in rules/30-chat.yaml (lint checks it on rules/examples/*/seed-*.yaml)
  for (const up of ['openai', 'anthropic'] as const) {
    const r = await call(up, { messages: hello, seed: 42 })
    t.same({ status: r.status, seed: r.upstream?.seed }, { status: 200, seed: undefined }, `${up}: seed left out (declared)`)
  }
  const gemini = await call('gemini', { messages: hello, seed: 42 })
  t.equal(gemini.upstream.generationConfig.seed, 42, 'Gemini: seed mapped')
})

t.test('10: response_format json_object on Anthropic is a 400 pointing to json_schema', async (t) => {
  refused(t, await call('anthropic', { messages: hello, response_format: { type: 'json_object' } }), 'anthropic', 'response_format', /json_schema/)
  const schemaFormat = await call('anthropic', { messages: hello, response_format: { type: 'json_schema', json_schema: { name: 'x', schema: { type: 'object', properties: {}, additionalProperties: false } } } })
  t.equal(schemaFormat.status, 200)
  t.same(schemaFormat.upstream.output_config.format, { type: 'json_schema', schema: { type: 'object', properties: {}, additionalProperties: false } })
})

t.test('10: parallel_tool_calls false on Gemini: the client gets one call per turn', async (t) => {
  const tools = ['get_weather', 'get_local_time'].map((name) => ({ type: 'function', function: { name, parameters: { type: 'object', properties: {} } } }))
  const messages = [{ role: 'user', content: 'Weather in Paris and time in Tokyo?' }]
  scenario = 'parallel_tool_calls'
  const both = await call('gemini', { messages, tools })
  t.equal(both.json.choices[0].message.tool_calls.length, 2, 'without it, both calls')

  const body = await call('gemini', { messages, tools, parallel_tool_calls: false })
  t.equal(body.status, 200)
  t.same(body.json.choices[0].message.tool_calls.map((c: Json) => c.function.name), ['get_weather'], 'JSON reply: the first call only')
  t.equal(body.json.choices[0].finish_reason, 'tool_calls')

  const stream = await call('gemini', { messages, tools, parallel_tool_calls: false, stream: true })
  t.equal(stream.status, 200)
  const calls = stream.frames.flatMap((f: Json) => f?.choices?.[0]?.delta?.tool_calls ?? [])
  t.same([...new Set(calls.map((c: Json) => c.index))], [0], 'stream: one call index')
  t.same(calls.filter((c: Json) => c.id).map((c: Json) => c.function.name), ['get_weather'], 'stream: the first call only')
  t.equal(stream.frames.find((f: Json) => f?.choices?.[0]?.finish_reason)?.choices[0].finish_reason, 'tool_calls')
})

// ---------------------------------------------------------------------------------------------
// 11. Message forms the Chat spec allows
// ---------------------------------------------------------------------------------------------

t.test('11: the deprecated function_call and role "function" reach every upstream as a call and its result', async (t) => {
  const body = {
    messages: [
      { role: 'user', content: 'Weather in Paris?' },
      { role: 'assistant', content: null, function_call: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
      { role: 'function', name: 'get_weather', content: '{"temp":21}' },
    ],
    functions: [{ name: 'get_weather', description: 'Weather now', parameters: { type: 'object', properties: { city: { type: 'string' } } } }],
    function_call: 'auto',
  }
  const checks: Record<UpName, (u: Json) => void> = {
    openai: (u) => {
      const call = u.input.find((i: Json) => i.type === 'function_call')
      t.match(call, { name: 'get_weather', arguments: '{"city":"Paris"}' })
      t.same(u.input.find((i: Json) => i.type === 'function_call_output'), { type: 'function_call_output', call_id: call?.call_id, output: '{"temp":21}' })
      t.same(u.tools?.map((x: Json) => x.name), ['get_weather'])
      t.equal(u.tool_choice, 'auto')
    },
    anthropic: (u) => {
      const use = u.messages[1]?.content?.[0]
      t.match(u.messages[1], { role: 'assistant', content: [{ type: 'tool_use', name: 'get_weather', input: { city: 'Paris' } }] })
      t.same(u.messages[2], { role: 'user', content: [{ type: 'tool_result', tool_use_id: use?.id, content: '{"temp":21}' }] })
      t.same(u.tools?.map((x: Json) => x.name), ['get_weather'])
    },
    gemini: (u) => {
      t.same(u.contents.slice(1), [
        { role: 'model', parts: [{ functionCall: { name: 'get_weather', args: { city: 'Paris' } } }] },
        { role: 'user', parts: [{ functionResponse: { name: 'get_weather', response: { temp: 21 } } }] },
      ])
      t.same(u.tools?.[0]?.functionDeclarations?.map((x: Json) => x.name), ['get_weather'])
    },
    compat: (u) => {
      const id = u.messages[1]?.tool_calls?.[0]?.id
      t.match(u.messages[1], { role: 'assistant', tool_calls: [{ type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] })
      t.same(u.messages[2], { role: 'tool', tool_call_id: id, content: '{"temp":21}' })
      t.ok(typeof id === 'string' && id.length > 0, 'the call has an id')
      t.same(u.tools?.map((x: Json) => x.function.name), ['get_weather'])
    },
  }
  for (const up of ALL) {
    await t.test(up, async (t) => {
      const r = await call(up, body)
      t.equal(r.status, 200)
      checks[up](r.upstream)
      valid(t, up, r.upstream)
    })
  }
})

t.test('11: an assistant turn with content null and a refusal stays in the history', async (t) => {
  const messages = [
    { role: 'user', content: 'Do the bad thing.' },
    { role: 'assistant', content: null, refusal: "I can't help with that." },
    { role: 'user', content: 'Then tell me a joke.' },
  ]
  const a = await call('anthropic', { messages })
  t.same(a.upstream.messages, [
    { role: 'user', content: [{ type: 'text', text: 'Do the bad thing.' }] },
    { role: 'assistant', content: [{ type: 'text', text: "I can't help with that." }] },
    { role: 'user', content: [{ type: 'text', text: 'Then tell me a joke.' }] },
  ], 'Anthropic: user, assistant, user')
  valid(t, 'anthropic', a.upstream)
  const o = await call('openai', { messages: [messages[0], { role: 'assistant', content: [{ type: 'refusal', refusal: 'No.' }] }, messages[2]] })
  t.same(o.upstream.input[1], { type: 'message', role: 'assistant', content: 'No.' }, 'Responses: a refusal part is the assistant text')
  valid(t, 'openai', o.upstream)
})

t.test('11: a request holding only a system message reaches Anthropic as one user turn', async (t) => {
  const r = await call('anthropic', { messages: [{ role: 'system', content: 'Say hi in French.' }] })
  t.equal(r.status, 200)
  t.same({ system: r.upstream.system, messages: r.upstream.messages }, {
    system: undefined,
    messages: [{ role: 'user', content: [{ type: 'text', text: 'Say hi in French.' }] }],
  })
  valid(t, 'anthropic', r.upstream)
})

t.test('11: tool-result text parts reach every upstream unchanged (joined with nothing)', async (t) => {
  const messages = [
    { role: 'user', content: 'Read a.txt' },
    { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'ReadFile', arguments: '{"path":"a.txt"}' } }] },
    { role: 'tool', tool_call_id: 'call_1', content: [{ type: 'text', text: 'line 1\n' }, { type: 'text', text: 'line 2\n' }] },
  ]
  const tools = [{ type: 'function', function: { name: 'ReadFile', parameters: { type: 'object', properties: { path: { type: 'string' } } } } }]
  const output: Record<UpName, (u: Json) => unknown> = {
    openai: (u) => u.input.find((i: Json) => i.type === 'function_call_output')?.output,
    anthropic: (u) => u.messages[2].content[0].content,
    gemini: (u) => u.contents[2].parts[0].functionResponse.response.result,
    compat: (u) => u.messages[2].content,
  }
  for (const up of ALL) {
    const r = await call(up, { messages, tools })
    t.equal(output[up](r.upstream), 'line 1\nline 2\n', `${up}: the tool's output as it was`)
    valid(t, up, r.upstream)
  }
})

// ---------------------------------------------------------------------------------------------
// 12. Stream and reply edge cases
// ---------------------------------------------------------------------------------------------

const sse = (events: Json[]) => events.map((e) => `event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`).join('')

t.test('12: a Responses tool call seen only in output_item.done reaches the client whole', async (t) => {
  const item = { id: 'fc_1', type: 'function_call', status: 'completed', call_id: 'call_only_done', name: 'ReadFile', arguments: '{"path":"a.txt"}' }
  reply = (_seen, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' }).end(sse([
      { type: 'response.created', response: { id: 'resp_1', status: 'in_progress', output: [] } },
      { type: 'response.output_item.done', output_index: 0, item },
      { type: 'response.completed', response: { id: 'resp_1', status: 'completed', output: [item], usage: { input_tokens: 5, output_tokens: 3, total_tokens: 8 } } },
    ]))
  }
  const r = await call('openai', { messages: [{ role: 'user', content: 'Read a.txt' }], stream: true })
  t.equal(r.status, 200)
  const deltas = r.frames.flatMap((f: Json) => f?.choices?.[0]?.delta?.tool_calls ?? [])
  t.same(
    { id: deltas.find((d: Json) => d.id)?.id, name: deltas.map((d: Json) => d.function?.name ?? '').join(''), arguments: deltas.map((d: Json) => d.function?.arguments ?? '').join('') },
    { id: 'call_only_done', name: 'ReadFile', arguments: '{"path":"a.txt"}' },
    'the call, with its id, name and arguments',
  )
  t.equal(r.frames.find((f: Json) => f?.choices?.[0]?.finish_reason)?.choices[0].finish_reason, 'tool_calls')
})

t.test('12: an upstream JSON body cut mid-way is a 502 upstream failure, not a 500', async (t) => {
  const body = transcript('responses', 'text.response.json')
  reply = (_seen, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) })
    res.write(body.slice(0, 40), () => res.destroy())
  }
  const r = await call('openai', { messages: hello })
  t.same({ status: r.status, type: r.json?.error?.type }, { status: 502, type: 'upstream_error' })
  t.match(r.json?.error?.message, /upstream 'openai'.*(closed|broke)/, 'says the upstream broke off')

  reply = (_seen, res) => {
    res.writeHead(500, { 'content-type': 'application/json', 'content-length': '100' })
    res.write('{"error":{"message":"boo', () => res.destroy())
  }
  const e = await call('openai', { messages: hello })
  t.same({ status: e.status, type: e.json?.error?.type }, { status: 502, type: 'upstream_error' }, 'an error body cut mid-way too')
})
