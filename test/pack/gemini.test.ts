// The Gemini upstream of the Cursor pack: to-gemini.jsonata (neutral form → GenerateContentRequest),
// gemini-body.jsonata (GenerateContentResponse → chat.completion) and gemini-stream.yaml (SSE → chunks).
import t, { type Test } from 'tap'
import { readFileSync, readdirSync } from 'node:fs'
import { runTransform } from '../helpers/transform.js'
import { runStream, every } from '../helpers/stream.js'
import { schema, explain } from '../helpers/schemas.js'
import { MemoryStore } from '../../engine/store/memory.js'
import { normalize } from '../helpers/pack.js'

const TO = 'rules/transforms/to-gemini.jsonata'
const BODY = 'rules/transforms/gemini-body.jsonata'
const cursorDir = new URL('../fixtures/cursor/', import.meta.url)
const streamsDir = new URL('../fixtures/streams/', import.meta.url)
const cursor = (name: string): any => JSON.parse(readFileSync(new URL(name, cursorDir), 'utf8'))
const stream = (name: string): any => JSON.parse(readFileSync(new URL(name, streamsDir), 'utf8'))

// ---------------------------------------------------------------------------------------------
// Neutral inputs: the shipped normalize pipeline (rules/10-normalize.yaml), run the way the engine
// runs it: each step's `when` tested on the step's input, then its transform.
// ---------------------------------------------------------------------------------------------

const cursorRequests = readdirSync(cursorDir).filter((f) => f.endsWith('.json') && !f.startsWith('expected-'))

const validRequest = (t: Test, out: unknown, what: string) => {
  const v = schema('gemini', 'GenerateContentRequest')
  t.ok(v(out), `${what} validates against GenerateContentRequest\n${explain(v)}`)
}

// ---------------------------------------------------------------------------------------------
// to-gemini.jsonata
// ---------------------------------------------------------------------------------------------
t.test('every Cursor fixture request becomes a valid GenerateContentRequest', async (t) => {
  t.ok(cursorRequests.length >= 10, 'fixtures found')
  for (const f of cursorRequests) {
    for (const model of ['gemini-2.5-flash', 'gemini-3-pro-preview']) {
      const neutral = await normalize({ ...cursor(f), model })
      const out = await runTransform(TO, neutral)
      validRequest(t, out, `${f} as ${model}`)
      // no model/stream in the body, no empty content or text part, named responses, object args
      const problems: string[] = []
      if ('model' in out || 'stream' in out) problems.push('model/stream in the body')
      for (const [i, c] of out.contents.entries()) {
        if (c.parts.length === 0) problems.push(`contents[${i}] is empty`)
        for (const p of c.parts) {
          if (p.functionResponse && typeof p.functionResponse.name !== 'string') problems.push(`contents[${i}]: unnamed functionResponse`)
          if (p.functionCall && typeof p.functionCall.args !== 'object') problems.push(`contents[${i}]: args not an object`)
          if (p.text === '') problems.push(`contents[${i}]: empty text part`)
        }
      }
      t.same(problems, [], `${f} as ${model}: well-formed`)
      // roles alternate: consecutive same-role turns were merged
      const roles = out.contents.map((c: any) => c.role)
      t.ok(roles.every((r: string, i: number) => i === 0 || r !== roles[i - 1]), `${f}: roles alternate (${roles.join(',')})`)
    }
  }
})

const grepTool = (name: string, description: string, properties: any, required: string[]) =>
  ({ name, description, parametersJsonSchema: { type: 'object', properties, required } })

t.test('gemini-model-chat-dialect: exact request', async (t) => {
  const neutral = await normalize(cursor('gemini-model-chat-dialect.json'))
  const out = await runTransform(TO, neutral)
  t.same(out, {
    contents: [
      { role: 'user', parts: [{ text: '<user_query>Find where the HTTP port is configured.</user_query>' }] },
      {
        role: 'model',
        parts: [{
          functionCall: { name: 'grep', args: { pattern: 'PORT', path: 'src' } },
          // gemini-3 and no stored signature: Google's documented escape hatch
          thoughtSignature: 'skip_thought_signature_validator',
        }],
      },
      {
        role: 'user',
        parts: [
          { functionResponse: { name: 'grep', response: { result: 'src/server.ts:3:const PORT = Number(process.env.PORT ?? 8080);' } } },
          { text: '<user_query>Change the default to 3000.</user_query>' },
        ],
      },
    ],
    systemInstruction: { parts: [{ text: 'You are an AI coding assistant, powered by Gemini 3 Pro. You operate in Cursor.' }] },
    tools: [{
      functionDeclarations: [
        grepTool('grep', 'Ripgrep search.', { pattern: { type: 'string' }, path: { type: 'string' } }, ['pattern']),
        grepTool('read_file', 'Read a file.', { target_file: { type: 'string' } }, ['target_file']),
        grepTool('search_replace', 'Replace an exact string in a file.',
          { file_path: { type: 'string' }, old_string: { type: 'string' }, new_string: { type: 'string' } },
          ['file_path', 'old_string', 'new_string']),
      ],
    }],
    toolConfig: { functionCallingConfig: { mode: 'AUTO' } },
  })
  validRequest(t, out, 'gemini-model-chat-dialect')

  // the same history on gemini-2.5: no dummy signature
  const out25 = await runTransform(TO, { ...neutral, model: 'gemini-2.5-pro' })
  t.same(out25.contents[1].parts, [{ functionCall: { name: 'grep', args: { pattern: 'PORT', path: 'src' } } }])
})

t.test('stored signature and original id are replayed', async (t) => {
  const neutral = await normalize(cursor('gemini-model-chat-dialect.json'))
  const store = new MemoryStore()
  await store.set('gemini:call:call_7d1f0e2a9b', { id: 'q7w3e9r1', thoughtSignature: 'c2lnLWE=' })
  const out = await runTransform(TO, neutral, { store })
  t.same(out.contents[1].parts, [{
    functionCall: { name: 'grep', args: { pattern: 'PORT', path: 'src' }, id: 'q7w3e9r1' },
    thoughtSignature: 'c2lnLWE=',
  }])
  t.same(out.contents[2].parts[0], {
    functionResponse: { id: 'q7w3e9r1', name: 'grep', response: { result: 'src/server.ts:3:const PORT = Number(process.env.PORT ?? 8080);' } },
  })
  validRequest(t, out, 'replayed')

  // parallel calls: the signature sits on the first call only; the second has its id but no signature
  const par = {
    model: 'gemini-3-pro-preview', stream: true,
    messages: [
      { role: 'user', content: [{ type: 'text', text: "What's the weather in Paris, and what time is it in Tokyo?" }] },
      { role: 'assistant', content: null, tool_calls: [
        { id: 'wycslc3k', type: 'function', function: { name: 'get_weather', arguments: '{"location":"Paris, France"}' } },
        { id: 'm4m50v8l', type: 'function', function: { name: 'get_local_time', arguments: '{"timezone":"Asia/Tokyo"}' } },
      ] },
      { role: 'tool', tool_call_id: 'wycslc3k', content: '{"temperature_c":18}' },
      { role: 'tool', tool_call_id: 'm4m50v8l', content: '14:05' },
    ],
  }
  const s2 = new MemoryStore()
  await s2.set('gemini:call:wycslc3k', { id: 'wycslc3k', thoughtSignature: 'c2lnLWI=' })
  await s2.set('gemini:call:m4m50v8l', { id: 'm4m50v8l' })
  const o2 = await runTransform(TO, par, { store: s2 })
  t.same(o2.contents.slice(1), [
    { role: 'model', parts: [
      { functionCall: { name: 'get_weather', args: { location: 'Paris, France' }, id: 'wycslc3k' }, thoughtSignature: 'c2lnLWI=' },
      { functionCall: { name: 'get_local_time', args: { timezone: 'Asia/Tokyo' }, id: 'm4m50v8l' } },
    ] },
    { role: 'user', parts: [
      { functionResponse: { id: 'wycslc3k', name: 'get_weather', response: { temperature_c: 18 } } },
      { functionResponse: { id: 'm4m50v8l', name: 'get_local_time', response: { result: '14:05' } } },
    ] },
  ])
})

t.test('tool round trip equals the recorded Gemini tool_result request', async (t) => {
  // the Chat twin of the conversation, sent to gemini-2.5-flash after our body/stream stored the call
  const chat = stream('chat-completions/tool_result.request.json')
  const expected = stream('gemini/tool_result.request.json')
  const sig = expected.contents[1].parts[0].thoughtSignature
  const store = new MemoryStore()
  await store.set(`gemini:call:${chat.messages[2].tool_calls[0].id}`, { id: null, thoughtSignature: sig })
  const neutral = { ...await normalize({ ...chat, model: 'gemini-2.5-flash' }), tool_choice: 'auto' }
  const out = await runTransform(TO, neutral, { store })
  t.same(out, expected)
  validRequest(t, out, 'tool_result')
})

t.test('custom tools are lowered to a function taking `input`; custom calls replay as {input}', async (t) => {
  const neutral = await normalize(cursor('chat-dialect-mixed-tools-applypatch-history.json'))
  const out = await runTransform(TO, { ...neutral, model: 'gemini-2.5-flash' })
  const decl = out.tools[0].functionDeclarations.find((d: any) => d.name === 'ApplyPatch')
  t.same(decl.parametersJsonSchema, {
    type: 'object',
    properties: { input: { type: 'string', description: 'The raw text for the tool.' } },
    required: ['input'],
    additionalProperties: false,
  })
  t.match(decl.description, /^Apply a V4A-format patch to files in the workspace\.\n\nPass the whole raw text in `input`/)
  const call = out.contents.flatMap((c: any) => c.parts).find((p: any) => p.functionCall?.name === 'ApplyPatch')
  t.same(call.functionCall.args, { input: neutral.messages[4].tool_calls[0].custom.input })
  const resp = out.contents.flatMap((c: any) => c.parts).find((p: any) => p.functionResponse?.name === 'ApplyPatch')
  t.same(resp.functionResponse.response, { result: 'Success. Updated the following files:\nM src/config.ts' })

  // with a grammar: it is pasted into the description
  const full = await normalize(cursor('gpt5-agent-responses-full-turn.json'))
  const o2 = await runTransform(TO, { ...full, model: 'gemini-3-pro-preview' })
  const d2 = o2.tools[0].functionDeclarations.find((d: any) => d.name === 'ApplyPatch')
  t.match(d2.description, /\n\nGrammar \(lark\):\nstart: begin_patch hunk\+ end_patch\n/)
  // the Responses image became inline data without its data: prefix
  t.same(o2.contents[0].parts[1], { inlineData: { mimeType: 'image/png', data: 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC' } })
  // system + developer → systemInstruction, in order
  t.equal(o2.systemInstruction.parts.length, 2)
  t.same(o2.generationConfig, { thinkingConfig: { thinkingLevel: 'HIGH', includeThoughts: true } })
})

t.test('generation settings, tool choice, schemas, images', async (t) => {
  const base = { stream: false, messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }] }
  const tools = [{ type: 'function', function: { name: 'f', description: '', parameters: { $schema: 'http://json-schema.org/draft-07/schema#', type: 'object', properties: { a: { type: 'array', items: { $schema: 'x', type: 'string' } } }, additionalProperties: false } } }]
  const out = await runTransform(TO, {
    ...base, model: 'gemini-2.5-flash', tools,
    tool_choice: { type: 'function', function: { name: 'f' } },
    max_completion_tokens: 4096, temperature: 0.2, top_p: 0.9, stop: ['a', 'b', 'c', 'd', 'e', 'f'], seed: 7, n: 1,
    presence_penalty: 0, frequency_penalty: 0.5,
    reasoning: { effort: 'low' },
    response_format: { type: 'json_schema', json_schema: { name: 'x', schema: { $schema: 'x', type: 'object', properties: {} } } },
  })
  t.same(out.tools, [{ functionDeclarations: [{ name: 'f', parametersJsonSchema: { type: 'object', properties: { a: { type: 'array', items: { type: 'string' } } }, additionalProperties: false } }] }])
  t.same(out.toolConfig, { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['f'] } })
  t.same(out.generationConfig, {
    maxOutputTokens: 4096, temperature: 0.2, topP: 0.9, stopSequences: ['a', 'b', 'c', 'd', 'e'], seed: 7, candidateCount: 1,
    frequencyPenalty: 0.5,
    responseMimeType: 'application/json', responseJsonSchema: { type: 'object', properties: {} },
    thinkingConfig: { thinkingBudget: 1024, includeThoughts: true },
  })
  validRequest(t, out, 'settings')

  const choice = async (tool_choice: unknown) => (await runTransform(TO, { ...base, model: 'gemini-2.5-flash', tools, tool_choice })).toolConfig
  t.same(await choice('none'), { functionCallingConfig: { mode: 'NONE' } })
  t.same(await choice('required'), { functionCallingConfig: { mode: 'ANY' } })
  t.same(await choice({ type: 'custom', custom: { name: 'f' } }), { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['f'] } })
  t.equal(await choice(undefined), undefined)

  const think = async (model: string, reasoning: unknown) => (await runTransform(TO, { ...base, model, reasoning })).generationConfig
  t.same(await think('gemini-3-pro-preview', { effort: 'minimal' }), { thinkingConfig: { thinkingLevel: 'LOW', includeThoughts: true } })
  t.same(await think('gemini-3-flash', { effort: 'xhigh' }), { thinkingConfig: { thinkingLevel: 'HIGH', includeThoughts: true } })
  t.same(await think('gemini-3-pro-preview', { effort: 'none' }), { thinkingConfig: { thinkingLevel: 'LOW' } })
  t.same(await think('gemini-2.5-flash', { effort: 'none' }), { thinkingConfig: { thinkingBudget: 0 } })
  t.same(await think('gemini-2.5-pro', { effort: 'none' }), { thinkingConfig: { thinkingBudget: 128 } })
  t.same(await think('gemini-2.5-pro', { effort: 'high' }), { thinkingConfig: { thinkingBudget: 24576, includeThoughts: true } })
  t.same(await think('gemini-2.5-flash', { summary: 'auto' }), { thinkingConfig: { includeThoughts: true } })
  t.equal(await think('gemini-2.0-flash', { effort: 'high' }), undefined, 'no thinking config for pre-2.5 models')
  t.equal(await think('gemini-2.5-flash', undefined), undefined)

  const json = await runTransform(TO, { ...base, model: 'gemini-2.5-flash', response_format: { type: 'json_object' } })
  t.same(json.generationConfig, { responseMimeType: 'application/json' })

  const img = await runTransform(TO, { ...base, model: 'gemini-2.5-flash', messages: [{ role: 'user', content: [
    { type: 'image_url', image_url: { url: 'https://example.com/a/shot.WEBP?x=1#y' } },
    { type: 'image_url', image_url: { url: 'https://example.com/noext' } },
    { type: 'image_url', image_url: { url: 'data:image/gif;base64,R0lGOD' } },
  ] }] })
  t.same(img.contents[0].parts, [
    { fileData: { mimeType: 'image/webp', fileUri: 'https://example.com/a/shot.WEBP?x=1#y' } },
    { fileData: { mimeType: 'image/jpeg', fileUri: 'https://example.com/noext' } },
    { inlineData: { mimeType: 'image/gif', data: 'R0lGOD' } },
  ])
  validRequest(t, img, 'images')
})

t.test('tool results: images, orphans, merged turns', async (t) => {
  const out = await runTransform(TO, {
    model: 'gemini-2.5-flash', stream: true,
    messages: [
      { role: 'user', content: [{ type: 'text', text: 'look' }] },
      { role: 'assistant', content: 'Taking a screenshot.', tool_calls: [{ id: 'call_a', type: 'function', function: { name: 'shot', arguments: '' } }] },
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_b', type: 'function', function: { name: 'raw', arguments: 'not json' } }] },
      { role: 'tool', tool_call_id: 'call_a', content: [{ type: 'text', text: 'done' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } }] },
      { role: 'tool', tool_call_id: 'call_b', content: '[1,2]' },
      { role: 'tool', tool_call_id: 'call_gone', content: 'old output' },
      { role: 'user', content: [{ type: 'text', text: 'and?' }] },
    ],
  })
  t.same(out.contents, [
    { role: 'user', parts: [{ text: 'look' }] },
    { role: 'model', parts: [
      { text: 'Taking a screenshot.' },
      { functionCall: { name: 'shot', args: {} } },
      { functionCall: { name: 'raw', args: { input: 'not json' } } },
    ] },
    { role: 'user', parts: [
      { functionResponse: { name: 'shot', response: { result: 'done' } } },
      { functionResponse: { name: 'raw', response: { result: '[1,2]' } } },
      { inlineData: { mimeType: 'image/png', data: 'AAAA' } },
      { text: 'Result of tool call call_gone:\nold output' },
      { text: 'and?' },
    ] },
  ])
  validRequest(t, out, 'tool results')
})

// ---------------------------------------------------------------------------------------------
// gemini-body.jsonata
// ---------------------------------------------------------------------------------------------
const ctx = { model: 'gemini-cursor' }
const envelope = { id: 'chatcmpl-test0000', object: 'chat.completion', created: 1767225600, model: 'gemini-cursor' }
const body = async (scenario: string, opts: { vars?: any; request?: any; store?: MemoryStore } = {}) =>
  runTransform(BODY, stream(`gemini/${scenario}.response.json`), { ctx, request: opts.request ?? {}, vars: opts.vars ?? {}, store: opts.store })
const validBody = (t: Test, out: unknown, what: string) => {
  const v = schema('openai', 'CreateChatCompletionResponse')
  t.ok(v(out), `${what} validates against CreateChatCompletionResponse\n${explain(v)}`)
}
const message = (m: any, finish: string) => [{ index: 0, message: { role: 'assistant', refusal: null, ...m }, logprobs: null, finish_reason: finish }]

t.test('body: text', async (t) => {
  const out = await body('text')
  t.same(out, {
    ...envelope,
    choices: message({ content: 'The capital of France is Paris.' }, 'stop'),
    usage: { prompt_tokens: 16, completion_tokens: 38, total_tokens: 54, completion_tokens_details: { reasoning_tokens: 31 } },
  })
  validBody(t, out, 'text')
})

t.test('body: usage with cached tokens', async (t) => {
  const out = await body('usage')
  t.same(out.usage, {
    prompt_tokens: 1822, completion_tokens: 107, total_tokens: 1929,
    prompt_tokens_details: { cached_tokens: 1536 }, completion_tokens_details: { reasoning_tokens: 96 },
  })
  validBody(t, out, 'usage')
})

t.test('body: reasoning, with and without the mirror', async (t) => {
  const thoughts = '**Checking divisibility**\n\n221 is not divisible by 2, 3, 5, 7 or 11, but 221 ÷ 13 = 17, so 221 = 13 × 17.'
  const answer = 'No. 221 = 13 × 17, so it is not prime.'
  const usage = { prompt_tokens: 22, completion_tokens: 202, total_tokens: 224, completion_tokens_details: { reasoning_tokens: 187 } }
  const plain = await body('reasoning')
  t.same(plain, { ...envelope, choices: message({ content: answer, reasoning_content: thoughts }, 'stop'), usage })
  const mirrored = await body('reasoning', { vars: { reasoning_mirror: true } })
  t.same(mirrored, {
    ...envelope,
    choices: message({ content: `<details>\n<summary>Thinking</summary>\n\n${thoughts}\n\n</details>\n\n${answer}`, reasoning_content: thoughts }, 'stop'),
    usage,
  })
  validBody(t, plain, 'reasoning')
  validBody(t, mirrored, 'reasoning mirrored')
})

t.test('body: tool_call (no id: synthesized, stored with the signature)', async (t) => {
  const store = new MemoryStore()
  const out = await body('tool_call', { store })
  const id = out.choices[0].message.tool_calls[0].id
  t.match(id, /^call_[A-Za-z0-9]{24}$/)
  t.same(out, {
    ...envelope,
    choices: message({ content: '', tool_calls: [{ id, type: 'function', function: { name: 'get_weather', arguments: '{"location":"Paris, France","unit":"celsius"}' } }] }, 'tool_calls'),
    usage: { prompt_tokens: 98, completion_tokens: 81, total_tokens: 179, completion_tokens_details: { reasoning_tokens: 57 } },
  })
  const sig = stream('gemini/tool_call.response.json').candidates[0].content.parts[0].thoughtSignature
  t.same(await store.get(`gemini:call:${id}`), { id: null, thoughtSignature: sig })
  validBody(t, out, 'tool_call')

  // and the next turn carries it back: body → store → to-gemini
  const next = await runTransform(TO, {
    model: 'gemini-2.5-flash', stream: false,
    messages: [
      { role: 'user', content: [{ type: 'text', text: 'weather?' }] },
      { role: 'assistant', content: null, tool_calls: out.choices[0].message.tool_calls },
      { role: 'tool', tool_call_id: id, content: 'sunny' },
    ],
  }, { store })
  t.same(next.contents[1].parts, [{ functionCall: { name: 'get_weather', args: { location: 'Paris, France', unit: 'celsius' } }, thoughtSignature: sig }])
  t.same(next.contents[2].parts, [{ functionResponse: { name: 'get_weather', response: { result: 'sunny' } } }])
})

t.test('body: parallel_tool_calls (gemini-3 ids kept)', async (t) => {
  const store = new MemoryStore()
  const out = await body('parallel_tool_calls', { store })
  t.same(out, {
    ...envelope,
    choices: message({ content: '', tool_calls: [
      { id: 'wycslc3k', type: 'function', function: { name: 'get_weather', arguments: '{"location":"Paris, France"}' } },
      { id: 'm4m50v8l', type: 'function', function: { name: 'get_local_time', arguments: '{"timezone":"Asia/Tokyo"}' } },
    ] }, 'tool_calls'),
    usage: { prompt_tokens: 131, completion_tokens: 154, total_tokens: 285, completion_tokens_details: { reasoning_tokens: 120 } },
  })
  const sig = stream('gemini/parallel_tool_calls.response.json').candidates[0].content.parts[0].thoughtSignature
  t.same(await store.get('gemini:call:wycslc3k'), { id: 'wycslc3k', thoughtSignature: sig })
  t.same(await store.get('gemini:call:m4m50v8l'), { id: 'm4m50v8l' })
  validBody(t, out, 'parallel_tool_calls')
})

t.test('body: custom_tool_call (raw input as arguments)', async (t) => {
  const patch = '*** Begin Patch\n*** Update File: src/greet.ts\n@@\n-export const greet = (name: string) => `Hello ${name}`;\n+export const greet = (name: string) => `Hello, ${name}!`;\n*** End Patch'
  // the client's custom tool, in the Responses (flat) and the Chat (nested) spelling
  for (const tools of [[{ type: 'custom', name: 'apply_patch' }], [{ type: 'custom', custom: { name: 'apply_patch' } }]]) {
    const out = await body('custom_tool_call', { request: { tools } })
    const id = out.choices[0].message.tool_calls[0].id
    t.same(out, {
      ...envelope,
      choices: message({ content: '', tool_calls: [{ id, type: 'function', function: { name: 'apply_patch', arguments: patch } }] }, 'tool_calls'),
      usage: { prompt_tokens: 402, completion_tokens: 307, total_tokens: 709, completion_tokens_details: { reasoning_tokens: 211 } },
    })
    validBody(t, out, 'custom_tool_call')
  }
  // not a custom tool of the request: JSON arguments
  const plain = await body('custom_tool_call')
  t.same(JSON.parse(plain.choices[0].message.tool_calls[0].function.arguments), { input: patch })
})

t.test('body: finish reasons, blocked prompts, missing usage', async (t) => {
  const one = (cand: any, extra: any = {}) => runTransform(BODY, { candidates: [cand], ...extra }, { ctx, request: { messages: [{ role: 'user', content: 'hello there' }] } })
  const text = { content: { role: 'model', parts: [{ text: 'abcdefgh' }] }, index: 0 }
  t.equal((await one({ ...text, finishReason: 'MAX_TOKENS' })).choices[0].finish_reason, 'length')
  t.equal((await one({ ...text, finishReason: 'SAFETY' })).choices[0].finish_reason, 'content_filter')
  t.equal((await one({ ...text, finishReason: 'RECITATION' })).choices[0].finish_reason, 'content_filter')
  t.equal((await one({ ...text, finishReason: 'OTHER' })).choices[0].finish_reason, 'stop')
  const noUsage = await one({ ...text, finishReason: 'STOP' })
  t.same(noUsage.usage, { prompt_tokens: 11, completion_tokens: 2, total_tokens: 13 }, 'estimated from the texts')
  validBody(t, noUsage, 'estimated usage')

  const malformed = await one({ content: { role: 'model', parts: [] }, finishReason: 'MALFORMED_FUNCTION_CALL', finishMessage: 'Malformed function call: print(1', index: 0 })
  t.same(malformed.choices[0].message, { role: 'assistant', content: '[Gemini stopped: MALFORMED_FUNCTION_CALL — Malformed function call: print(1]', refusal: null })
  t.equal(malformed.choices[0].finish_reason, 'stop')
  validBody(t, malformed, 'malformed')

  const blocked = await runTransform(BODY, {
    promptFeedback: { blockReason: 'PROHIBITED_CONTENT' },
    usageMetadata: { promptTokenCount: 9, totalTokenCount: 9 },
  }, { ctx })
  t.same(blocked, {
    ...envelope,
    choices: message({ content: '' }, 'content_filter'),
    usage: { prompt_tokens: 9, completion_tokens: 0, total_tokens: 9 },
  })
  validBody(t, blocked, 'blocked')
})

// ---------------------------------------------------------------------------------------------
// gemini-stream.yaml
// ---------------------------------------------------------------------------------------------
const STREAM = 'rules/transforms/gemini-stream.yaml'
const sse = (scenario: string): string => readFileSync(new URL(`gemini/${scenario}.sse`, streamsDir), 'utf8')
const chunkEnvelope = { id: 'chatcmpl-test0000', object: 'chat.completion.chunk', created: 1767225600, model: 'gemini-cursor' }
const chunk = (delta: any, finish: string | null = null) => ({ ...chunkEnvelope, choices: [{ index: 0, delta, finish_reason: finish }] })
const usageChunk = (usage: any) => ({ ...chunkEnvelope, choices: [], usage })
const roleChunk = chunk({ role: 'assistant', content: '' })
const callOpen = (index: number, id: string, name: string) => chunk({ tool_calls: [{ index, id, type: 'function', function: { name, arguments: '' } }] })
const callArgs = (index: number, args: string) => chunk({ tool_calls: [{ index, function: { arguments: args } }] })
const streamRequest = { model: 'gemini-cursor', stream: true, stream_options: { include_usage: true } }
const PATCH = '*** Begin Patch\n*** Update File: src/greet.ts\n@@\n-export const greet = (name: string) => `Hello ${name}`;\n+export const greet = (name: string) => `Hello, ${name}!`;\n*** End Patch'

type RunOpts = Parameters<typeof runStream>[2]
const run = (scenario: string, opts: RunOpts = {}) => runStream(STREAM, sse(scenario), { request: streamRequest, ...opts })

/** What a client rebuilds from the frames. */
function rebuild(frames: any[]) {
  let content = ''
  let reasoning = ''
  const calls: { id?: string; name?: string; arguments: string }[] = []
  let finish: string | null = null
  let usage: any
  for (const f of frames) {
    if (typeof f !== 'object' || !f.choices) continue
    if (f.usage) usage = f.usage
    for (const c of f.choices) {
      content += c.delta.content ?? ''
      reasoning += c.delta.reasoning_content ?? ''
      for (const tc of c.delta.tool_calls ?? []) {
        const call = (calls[tc.index] ??= { arguments: '' })
        if (tc.id) call.id = tc.id
        if (tc.function?.name) call.name = tc.function.name
        call.arguments += tc.function?.arguments ?? ''
      }
      if (c.finish_reason) finish = c.finish_reason
    }
  }
  return { content, reasoning, calls, finish, usage }
}

/** Synthesized ids are random: compare frames with them masked. */
const masked = (frames: any[]) => JSON.parse(JSON.stringify(frames).replace(/"call_[A-Za-z0-9]{24}"/g, '"call_*"'))

const validFrames = (t: Test, frames: any[], what: string) => {
  t.equal(frames[frames.length - 1], '[DONE]', `${what}: ends with [DONE]`)
  const v = schema('openai', 'CreateChatCompletionStreamResponse')
  const bad = frames.filter((f) => f !== '[DONE]' && !('error' in f) && !v(f)).map((f) => `${JSON.stringify(f).slice(0, 200)}\n${explain(v)}`)
  t.same(bad, [], `${what}: every chunk validates against CreateChatCompletionStreamResponse`)
}

const expectedFrames: Record<string, any[]> = {
  text: [
    roleChunk,
    chunk({ content: 'The capital of France' }),
    chunk({ content: ' is Paris.' }),
    chunk({}, 'stop'),
    usageChunk({ prompt_tokens: 16, completion_tokens: 38, total_tokens: 54, completion_tokens_details: { reasoning_tokens: 31 } }),
    '[DONE]',
  ],
  reasoning: [
    roleChunk,
    chunk({ reasoning_content: '**Checking divisibility**\n\n221 is not divisible by 2, 3, 5, 7 or 11, but 221 ÷ 13 = 17, so 221 = 13 × 17.' }),
    chunk({ content: 'No. 221 = 13 × 17,' }),
    chunk({ content: ' so it is not prime.' }),
    chunk({}, 'stop'),
    usageChunk({ prompt_tokens: 22, completion_tokens: 202, total_tokens: 224, completion_tokens_details: { reasoning_tokens: 187 } }),
    '[DONE]',
  ],
  tool_call: [
    roleChunk,
    callOpen(0, 'call_*', 'get_weather'),
    callArgs(0, '{"location":"Paris, France","unit":"celsius"}'),
    chunk({}, 'tool_calls'),
    usageChunk({ prompt_tokens: 98, completion_tokens: 81, total_tokens: 179, completion_tokens_details: { reasoning_tokens: 57 } }),
    '[DONE]',
  ],
  parallel_tool_calls: [
    roleChunk,
    callOpen(0, 'wycslc3k', 'get_weather'),
    callArgs(0, '{"location":"Paris, France"}'),
    callOpen(1, 'm4m50v8l', 'get_local_time'),
    callArgs(1, '{"timezone":"Asia/Tokyo"}'),
    chunk({}, 'tool_calls'),
    usageChunk({ prompt_tokens: 131, completion_tokens: 154, total_tokens: 285, completion_tokens_details: { reasoning_tokens: 120 } }),
    '[DONE]',
  ],
  custom_tool_call: [
    roleChunk,
    callOpen(0, 'call_*', 'apply_patch'),
    callArgs(0, PATCH),
    chunk({}, 'tool_calls'),
    usageChunk({ prompt_tokens: 402, completion_tokens: 307, total_tokens: 709, completion_tokens_details: { reasoning_tokens: 211 } }),
    '[DONE]',
  ],
  usage: [
    roleChunk,
    chunk({ content: 'Refunds are issued within' }),
    chunk({ content: ' 14 days of a return.' }),
    chunk({}, 'stop'),
    usageChunk({
      prompt_tokens: 1822, completion_tokens: 107, total_tokens: 1929,
      prompt_tokens_details: { cached_tokens: 1536 }, completion_tokens_details: { reasoning_tokens: 96 },
    }),
    '[DONE]',
  ],
}
// the request of custom_tool_call declares apply_patch as a custom (freeform) tool
const scenarioRequest = (scenario: string) =>
  scenario === 'custom_tool_call' ? { ...streamRequest, tools: [{ type: 'custom', name: 'apply_patch', format: { type: 'text' } }] } : streamRequest

t.test('stream: every scenario, exact frames', async (t) => {
  for (const [scenario, expected] of Object.entries(expectedFrames)) {
    const r = await run(scenario, { request: scenarioRequest(scenario) })
    t.equal(r.httpError, undefined, `${scenario}: no HTTP error`)
    t.same(masked(r.frames), expected, `${scenario}: frames`)
    validFrames(t, r.frames, scenario)
  }
})

t.test('stream: what the client rebuilds matches the conversation', async (t) => {
  const text = rebuild((await run('text')).frames)
  t.same(text, { content: 'The capital of France is Paris.', reasoning: '', calls: [], finish: 'stop', usage: expectedFrames.text![4].usage })

  const reasoning = rebuild((await run('reasoning')).frames)
  t.equal(reasoning.content, 'No. 221 = 13 × 17, so it is not prime.')
  t.match(reasoning.reasoning, /^\*\*Checking divisibility\*\*/)

  const tool = rebuild((await run('tool_call')).frames)
  t.equal(tool.finish, 'tool_calls')
  t.equal(tool.calls.length, 1)
  t.match(tool.calls[0]!.id, /^call_[A-Za-z0-9]{24}$/)
  t.same(JSON.parse(tool.calls[0]!.arguments), { location: 'Paris, France', unit: 'celsius' })

  const par = rebuild((await run('parallel_tool_calls')).frames)
  t.same(par.calls, [
    { id: 'wycslc3k', name: 'get_weather', arguments: '{"location":"Paris, France"}' },
    { id: 'm4m50v8l', name: 'get_local_time', arguments: '{"timezone":"Asia/Tokyo"}' },
  ])

  const custom = rebuild((await run('custom_tool_call', { request: scenarioRequest('custom_tool_call') })).frames)
  t.equal(custom.calls[0]!.arguments, PATCH, 'raw patch text, not JSON')
  t.equal(custom.content, '')

  // the Chat-nested spelling of the custom tool works the same; without it the arguments are JSON
  const nested = rebuild((await run('custom_tool_call', { request: { ...streamRequest, tools: [{ type: 'custom', custom: { name: 'apply_patch' } }] } })).frames)
  t.equal(nested.calls[0]!.arguments, PATCH)
  const plain = rebuild((await run('custom_tool_call')).frames)
  t.same(JSON.parse(plain.calls[0]!.arguments), { input: PATCH })
})

t.test('stream: the same output however the bytes are cut', async (t) => {
  for (const scenario of [...Object.keys(expectedFrames), 'error_midstream', 'error_midstream_data_framed']) {
    const request = scenarioRequest(scenario)
    const whole = masked((await run(scenario, { request })).frames)
    const length = Buffer.byteLength(sse(scenario))
    for (const step of [7, 64, 100]) {
      t.same(masked((await run(scenario, { request, split: every(step, length) })).frames), whole, `${scenario} cut every ${step} bytes`)
    }
    // cuts between CR and LF, and right after each CRLF
    const text = sse(scenario)
    const crlf = [...text.matchAll(/\r\n/g)].flatMap((m) => [Buffer.byteLength(text.slice(0, m.index)) + 1, Buffer.byteLength(text.slice(0, m.index)) + 2])
    t.same(masked((await run(scenario, { request, split: crlf })).frames), whole, `${scenario} cut inside CRLF`)
  }
  // byte by byte, through the multi-byte characters (÷, ×) of the reasoning scenario
  for (const scenario of ['reasoning', 'error_midstream']) {
    const whole = (await run(scenario, { vars: { reasoning_mirror: true } })).frames
    const bytes = every(1, Buffer.byteLength(sse(scenario)))
    t.same((await run(scenario, { vars: { reasoning_mirror: true }, split: bytes })).frames, whole, `${scenario} byte by byte`)
  }
})

t.test('stream: the reasoning mirror', async (t) => {
  const thoughts = '**Checking divisibility**\n\n221 is not divisible by 2, 3, 5, 7 or 11, but 221 ÷ 13 = 17, so 221 = 13 × 17.'
  const r = await run('reasoning', { vars: { reasoning_mirror: true } })
  t.same(r.frames, [
    roleChunk,
    chunk({ content: `<details>\n<summary>Thinking</summary>\n\n${thoughts}`, reasoning_content: thoughts }),
    chunk({ content: '\n\n</details>\n\nNo. 221 = 13 × 17,' }),
    chunk({ content: ' so it is not prime.' }),
    chunk({}, 'stop'),
    expectedFrames.reasoning![5],
    '[DONE]',
  ])
  validFrames(t, r.frames, 'mirrored')

  // thoughts then a tool call (one chunk), and thoughts left open at the end
  const thenCall = [
    { candidates: [{ content: { role: 'model', parts: [{ text: 'Let me look.', thought: true }] }, index: 0 }] },
    { candidates: [{ content: { role: 'model', parts: [{ text: ' Weather.', thought: true }, { functionCall: { name: 'get_weather', args: {}, id: 'a1b2c3d4' }, thoughtSignature: 'c2ln' }] }, finishReason: 'STOP', index: 0 }] },
  ]
  const frames = (await runStream(STREAM, thenCall.map((d) => `data: ${JSON.stringify(d)}\r\n\r\n`).join(''), { request: { model: 'gemini-cursor' }, vars: { reasoning_mirror: true } })).frames
  t.same(frames, [
    roleChunk,
    chunk({ content: '<details>\n<summary>Thinking</summary>\n\nLet me look.', reasoning_content: 'Let me look.' }),
    chunk({ content: ' Weather.', reasoning_content: ' Weather.' }),
    chunk({ content: '\n\n</details>\n\n' }),
    callOpen(0, 'a1b2c3d4', 'get_weather'),
    callArgs(0, '{}'),
    chunk({}, 'tool_calls'),
    '[DONE]',
  ])
  const onlyThoughts = (await runStream(STREAM, `data: ${JSON.stringify(thenCall[0])}\r\n\r\n`, { request: { model: 'gemini-cursor' }, vars: { reasoning_mirror: true } })).frames
  t.same(onlyThoughts.slice(2), [chunk({ content: '\n\n</details>\n\n' }), chunk({}, 'stop'), '[DONE]'], 'closed at the end')
})

t.test('stream: the store gets what the next request needs', async (t) => {
  const store = new MemoryStore()
  const r = await run('tool_call', { store })
  const id = rebuild(r.frames).calls[0]!.id!
  const sig = stream('gemini/tool_call.response.json').candidates[0].content.parts[0].thoughtSignature
  t.same(await store.get(`gemini:call:${id}`), { id: null, thoughtSignature: sig })

  const s2 = new MemoryStore()
  await run('parallel_tool_calls', { store: s2 })
  const psig = stream('gemini/parallel_tool_calls.response.json').candidates[0].content.parts[0].thoughtSignature
  t.same(await s2.get('gemini:call:wycslc3k'), { id: 'wycslc3k', thoughtSignature: psig })
  t.same(await s2.get('gemini:call:m4m50v8l'), { id: 'm4m50v8l' })
})

t.test('stream: usage only when asked, estimated when missing', async (t) => {
  const noUsage = (await run('text', { request: { model: 'gemini-cursor', stream: true } })).frames
  t.same(noUsage, expectedFrames.text!.filter((f: any) => !f.usage))
  const always = (await run('text', { request: { model: 'gemini-cursor', stream: true }, vars: { usage_always: true } })).frames
  t.same(always, expectedFrames.text)

  const bare = `data: ${JSON.stringify({ candidates: [{ content: { role: 'model', parts: [{ text: 'abcdefgh' }] }, finishReason: 'STOP', index: 0 }] })}\r\n\r\n`
  const est = (await runStream(STREAM, bare, { request: { ...streamRequest, messages: [{ role: 'user', content: 'hello there' }] } })).frames
  t.same(est.at(-2), usageChunk({ prompt_tokens: 11, completion_tokens: 2, total_tokens: 13 }))
})

t.test('stream: finish reasons and refusals', async (t) => {
  const one = async (d: any) => (await runStream(STREAM, `data: ${JSON.stringify(d)}\r\n\r\n`, { request: { model: 'gemini-cursor' } }))
  const text = (reason: string) => ({ candidates: [{ content: { role: 'model', parts: [{ text: 'Hi' }] }, finishReason: reason, index: 0 }] })
  t.equal(rebuild((await one(text('MAX_TOKENS'))).frames).finish, 'length')
  t.equal(rebuild((await one(text('SAFETY'))).frames).finish, 'content_filter')
  t.equal(rebuild((await one(text('OTHER'))).frames).finish, 'stop')

  const blocked = await one({ promptFeedback: { blockReason: 'SAFETY' }, usageMetadata: { promptTokenCount: 5, totalTokenCount: 5 } })
  t.same(blocked.frames, [roleChunk, chunk({}, 'content_filter'), '[DONE]'])

  // MALFORMED_FUNCTION_CALL before anything was written: a real HTTP error with a readable message
  const malformed = await one({ candidates: [{ content: { role: 'model', parts: [] }, finishReason: 'MALFORMED_FUNCTION_CALL', finishMessage: 'Malformed function call: print(', index: 0 }] })
  t.equal(malformed.httpError?.status, 502)
  t.match((malformed.httpError?.body as any).error.message, /stopped with MALFORMED_FUNCTION_CALL: Malformed function call: print\(/)
})

t.test('stream: errors', async (t) => {
  const message = 'Upstream test failed during the stream: The model is overloaded. Please try again later. (UNAVAILABLE, route-engine rule test)'
  for (const scenario of ['error_midstream', 'error_midstream_data_framed']) {
    const r = await run(scenario, { vars: { error_text: true } })
    t.same(r.frames, [
      roleChunk,
      chunk({ content: 'The capital of France' }),
      chunk({ content: `\n\n${message}` }),
      { error: { message, type: 'upstream_error', param: null, code: 'RE_UPSTREAM_STREAM' } },
      '[DONE]',
    ], scenario)
    validFrames(t, r.frames, scenario)
    const v1 = await run(scenario)
    t.same(v1.frames, [
      roleChunk,
      chunk({ content: 'The capital of France' }),
      { error: { message, type: 'upstream_error', param: null, code: 'RE_UPSTREAM_STREAM' } },
      '[DONE]',
    ], `${scenario} off /cursor: only the error frame`)
  }

  // the same error before any frame (unframed and framed): an HTTP error, 5xx → 502
  const errorJson = readFileSync(new URL('gemini/error.response.json', streamsDir), 'utf8')
  for (const body of [errorJson, `data: ${JSON.stringify(JSON.parse(errorJson))}\r\n\r\n`]) {
    const r = await runStream(STREAM, body, { request: streamRequest })
    t.same(r.frames, [])
    t.equal(r.httpError?.status, 502)
    t.equal((r.httpError?.body as any).error.message, message)
  }
  const limited = await runStream(STREAM, 'data: {"error":{"code":429,"message":"Resource exhausted.","status":"RESOURCE_EXHAUSTED"}}\r\n\r\n', { request: streamRequest })
  t.equal(limited.httpError?.status, 429)
  t.equal((limited.httpError?.body as any).error.type, 'rate_limit_error')
})
