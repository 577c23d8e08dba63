// The scripted agent upstreams (test/helpers/agent-upstreams.ts) answer as the real APIs do: every body,
// stream event and error body validates against that API's official schema (wire set), the framing is
// the API's own, and a client reading the answer finds the tool call that reads the file (picked from
// the tools offered) on the first turn and the tool result quoted on the next. Anthropic and Responses
// are fed the requests Claude Code and Codex really sent (test/fixtures/agents/).
import t, { type Test } from 'tap'
import { readFileSync } from 'node:fs'
import { fetch } from 'undici'
import { QUOTE_PREFIX, startAgentUpstream, type AgentApi, type AgentUpstream } from '../../helpers/agent-upstreams.js'
import { explain, schema, type SchemaApi } from '../../helpers/schemas.js'

const captured = (path: string) => JSON.parse(readFileSync(new URL(`../../fixtures/agents/${path}`, import.meta.url), 'utf8')).body

const FILE = '/work/dir/hello.txt'
const RESULT = 'hello-0123456789abcdef'

/** A request offering a file-reading tool, and the next one carrying its result, per API. */
const CONVERSATIONS: Record<AgentApi, { first: any; second: any; tool: string; args: Record<string, unknown> }> = {
  anthropic: {
    first: captured('claude-code/01-first-turn.request.json'),
    second: (() => {
      const body = captured('claude-code/02-tool-result-turn.request.json')
      body.messages.at(-1).content[0].content = `1\t${RESULT}\n2\t`
      return body
    })(),
    tool: 'Read',
    args: { file_path: FILE },
  },
  responses: {
    first: captured('codex/01-first-turn.request.json'),
    second: (() => {
      const body = captured('codex/02-function-call-output-turn.request.json')
      body.input.at(-1).output = `Process exited with code 0\nOutput:\n${RESULT}\n`
      return body
    })(),
    tool: 'exec_command',
    args: { cmd: 'cat hello.txt', workdir: '/work/dir' },
  },
  gemini: {
    first: {
      contents: [{ role: 'user', parts: [{ text: 'What does hello.txt say?' }] }],
      tools: [{ functionDeclarations: [{ name: 'view_image', parameters: { type: 'object' } }, { name: 'exec_command', parameters: { type: 'object' } }] }],
    },
    second: {
      contents: [
        { role: 'user', parts: [{ text: 'What does hello.txt say?' }] },
        { role: 'model', parts: [{ functionCall: { name: 'exec_command', args: { cmd: 'cat hello.txt' } } }] },
        { role: 'user', parts: [{ functionResponse: { name: 'exec_command', response: { output: RESULT } } }] },
      ],
    },
    tool: 'exec_command',
    args: { cmd: 'cat hello.txt', workdir: '/work/dir' },
  },
  chat: {
    first: {
      model: 'qwen3-coder',
      messages: [{ role: 'user', content: 'What does hello.txt say?' }],
      // Continue CLI's Read, whose path parameter is filepath (Claude Code's is file_path)
      tools: [
        { type: 'function', function: { name: 'List', parameters: { type: 'object', required: ['dirpath'], properties: { dirpath: { type: 'string' } } } } },
        { type: 'function', function: { name: 'Read', parameters: { type: 'object', required: ['filepath'], properties: { filepath: { type: 'string' } } } } },
      ],
    },
    second: {
      model: 'qwen3-coder',
      messages: [
        { role: 'user', content: 'What does hello.txt say?' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'Read', arguments: '{}' } }] },
        { role: 'tool', tool_call_id: 'call_1', content: [{ type: 'text', text: RESULT }] },
      ],
    },
    tool: 'Read',
    args: { filepath: FILE },
  },
}

/** Each API's URL for a model call, and its schemas (wire set: what the real API sends). */
const API: Record<AgentApi, { path: (stream: boolean) => string; streamField: boolean; schemas: [SchemaApi, string, string, string] }> = {
  anthropic: { path: () => '/v1/messages?beta=true', streamField: true, schemas: ['anthropic', 'Message', 'SSEEvent', 'ErrorResponse'] },
  responses: { path: () => '/v1/responses', streamField: true, schemas: ['openai', 'Response', 'ResponseStreamEvent', 'ErrorResponse'] },
  gemini: {
    path: (stream) => (stream ? '/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse' : '/v1beta/models/gemini-2.5-pro:generateContent'),
    streamField: false,
    schemas: ['gemini', 'GenerateContentResponse', 'GenerateContentResponse', 'ErrorResponse'],
  },
  chat: { path: () => '/v1/chat/completions', streamField: true, schemas: ['openai', 'CreateChatCompletionResponse', 'CreateChatCompletionStreamResponse', 'ErrorResponse'] },
}

interface Read { call?: { name: string; args: unknown }; text: string; problems: string[] }

/** SSE blocks as {event, data}; Gemini frames end in CRLF pairs, the others in LF pairs. */
function frames(text: string, api: AgentApi, problems: string[]): { event?: string; data: string }[] {
  const sep = api === 'gemini' ? '\r\n\r\n' : '\n\n'
  if (!text.endsWith(sep)) problems.push(`the stream does not end with ${JSON.stringify(sep)}`)
  return text.split(sep).filter(Boolean).map((block) => {
    const lines = block.split(api === 'gemini' ? '\r\n' : '\n')
    const event = lines.find((l) => l.startsWith('event: '))?.slice(7)
    return { event, data: lines.filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n') }
  })
}

/** What a client of the API reads from a reply, and everything that breaks the API's contract. */
function read(api: AgentApi, stream: boolean, text: string): Read {
  const problems: string[] = []
  const [sApi, bodyName, eventName] = API[api].schemas
  const check = (name: string, value: unknown, what: string) => {
    const v = schema(sApi, name, 'wire')
    if (!v(value)) problems.push(`${what}: ${JSON.stringify(value).slice(0, 200)}\n${explain(v)}`)
  }
  if (!stream) {
    const body = JSON.parse(text)
    check(bodyName, body, 'body')
    return { ...fromBody(api, body), problems }
  }
  const fs = frames(text, api, problems)
  if (api === 'chat') {
    if (fs.at(-1)?.data !== '[DONE]') problems.push('no [DONE] at the end')
    fs.pop()
  }
  const events = fs.map((f, i) => {
    const e = JSON.parse(f.data)
    check(eventName, e, `event ${i}`)
    if (api === 'anthropic' || api === 'responses') {
      if (f.event !== e.type) problems.push(`event ${i}: the event: line says ${f.event}, the data ${e.type}`)
    } else if (f.event !== undefined) problems.push(`event ${i}: an event: line ${f.event}`)
    if (api === 'responses' && e.sequence_number !== i) problems.push(`event ${i}: sequence_number ${e.sequence_number}`)
    return e
  })
  return { ...fromEvents(api, events, problems), problems }
}

function fromBody(api: AgentApi, b: any): Omit<Read, 'problems'> {
  switch (api) {
    case 'anthropic': {
      const use = b.content.find((c: any) => c.type === 'tool_use')
      return { call: use && { name: use.name, args: use.input }, text: b.content.filter((c: any) => c.type === 'text').map((c: any) => c.text).join('') }
    }
    case 'responses': {
      const fc = b.output.find((i: any) => i.type === 'function_call')
      return { call: fc && { name: fc.name, args: JSON.parse(fc.arguments) }, text: b.output.filter((i: any) => i.type === 'message').flatMap((i: any) => i.content).map((c: any) => c.text).join('') }
    }
    case 'gemini': {
      const parts = b.candidates[0].content.parts
      const fc = parts.find((p: any) => p.functionCall)?.functionCall
      return { call: fc && { name: fc.name, args: fc.args }, text: parts.filter((p: any) => p.text && !p.thought).map((p: any) => p.text).join('') }
    }
    case 'chat': {
      const m = b.choices[0].message
      const tc = m.tool_calls?.[0]
      return { call: tc && { name: tc.function.name, args: JSON.parse(tc.function.arguments) }, text: m.content ?? '' }
    }
  }
}

function fromEvents(api: AgentApi, events: any[], problems: string[]): Omit<Read, 'problems'> {
  switch (api) {
    case 'anthropic': {
      const blocks: any[] = []
      for (const e of events) {
        if (e.type === 'content_block_start') blocks[e.index] = { ...e.content_block, json: '' }
        if (e.type === 'content_block_delta') {
          const b = blocks[e.index]
          if (e.delta.type === 'text_delta') b.text += e.delta.text
          if (e.delta.type === 'input_json_delta') b.json += e.delta.partial_json
          if (e.delta.type === 'thinking_delta') b.thinking += e.delta.thinking
          if (e.delta.type === 'signature_delta') b.signature += e.delta.signature
        }
      }
      if (events.at(-1)?.type !== 'message_stop') problems.push('the last event is not message_stop')
      const stop = events.find((e) => e.type === 'message_delta')?.delta.stop_reason
      const use = blocks.find((b) => b.type === 'tool_use')
      if ((stop === 'tool_use') !== Boolean(use)) problems.push(`stop_reason ${stop} with${use ? '' : 'out'} a tool_use block`)
      if (blocks.some((b) => b.type === 'thinking' && !b.signature)) problems.push('a thinking block without a signature')
      return { call: use && { name: use.name, args: JSON.parse(use.json) }, text: blocks.filter((b) => b.type === 'text').map((b) => b.text).join('') }
    }
    case 'responses': {
      const done = events.filter((e) => e.type === 'response.output_item.done').map((e) => e.item)
      const completed = events.at(-1)
      if (completed?.type !== 'response.completed' || !completed.response.id || typeof completed.response.usage?.total_tokens !== 'number') problems.push('no response.completed with an id and usage.total_tokens at the end')
      const added = events.filter((e) => e.type === 'response.output_item.added').length
      if (added !== done.length) problems.push(`${added} items added, ${done.length} done`)
      for (const item of done.filter((i) => i.type === 'function_call')) {
        const deltas = events.filter((e) => e.type === 'response.function_call_arguments.delta' && e.item_id === item.id).map((e) => e.delta).join('')
        if (deltas !== item.arguments) problems.push(`argument deltas ${deltas} ≠ the done item's ${item.arguments}`)
      }
      return fromBody(api, { output: done })
    }
    case 'gemini': {
      const parts = events.flatMap((e) => e.candidates[0].content.parts)
      if (!events.at(-1)?.candidates[0].finishReason) problems.push('the last chunk has no finishReason')
      return fromBody(api, { candidates: [{ content: { parts } }] })
    }
    case 'chat': {
      let text = ''
      let call: { name: string; args: string } | undefined
      for (const e of events) {
        for (const c of e.choices) {
          if (typeof c.delta.content === 'string') text += c.delta.content
          for (const tc of c.delta.tool_calls ?? []) {
            if (tc.function?.name) call = { name: tc.function.name, args: '' }
            if (tc.function?.arguments) call!.args += tc.function.arguments
          }
        }
      }
      return { call: call && { name: call.name, args: JSON.parse(call.args) }, text }
    }
  }
}

async function post(mock: AgentUpstream, stream: boolean, body: any) {
  const api = API[mock.api]
  const sent = api.streamField ? { ...body, stream } : body
  const r = await fetch(mock.origin + api.path(stream), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(sent) })
  return { status: r.status, type: r.headers.get('content-type'), headers: r.headers, text: await r.text() }
}

for (const api of ['anthropic', 'responses', 'gemini', 'chat'] as const) {
  t.test(`the ${api} mock`, async (t) => {
    const mock = await startAgentUpstream(api)
    t.teardown(() => mock.close())
    mock.file = FILE
    const conv = CONVERSATIONS[api]

    for (const stream of [true, false]) {
      const what = stream ? 'streaming' : 'non-streaming'
      t.test(`${what}: a tool call, then the result quoted`, async (t: Test) => {
        const first = await post(mock, stream, conv.first)
        t.equal(first.status, 200)
        t.equal(first.type, stream ? 'text/event-stream' : 'application/json')
        const one = read(api, stream, first.text)
        t.same(one.problems, [], 'valid, framed as the API frames it')
        t.same(one.call, { name: conv.tool, args: conv.args }, 'asks to read the file with the tool it knows')
        const second = await post(mock, stream, conv.second)
        const two = read(api, stream, second.text)
        t.same(two.problems, [])
        t.equal(two.call, undefined, 'no tool call once the result is there')
        t.ok(two.text.startsWith(QUOTE_PREFIX) && two.text.includes(RESULT), `quotes the result: ${two.text}`)
      })
    }

    t.test('the opaque reasoning state rides on the tool-call turn', async (t) => {
      const r = await post(mock, false, conv.first)
      t.ok(r.text.includes(mock.dialect.opaque), mock.dialect.opaque)
    })

    t.test('no known tool offered: a text naming the tools that were', async (t) => {
      const body = structuredClone(conv.first)
      const strip = JSON.stringify(body).replaceAll(`"${conv.tool}"`, '"OtherTool"')
      const r = read(api, false, (await post(mock, false, JSON.parse(strip))).text)
      t.equal(r.call, undefined)
      t.match(r.text, /None of the file-reading tools .* is offered; offered: .*OtherTool/)
    })

    t.test('a scripted error, in the API\'s error shape, for every model call', async (t) => {
      mock.fail = { status: 429, message: 'scripted rate limit' }
      t.teardown(() => { mock.fail = null })
      const [sApi, , , errorName] = API[api].schemas
      for (const stream of [true, false]) {
        const r = await post(mock, stream, conv.first)
        t.equal(r.status, 429)
        const v = schema(sApi, errorName, 'wire')
        t.ok(v(JSON.parse(r.text)), `${r.text}\n${explain(v)}`)
        t.match(r.text, 'scripted rate limit')
      }
      if (api === 'anthropic') t.equal((await post(mock, true, conv.first)).headers.get('retry-after'), '1', '429 says when to retry')
    })

    t.test('any other path: 404 in the API\'s error shape, recorded', async (t) => {
      const before = mock.seen.length
      const r = await fetch(`${mock.origin}/v1/nothing-here`, { method: 'POST', body: '{}' })
      t.equal(r.status, 404)
      const [sApi, , , errorName] = API[api].schemas
      t.ok(schema(sApi, errorName, 'wire')(await r.json()))
      t.equal(mock.seen.length, before + 1)
      t.notOk(mock.calls().includes(mock.seen.at(-1)!), 'not counted as a model call')
    })
  })
}

t.test('Gemini streamGenerateContent without alt=sse answers one JSON array of chunks', async (t) => {
  const mock = await startAgentUpstream('gemini')
  t.teardown(() => mock.close())
  mock.file = FILE
  const r = await fetch(`${mock.origin}/v1beta/models/gemini-2.5-pro:streamGenerateContent`, { method: 'POST', body: JSON.stringify(CONVERSATIONS.gemini.first) })
  const chunks = (await r.json()) as any[]
  t.ok(Array.isArray(chunks) && chunks.length === 2)
  const v = schema('gemini', 'GenerateContentResponse')
  for (const c of chunks) t.ok(v(c), explain(v))
  t.same(chunks[1].candidates[0].content.parts[0].functionCall, { name: 'exec_command', args: CONVERSATIONS.gemini.args })
})

t.test('Chat with stream_options.include_usage: usage null on every chunk, then a usage chunk with no choices', async (t) => {
  const mock = await startAgentUpstream('chat')
  t.teardown(() => mock.close())
  mock.file = FILE
  const r = await post(mock, true, { ...CONVERSATIONS.chat.second, stream_options: { include_usage: true } })
  const problems: string[] = []
  const chunks = frames(r.text, 'chat', problems).slice(0, -1).map((f) => JSON.parse(f.data))
  t.same(problems, [])
  t.ok(chunks.slice(0, -1).every((c) => c.usage === null))
  t.same(chunks.at(-1).choices, [])
  t.equal(chunks.at(-1).usage.total_tokens, chunks.at(-1).usage.prompt_tokens + chunks.at(-1).usage.completion_tokens)
})
