// Conformance of the shipped pack (rules/), end to end through the real server: every Cursor request
// fixture × every upstream × every transcript scenario, streaming and not, read back with the official
// `openai` SDK; then aliases, model lists, CORS, errors, mid-stream failures, the Anthropic thinking
// round trip, and no secret in any log line or client-visible body (cursor-pack.md, issue 3).
//
// One mock upstream serves all four APIs under different path prefixes; before each request the test
// selects the scenario whose transcript (test/fixtures/streams/) the mock answers with.
import t, { type Test } from 'tap'
import { readFileSync, readdirSync } from 'node:fs'
import type { ServerResponse } from 'node:http'
import { fileURLToPath } from 'node:url'
import { Agent, fetch } from 'undici'
import OpenAI from 'openai'
import { ChatCompletionStream } from 'openai/lib/ChatCompletionStream'
import { mockUpstream, parseSse, startEngine, type Engine, type Mock, type Seen } from '../helpers/server.js'
import { declared, schema, explain } from '../helpers/schemas.js'
import { startEngineProcess, type EngineProcess } from '../helpers/engine-process.js'
import {
  SCENARIOS, assemble, expected, mirrored, sseEvents, transcript, type Api, type Expected,
} from '../helpers/pack-upstream.js'

type Json = any
type T = Test

const root = fileURLToPath(new URL('../../', import.meta.url))
const RULES = `${root}rules`
const CURSOR = `${root}test/fixtures/cursor/`
const cursorFixture = (name: string): Json => JSON.parse(readFileSync(`${CURSOR}${name}`, 'utf8'))

// ---------------------------------------------------------------------------------------------
// The upstreams, as the shipped rules call them
// ---------------------------------------------------------------------------------------------

const KEYS = {
  OPENAI_API_KEY: 'sk-conformance-openai-0001',
  ANTHROPIC_API_KEY: 'sk-ant-conformance-anthropic-0002',
  GEMINI_API_KEY: 'AIza-conformance-gemini-0003',
  OPENAI_COMPAT_API_KEY: 'sk-conformance-compat-0004',
}
const SECRETS = Object.values(KEYS)

interface Upstream {
  api: Api
  name: string           // the upstream's name in rules/00-upstreams.yaml
  model: string          // the model name the client sends (routes to this upstream)
  prefix: string         // the mock path its *_BASE_URL points to
  env: string
  schema: ['openai' | 'anthropic' | 'gemini', string]
  path(streaming: boolean, model: string): string
  /** The credential headers it must get; undefined = must not get (the client's own credential). */
  headers(): Record<string, string | undefined>
}

const UPSTREAMS: Upstream[] = [
  {
    api: 'responses', name: 'openai', model: 'gpt-5.5', prefix: '/openai/v1', env: 'OPENAI_BASE_URL', schema: ['openai', 'CreateResponse'],
    path: () => '/openai/v1/responses',
    headers: () => ({ authorization: `Bearer ${KEYS.OPENAI_API_KEY}` }),
  },
  {
    api: 'anthropic-messages', name: 'anthropic', model: 'claude-sonnet-4-6', prefix: '/anthropic/v1', env: 'ANTHROPIC_BASE_URL', schema: ['anthropic', 'CreateMessageParams'],
    path: () => '/anthropic/v1/messages',
    headers: () => ({ 'x-api-key': KEYS.ANTHROPIC_API_KEY, 'anthropic-version': '2023-06-01', authorization: undefined }),
  },
  {
    api: 'gemini', name: 'gemini', model: 'gemini-2.5-flash', prefix: '/gemini/v1beta', env: 'GEMINI_BASE_URL', schema: ['gemini', 'GenerateContentRequest'],
    path: (streaming, model) => `/gemini/v1beta/models/${model}:${streaming ? 'streamGenerateContent?alt=sse' : 'generateContent'}`,
    headers: () => ({ 'x-goog-api-key': KEYS.GEMINI_API_KEY, authorization: undefined }),
  },
  {
    api: 'chat-completions', name: 'openai-compat', model: 'deepseek-v4-pro', prefix: '/compat/v1', env: 'OPENAI_COMPAT_BASE_URL', schema: ['openai', 'CreateChatCompletionRequest'],
    path: () => '/compat/v1/chat/completions',
    headers: () => ({ authorization: `Bearer ${KEYS.OPENAI_COMPAT_API_KEY}` }),
  },
]
const byApi = (api: Api): Upstream => UPSTREAMS.find((u) => u.api === api)!
const apiOfUrl = (url: string): Api | undefined => UPSTREAMS.find((u) => url.startsWith(u.prefix + '/'))?.api

// ---------------------------------------------------------------------------------------------
// The mock upstream and the engine
// ---------------------------------------------------------------------------------------------

type Handler = (seen: Seen, res: ServerResponse) => void
/** What the mock answers next: a scenario of the transcripts, or a handler of the test's own. */
let serving: { scenario: string; customName?: string } | Handler = { scenario: 'text' }

function isStreamingCall(seen: Seen): boolean {
  return apiOfUrl(seen.url) === 'gemini' ? seen.url.includes(':streamGenerateContent') : seen.json?.stream === true
}

function serveTranscript(seen: Seen, res: ServerResponse, scenario: string, customName?: string): void {
  const api = apiOfUrl(seen.url)
  if (!api) { res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"message":"mock: unknown path"}}'); return }
  const streaming = isStreamingCall(seen)
  const text = transcript(api, `${scenario}.${streaming ? 'sse' : 'response.json'}`, customName)
  res.writeHead(200, { 'content-type': streaming ? 'text/event-stream' : 'application/json' }).end(text)
}

let mock: Mock
let engine: EngineProcess
const savedEnv: Record<string, string | undefined> = {}
/** Every body a client saw on an error (status ≥ 400, error frames, SDK error messages). */
const clientErrorTexts: string[] = []
/** Every byte any client received. */
const clientTexts: string[] = []
/** Log lines of engines other than the main one. */
const engineLogsExtra: string[] = []

/**
 * The client connection pool: idle sockets are dropped after 1 s, well before the server's 5 s
 * keep-alive timeout, so a request never goes out on a socket the server is closing.
 */
const agent = new Agent({ keepAliveTimeout: 1000, keepAliveMaxTimeout: 1000 })

t.before(async () => {
  /* compile the validators first: compiling blocks the event loop for seconds */
  for (const [api, name] of [...UPSTREAMS.map((u) => u.schema), ['openai', 'CreateChatCompletionStreamResponse'], ['openai', 'CreateChatCompletionResponse'], ['openai', 'ErrorResponse']] as const) schema(api, name)
  mock = await mockUpstream((seen, res) => {
    const s = serving
    if (typeof s === 'function') return s(seen, res)
    serveTranscript(seen, res, s.scenario, s.customName)
  })
  const env: Record<string, string> = { ...KEYS }
  for (const u of UPSTREAMS) env[u.env] = mock.url + u.prefix
  for (const [k, v] of Object.entries(env)) { savedEnv[k] = process.env[k]; process.env[k] = v }
  // No inbound keys: the VS Code app origin may call because it is listed.
  engine = await startEngineProcess(RULES, { corsOrigins: ['vscode-file://vscode-app'] })
})
t.teardown(async () => {
  await engine?.close()
  await mock?.close()
  await agent.close()
  for (const [k, v] of Object.entries(savedEnv)) { if (v === undefined) delete process.env[k]; else process.env[k] = v }
})

// ---------------------------------------------------------------------------------------------
// Client side: the official SDK, with the raw bytes kept
// ---------------------------------------------------------------------------------------------

interface Raw { status: number; headers: Headers; text: string }

function sdk(base: string): { client: OpenAI; last(): Promise<Raw> } {
  let last: Promise<Raw> | null = null
  const client = new OpenAI({
    baseURL: engine.url + base,
    apiKey: 'x',
    maxRetries: 0,
    fetch: (async (url: string, init: RequestInit) => {
      let r: Response
      try { r = (await fetch(url, { ...(init as object), dispatcher: agent })) as unknown as Response } catch (e) {
        const cause = (e as Error & { cause?: unknown }).cause
        last = Promise.reject(new Error(`fetch ${url} failed: ${String(e)}${cause ? ` (${String(cause)})` : ''}`))
        last.catch(() => {})
        throw e
      }
      const copy = r.clone()
      last = copy.text().then((text) => {
        clientTexts.push(text)
        if (r.status >= 400) clientErrorTexts.push(text)
        return { status: r.status, headers: r.headers, text }
      })
      return r
    }) as never,
  })
  return { client, last: () => last ?? Promise.reject(new Error('no request made')) }
}

interface StreamCall { chunks: Json[]; raw: Raw; error?: Error; final?: Json; finalError?: Error }
interface BodyCall { completion?: Json; raw: Raw; error?: Error }

async function streamCall(base: string, body: Json): Promise<StreamCall> {
  const { client, last } = sdk(base)
  const chunks: Json[] = []
  let error: Error | undefined
  try {
    const stream = (await client.chat.completions.create({ ...body, stream: true })) as unknown as AsyncIterable<Json>
    for await (const c of stream) chunks.push(c)
  } catch (e) {
    error = e as Error
    clientErrorTexts.push(String(error.message))
  }
  if (error) return { chunks, raw: await last(), error }
  /* the SDK's own accumulator (what its .stream() helper runs) over exactly the chunks it yielded */
  const encoder = new TextEncoder()
  const lines = new ReadableStream<Uint8Array>({
    start(c) { for (const chunk of chunks) c.enqueue(encoder.encode(JSON.stringify(chunk) + '\n')); c.close() },
  })
  let final: Json
  let finalError: Error | undefined
  try { final = await ChatCompletionStream.fromReadableStream(lines).finalChatCompletion() } catch (e) { finalError = e as Error }
  return { chunks, raw: await last(), final, finalError }
}

async function bodyCall(base: string, body: Json): Promise<BodyCall> {
  const { client, last } = sdk(base)
  try {
    const completion = await client.chat.completions.create({ ...body, stream: false })
    return { completion, raw: await last() }
  } catch (e) {
    clientErrorTexts.push(String((e as Error).message))
    return { raw: await last(), error: e as Error }
  }
}

async function http(method: string, path: string, body?: string | Json, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; text: string; json: Json }> {
  const r = await fetch(engine.url + path, {
    dispatcher: agent,
    method,
    headers: { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  })
  const text = await r.text()
  clientTexts.push(text)
  if (r.status >= 400) clientErrorTexts.push(text)
  let json: Json
  try { json = JSON.parse(text) } catch { json = undefined }
  return { status: r.status, headers: r.headers, text, json }
}

// ---------------------------------------------------------------------------------------------
// Checks
// ---------------------------------------------------------------------------------------------

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

type SchemaItem = { api: 'openai' | 'anthropic' | 'gemini'; name: string; values: unknown[]; what: string; todo: string | false; closed: string[][] }

/** Fields of `value` at each closed path that the schema does not declare. */
function undeclared(item: SchemaItem, value: Json): string[] {
  const out: string[] = []
  for (const path of item.closed) {
    const allowed = declared(item.api, item.name, path)
    let objects: Json[] = [value]
    for (const step of path) objects = objects.flatMap((o) => (step === '[]' ? (Array.isArray(o) ? o : []) : isObject(o) ? [o[step]] : []))
    for (const o of objects) if (isObject(o)) for (const k of Object.keys(o)) if (!allowed.has(k)) out.push([...path, k].join('.'))
  }
  return [...new Set(out)]
}

/**
 * Official-schema checks, collected while requests run and asserted together in one subtest (one
 * subtest per group keeps ~500 requests fast).
 */
class Schemas {
  items: SchemaItem[] = []
  upstream(up: Upstream, seen: Seen, what: string, todo: string | false = false): void {
    this.items.push({ api: up.schema[0], name: up.schema[1], values: [seen.json], what: `${what}: forwarded ${up.api} request`, todo, closed: up.schema[0] === 'openai' ? [[]] : [] })
  }
  chunks(chunks: Json[], what: string, todo: string | false = false): void {
    this.items.push({ api: 'openai', name: 'CreateChatCompletionStreamResponse', values: chunks, what: `${what}: all ${chunks.length} client chunks`, todo, closed: [[], ['choices', '[]']] })
  }
  completion(completion: Json, what: string, todo: string | false = false): void {
    this.items.push({ api: 'openai', name: 'CreateChatCompletionResponse', values: [completion], what: `${what}: client chat.completion`, todo, closed: [[], ['choices', '[]']] })
  }
  error(body: Json, what: string): void {
    this.items.push({ api: 'openai', name: 'ErrorResponse', values: [body], what: `${what}: client error body`, todo: false, closed: [[], ['error']] })
  }
  run(t: T, name = 'official strict schemas'): Promise<unknown> {
    const items = this.items
    this.items = []
    return t.test(name, async (t) => {
      for (const item of items) {
        const v = schema(item.api, item.name)
        const bad = item.values.map((x, i) => (v(x) ? null : `#${i} ${JSON.stringify(x).slice(0, 300)}\n${explain(v)}`)).filter(Boolean)
        t.same(bad, [], `${item.what} validate against ${item.api} ${item.name}`, { todo: item.todo })
        if (item.closed.length) {
          const extra = [...new Set(item.values.flatMap((x) => undeclared(item, x)))]
          t.same(extra, [], `${item.what}: only fields ${item.api} ${item.name} defines`, { todo: item.todo })
        }
      }
    })
  }
}

/** The tool names a client request offers, whichever dialect spelled them. */
function clientToolNames(body: Json): string[] {
  return (body.tools ?? []).map((x: Json) => x?.function?.name ?? x?.custom?.name ?? x?.name)
}

/** The tool names an upstream request offers. */
function upstreamToolNames(api: Api, body: Json): string[] {
  switch (api) {
    case 'gemini': return (body.tools ?? []).flatMap((x: Json) => (x.functionDeclarations ?? []).map((f: Json) => f.name))
    case 'chat-completions': return (body.tools ?? []).map((x: Json) => x?.function?.name ?? x?.custom?.name)
    default: return (body.tools ?? []).map((x: Json) => x?.name)
  }
}

/** The request the engine sent upstream: the right API, URL, credentials, and (with specs) valid. */
function checkUpstream(t: T, up: Upstream, seen: Seen, streaming: boolean, model = up.model): void {
  const want = up.headers()
  const body = isObject(seen.json) ? seen.json : {}
  t.same(
    {
      method: seen.method,
      url: seen.url,
      headers: Object.fromEntries(Object.keys(want).map((k) => [k, seen.headers[k]])),
      json: isObject(seen.json),
      model: body.model,
      stream: up.api === 'gemini' ? undefined : body.stream === true,
    },
    {
      method: 'POST',
      url: up.path(streaming, model),
      headers: want,
      json: true,
      model: up.api === 'gemini' ? undefined : model, // Gemini: the model is in the path only
      stream: up.api === 'gemini' ? undefined : streaming,
    },
    `upstream request: POST ${up.path(streaming, model)}, ${Object.keys(want).join(', ')}, model, stream flag`,
  )
}

interface StreamShape { model: string; usageChunk: boolean }

/** Frame-level rules of the client stream (cursor-pack.md "What the client gets back"). */
function checkStreamFrames(t: T, call: StreamCall, shape: StreamShape): Json[] {
  const { frames } = parseSse(call.raw.text)
  const chunks = frames.slice(0, -1)
  const a = assemble(chunks)
  const finishAt = chunks.findIndex((c) => c.choices?.[0]?.finish_reason)
  const last = chunks.at(-1)
  t.same(
    {
      status: call.raw.status,
      eventStream: /^text\/event-stream/.test(call.raw.headers.get('content-type') ?? ''),
      sdkError: call.error?.message,
      endsWithDone: frames.at(-1) === '[DONE]',
      dones: frames.filter((f) => f === '[DONE]').length,
      allChunksAreObjects: chunks.length > 0 && chunks.every(isObject),
      errorFrames: chunks.filter((c) => isObject(c) && 'error' in c).length,
      ids: a.ids.size,
      idPrefix: /^chatcmpl-/.test(String([...a.ids][0])),
      models: [...a.models],
      objects: [...a.objects],
      createds: new Set(chunks.map((c) => c?.created)).size,
      firstDeltaRole: chunks[0]?.choices?.[0]?.delta?.role,
      finishReasons: a.finishes,
      finishChunkFromEnd: chunks.length - finishAt,
      finishDelta: chunks[finishAt]?.choices?.[0]?.delta,
      usageChunks: a.usageChunks,
      lastChunk: shape.usageChunk ? { choices: last?.choices, usage: isObject(last?.usage) } : undefined,
    },
    {
      status: 200,
      eventStream: true,
      sdkError: undefined,
      endsWithDone: true,
      dones: 1,
      allChunksAreObjects: true,
      errorFrames: 0,
      ids: 1,
      idPrefix: true,
      models: [shape.model],
      objects: ['chat.completion.chunk'],
      createds: 1,
      firstDeltaRole: 'assistant',
      finishReasons: 1,
      finishChunkFromEnd: shape.usageChunk ? 2 : 1,
      finishDelta: {},
      usageChunks: shape.usageChunk ? 1 : 0,
      lastChunk: shape.usageChunk ? { choices: [], usage: true } : undefined,
    },
    `client stream: 200 text/event-stream, one id, model ${shape.model}, role first, ${shape.usageChunk ? 'finish chunk, usage chunk' : 'finish chunk last, no usage chunk'}, [DONE]`,
  )
  t.same(call.chunks, chunks, 'the SDK yields exactly the frames sent')
  return chunks
}

interface Message { content: string; reasoning: string; calls: { index?: number; id?: string; type?: string; name: string; arguments: string }[]; finish: string | null; usage: Json }

const SYNTHESIZED_ID = /^[A-Za-z0-9_-]{6,}$/

function checkMessage(t: T, got: Message, exp: Expected, opts: { mirror: boolean; usage: boolean }): void {
  const parse = (text: string): unknown => { try { return JSON.parse(text) } catch { return `not JSON: ${text}` } }
  /* an id the upstream did not give (gemini-2.5) is synthesized: any well-formed one, distinct per call */
  const ids = got.calls.map((c) => c.id)
  const distinct = new Set(ids).size === ids.length
  const gotCalls = got.calls.map((c, i) => ({
    type: c.type,
    name: c.name,
    id: exp.calls[i] && !exp.calls[i]!.id && SYNTHESIZED_ID.test(String(c.id)) && distinct ? '(synthesized)' : c.id,
    arguments: exp.calls[i]?.raw !== undefined ? c.arguments : parse(c.arguments),
  }))
  const wantCalls = exp.calls.map((c) => ({ type: 'function', name: c.name, id: c.id ?? '(synthesized)', arguments: c.raw ?? c.args }))
  const usage = (u: Json): Json => {
    if (!opts.usage) return undefined
    if (exp.usage) return u
    /* the upstream reported none: an estimate, whole numbers that add up */
    return {
      estimated: Number.isInteger(u?.prompt_tokens) && u.prompt_tokens > 0 && Number.isInteger(u?.completion_tokens) &&
        u.completion_tokens >= 0 && u.total_tokens === u.prompt_tokens + u.completion_tokens,
    }
  }
  t.same(
    { content: got.content, reasoning_content: got.reasoning, tool_calls: gotCalls, finish_reason: got.finish, usage: usage(got.usage) },
    {
      content: opts.mirror ? mirrored(exp) : exp.text,
      reasoning_content: exp.reasoning,
      tool_calls: wantCalls,
      finish_reason: exp.finish,
      usage: opts.usage ? exp.usage ?? { estimated: true } : undefined,
    },
    `message: content${opts.mirror && exp.reasoning ? ' (reasoning mirrored in <details>)' : ''}, reasoning, ${exp.calls.length} tool call(s)${exp.calls.some((c) => c.raw !== undefined) ? ' (custom: RAW input)' : ''}, finish_reason ${exp.finish}${opts.usage ? ', usage' + (exp.usage ? ' (wire-formats.md §5)' : ' (estimated)') : ''}`,
  )
}

function streamedMessage(chunks: Json[]): Message {
  const a = assemble(chunks)
  return { content: a.content, reasoning: a.reasoning, calls: a.calls, finish: a.finish, usage: a.usage }
}

/**
 * The message as the SDK's accumulator rebuilt it. Its reasoning_content is whatever the last delta
 * carried (the SDK assigns unknown delta fields, it does not concatenate them): taken from the frames.
 */
function sdkMessage(t: T, call: StreamCall, model: string): Message {
  const f = call.final ?? {}
  const m = f.choices?.[0]?.message ?? {}
  t.same(
    { error: call.finalError?.message, model: f.model, choices: f.choices?.length, role: m.role },
    { error: undefined, model, choices: 1, role: 'assistant' },
    "the SDK's accumulator finalizes one assistant choice",
  )
  return {
    content: m.content ?? '',
    reasoning: assemble(call.chunks).reasoning,
    calls: (m.tool_calls ?? []).map((tc: Json) => ({ id: tc.id, type: tc.type, name: tc.function?.name, arguments: tc.function?.arguments })),
    finish: f.choices?.[0]?.finish_reason ?? null,
    usage: f.usage,
  }
}

function bodyMessage(t: T, call: BodyCall, model: string): Message {
  const c = call.completion ?? {}
  const m = c.choices?.[0]?.message ?? {}
  let raw: unknown
  try { raw = JSON.parse(call.raw.text) } catch { raw = call.raw.text }
  t.same(
    {
      status: call.raw.status,
      json: /^application\/json/.test(call.raw.headers.get('content-type') ?? ''),
      sdkError: call.error?.message,
      object: c.object,
      idPrefix: /^chatcmpl-/.test(String(c.id)),
      model: c.model,
      choices: c.choices?.length,
      role: m.role,
    },
    { status: 200, json: true, sdkError: undefined, object: 'chat.completion', idPrefix: true, model, choices: 1, role: 'assistant' },
    `client body: 200 JSON chat.completion, model ${model}, one assistant choice`,
  )
  t.same(c, raw, 'the SDK returns the body sent')
  return {
    content: m.content ?? '',
    reasoning: m.reasoning_content ?? '',
    calls: (m.tool_calls ?? []).map((tc: Json) => ({ id: tc.id, type: tc.type, name: tc.function?.name, arguments: tc.function?.arguments })),
    finish: c.choices?.[0]?.finish_reason ?? null,
    usage: c.usage,
  }
}

// ---------------------------------------------------------------------------------------------
// The transcripts tell the README's conversation (so the derived expectations are the right ones)
// ---------------------------------------------------------------------------------------------

const PATCH = '*** Begin Patch\n*** Update File: src/greet.ts\n@@\n-export const greet = (name: string) => `Hello ${name}`;\n+export const greet = (name: string) => `Hello, ${name}!`;\n*** End Patch'

t.test('the transcripts carry the conversation of test/fixtures/streams/README.md', async (t) => {
  for (const api of Object.keys(SCENARIOS) as Api[]) {
    for (const streaming of [true, false]) {
      const e = (s: string) => expected(api, s, streaming, 'ApplyPatch')
      t.equal(e('text').text, 'The capital of France is Paris.', `${api} text`)
      t.equal(e('reasoning').text, 'No. 221 = 13 × 17, so it is not prime.', `${api} reasoning`)
      if (api !== 'chat-completions') t.match(e('reasoning').reasoning, /221/, `${api} reasoning text`)
      t.match(e('tool_call').calls, [{ name: 'get_weather', args: { location: 'Paris, France', unit: 'celsius' } }], `${api} tool_call`)
      t.equal(e('tool_call').calls.length, 1)
      t.match(e('parallel_tool_calls').calls, [{ name: 'get_weather', args: { location: 'Paris, France' } }, { name: 'get_local_time', args: { timezone: 'Asia/Tokyo' } }], `${api} parallel`)
      t.equal(e('parallel_tool_calls').calls.length, 2)
      if (SCENARIOS[api].includes('custom_tool_call')) t.same(e('custom_tool_call').calls.map((c) => [c.name, c.raw]), [['ApplyPatch', PATCH]], `${api} custom call`)
      t.equal(e('usage').text, 'Refunds are issued within 14 days of a return.', `${api} usage`)
    }
  }
  t.equal(expected('chat-completions', 'reasoning_content', true).reasoning, expected('anthropic-messages', 'reasoning', true).reasoning)
  t.same(expected('anthropic-messages', 'usage', false).usage, { prompt_tokens: 1847, completion_tokens: 14, total_tokens: 1861, prompt_tokens_details: { cached_tokens: 1536 } }, 'Anthropic input excludes cache reads')
  t.same(expected('gemini', 'usage', false).usage, { prompt_tokens: 1822, completion_tokens: 107, total_tokens: 1929, prompt_tokens_details: { cached_tokens: 1536 }, completion_tokens_details: { reasoning_tokens: 96 } }, 'Gemini candidates exclude thoughts')
})

// ---------------------------------------------------------------------------------------------
// The matrix: every Cursor request × upstream × scenario × streaming / not, on /cursor
// ---------------------------------------------------------------------------------------------

const FIXTURES = readdirSync(CURSOR).filter((f) => f.endsWith('.json') && !f.startsWith('expected-')).sort()

/** The name of the request's custom (freeform) tool, in whichever dialect it came. */
function customToolName(body: Json): string | undefined {
  const tool = (body.tools ?? []).find((x: Json) => x?.type === 'custom')
  return tool ? tool.name ?? tool.custom?.name : undefined
}

/**
 * Known failures of the pack or engine, by `<fixture>|<api>|<scenario>|<stream|json>` ('*' matches
 * any part): reported to their owners, see the final report of this test's author.
 */
const KNOWN: Array<[pattern: string, reason: string]> = []

function todoFor(key: string): string | false {
  const parts = key.split('|')
  for (const [pattern, reason] of KNOWN) {
    const p = pattern.split('|')
    if (p.every((x, i) => x === '*' || x === parts[i])) return reason
  }
  return false
}

for (const fixture of FIXTURES) {
  t.test(fixture, async (t) => {
    const schemas = new Schemas()
    const original = cursorFixture(fixture)
    const customName = customToolName(original)
    for (const up of UPSTREAMS) {
      for (const streaming of [true, false]) {
        for (const scenario of SCENARIOS[up.api]) {
          /* a custom call only means something to a client that offered a custom tool */
          if (scenario === 'custom_tool_call' && !customName) continue
          const key = `${fixture}|${up.api}|${scenario}|${streaming ? 'stream' : 'json'}`
          const todo = todoFor(key)
          await t.test(`${up.api} ${scenario} ${streaming ? 'stream' : 'json'}`, { todo }, async (t) => {
            const body: Json = { ...structuredClone(original), model: up.model }
            if (!streaming) delete body.stream_options
            serving = { scenario, customName }
            const before = mock.seen.length
            const exp = expected(up.api, scenario, streaming, customName)
            if (streaming) {
              const call = await streamCall('/cursor', body)
              t.equal(mock.seen.length, before + 1, 'one upstream request')
              const seen = mock.seen.at(-1)!
              checkUpstream(t, up, seen, true)
              t.same(upstreamToolNames(up.api, seen.json), clientToolNames(original), 'every tool offered, under its own name')
              const chunks = checkStreamFrames(t, call, { model: up.model, usageChunk: true })
              const message = sdkMessage(t, call, up.model)
              checkMessage(t, message, exp, { mirror: true, usage: true })
              const framed = streamedMessage(chunks)
              t.same(framed.calls.map((c) => c.index), exp.calls.map((_, i) => i), 'tool-call index = ordinal in the turn')
              t.same(framed.calls.map((c) => [c.id, c.type, c.name, c.arguments]), message.calls.map((c) => [c.id, c.type, c.name, c.arguments]), 'the frames carry the calls the SDK rebuilt (ids not synthesized by the SDK)')
              t.equal(framed.content, message.content, 'the frames carry the content the SDK rebuilt')
              schemas.upstream(up, seen, key, todo)
              schemas.chunks(chunks, key, todo)
            } else {
              const call = await bodyCall('/cursor', body)
              t.equal(mock.seen.length, before + 1, 'one upstream request')
              const seen = mock.seen.at(-1)!
              checkUpstream(t, up, seen, false)
              t.same(upstreamToolNames(up.api, seen.json), clientToolNames(original), 'every tool offered, under its own name')
              checkMessage(t, bodyMessage(t, call, up.model), exp, { mirror: true, usage: true })
              schemas.upstream(up, seen, key, todo)
              schemas.completion(call.completion, key, todo)
            }
          })
        }
      }
    }
    await schemas.run(t)
  })
}

// ---------------------------------------------------------------------------------------------
// The other routes: /cursor/v1 behaves like /cursor; /v1 is plain (no mirror, usage only on request)
// ---------------------------------------------------------------------------------------------

const simple = (model: string, extra: Json = {}): Json => ({
  model,
  messages: [{ role: 'system', content: 'You are a concise assistant.' }, { role: 'user', content: 'Is 221 prime?' }],
  ...extra,
})

t.test('/cursor/v1 and /v1 chat routes', async (t) => {
  const schemas = new Schemas()
  for (const up of UPSTREAMS) {
    const scenario = up.api === 'chat-completions' ? 'reasoning_content' : 'reasoning'
    await t.test(`${up.api} ${scenario}`, async (t) => {
      serving = { scenario }
      const exp = expected(up.api, scenario, true)
      t.ok(exp.reasoning, 'the transcript has reasoning')

      const cv1 = await streamCall('/cursor/v1', simple(up.model))
      checkUpstream(t, up, mock.seen.at(-1)!, true)
      const c1 = checkStreamFrames(t, cv1, { model: up.model, usageChunk: true })
      checkMessage(t, streamedMessage(c1), exp, { mirror: true, usage: true })
      schemas.upstream(up, mock.seen.at(-1)!, `/cursor/v1 ${up.api}`)
      schemas.chunks(c1, `/cursor/v1 ${up.api}`)

      const v1 = await streamCall('/v1', simple(up.model))
      checkUpstream(t, up, mock.seen.at(-1)!, true)
      const c2 = checkStreamFrames(t, v1, { model: up.model, usageChunk: false })
      checkMessage(t, streamedMessage(c2), exp, { mirror: false, usage: false })
      schemas.chunks(c2, `/v1 ${up.api}`)

      const v1u = await streamCall('/v1', simple(up.model, { stream_options: { include_usage: true } }))
      const c3 = checkStreamFrames(t, v1u, { model: up.model, usageChunk: true })
      checkMessage(t, streamedMessage(c3), exp, { mirror: false, usage: true })

      const v1b = await bodyCall('/v1', simple(up.model))
      checkUpstream(t, up, mock.seen.at(-1)!, false)
      checkMessage(t, bodyMessage(t, v1b, up.model), expected(up.api, scenario, false), { mirror: false, usage: true })
      schemas.upstream(up, mock.seen.at(-1)!, `/v1 ${up.api}`)
      schemas.completion(v1b.completion, `/v1 ${up.api}`)
    })
  }
  await schemas.run(t)
})

// ---------------------------------------------------------------------------------------------
// Verify, model lists, aliases, conversation id, CORS
// ---------------------------------------------------------------------------------------------

t.test('Verify pings get a chat.completion', async (t) => {
  const schemas = new Schemas()
  const shape = cursorFixture('expected-verify-ping-response.json')
  for (const name of ['verify-ping-legacy-2024.json', 'verify-ping-key-check-2025.json']) {
    const ping = cursorFixture(name)
    serving = { scenario: 'text' }
    const r = await http('POST', '/cursor/chat/completions', ping)
    t.equal(r.status, 200, `${name}: 200`)
    t.equal(mock.seen.at(-1)!.url, '/openai/v1/responses', `${name}: ${ping.model} goes to OpenAI`)
    t.notOk(mock.seen.at(-1)!.json.stream, `${name}: not streamed upstream`)
    t.match(r.json, { ...shape, id: /^chatcmpl-/, created: Number, model: ping.model, choices: [{ ...shape.choices[0], message: { role: 'assistant', content: 'The capital of France is Paris.' } }], usage: { prompt_tokens: 27, completion_tokens: 78, total_tokens: 105 } }, `${name}: the shape of expected-verify-ping-response.json`)
    t.same(Object.keys(r.json).filter((k) => !(k in shape)), [], `${name}: no field the expected reply lacks`)
    schemas.upstream(byApi('responses'), mock.seen.at(-1)!, name)
    schemas.completion(r.json, name)
  }
  await schemas.run(t)
})

t.test('GET model lists name the aliases', async (t) => {
  const shape = cursorFixture('expected-get-models-response.json')
  for (const path of ['/cursor/models', '/cursor/v1/models', '/v1/models']) {
    const r = await http('GET', path)
    t.equal(r.status, 200, `${path}: 200`)
    t.equal(r.json?.object, shape.object, `${path}: a list`)
    const ids = (r.json?.data ?? []).map((m: Json) => m.id)
    for (const id of ['gpt-55-xhigh', 'anthropic:sonnet', 'gpt-5.5', 'claude-sonnet-4-6']) t.ok(ids.includes(id), `${path}: lists ${id}`)
    t.ok((r.json?.data ?? []).every((m: Json) => m.object === 'model' && typeof m.created === 'number' && typeof m.owned_by === 'string' && Object.keys(m).length === 4), `${path}: entries {id, object, created, owned_by}`)
  }
  const { client } = sdk('/cursor')
  const listed: string[] = []
  for await (const m of client.models.list()) listed.push(m.id)
  t.ok(listed.includes('anthropic:sonnet') && listed.includes('gpt-55-xhigh'), 'the SDK lists the aliases')
})

t.test('aliases: routed and sent as the real model, answered as the alias', async (t) => {
  const schemas = new Schemas()
  serving = { scenario: 'text' }
  const s = await streamCall('/cursor', simple('anthropic:sonnet', { stream_options: { include_usage: true } }))
  const seen = mock.seen.at(-1)!
  checkUpstream(t, byApi('anthropic-messages'), seen, true, 'claude-sonnet-4-6')
  const chunks = checkStreamFrames(t, s, { model: 'anthropic:sonnet', usageChunk: true })
  checkMessage(t, streamedMessage(chunks), expected('anthropic-messages', 'text', true), { mirror: true, usage: true })
  schemas.upstream(byApi('anthropic-messages'), seen, 'anthropic:sonnet')
  schemas.chunks(chunks, 'anthropic:sonnet')

  const b = await bodyCall('/cursor', simple('anthropic:sonnet'))
  checkUpstream(t, byApi('anthropic-messages'), mock.seen.at(-1)!, false, 'claude-sonnet-4-6')
  t.equal(b.completion?.model, 'anthropic:sonnet', 'non-streaming: model = the alias')

  const x = await streamCall('/cursor', simple('gpt-55-xhigh'))
  const xs = mock.seen.at(-1)!
  checkUpstream(t, byApi('responses'), xs, true, 'gpt-5.5')
  t.equal(xs.json.reasoning?.effort, 'xhigh', 'gpt-55-xhigh sends reasoning.effort xhigh')
  schemas.chunks(checkStreamFrames(t, x, { model: 'gpt-55-xhigh', usageChunk: true }), 'gpt-55-xhigh')
  schemas.upstream(byApi('responses'), xs, 'gpt-55-xhigh')
  await schemas.run(t)
})

t.test('metadata.cursorConversationId becomes prompt_cache_key on the Responses request', async (t) => {
  serving = { scenario: 'text' }
  const body = cursorFixture('gpt5-agent-responses-full-turn.json')
  await streamCall('/cursor', body)
  const seen = mock.seen.at(-1)!
  t.equal(seen.url, '/openai/v1/responses')
  t.equal(seen.json.prompt_cache_key, body.metadata.cursorConversationId)
})

t.test('CORS preflight on the chat route', async (t) => {
  const r = await fetch(engine.url + '/cursor/chat/completions', {
    dispatcher: agent,
    method: 'OPTIONS',
    headers: { origin: 'vscode-file://vscode-app', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
  })
  await r.text()
  t.equal(r.status, 204)
  t.equal(r.headers.get('access-control-allow-origin'), 'vscode-file://vscode-app')
  t.match(r.headers.get('access-control-allow-methods'), /POST/)
  t.match(r.headers.get('access-control-allow-headers'), /authorization/i)
  t.match(r.headers.get('access-control-allow-headers'), /content-type/i)
})

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/** Each API's own error body. */
function nativeError(api: Api, status: number, message: string): Json {
  switch (api) {
    case 'anthropic-messages':
      return { type: 'error', error: { type: status === 401 ? 'authentication_error' : status === 403 ? 'permission_error' : status === 429 ? 'rate_limit_error' : 'api_error', message }, request_id: 'req_conformance' }
    case 'gemini':
      return { error: { code: status, message, status: status === 401 ? 'UNAUTHENTICATED' : status === 403 ? 'PERMISSION_DENIED' : status === 429 ? 'RESOURCE_EXHAUSTED' : 'INTERNAL' } }
    default:
      return { error: { message, type: status === 429 ? 'rate_limit_error' : 'invalid_request_error', param: null, code: status === 401 ? 'invalid_api_key' : null } }
  }
}

function errorShape(t: T, json: Json, what: string, schemas?: Schemas): void {
  schemas?.error(json, what)
  t.ok(isObject(json?.error), `${what}: an OpenAI-shaped error`)
  t.type(json?.error?.message, 'string', `${what}: error.message`)
  t.type(json?.error?.type, 'string', `${what}: error.type`)
  t.ok('param' in (json?.error ?? {}) && 'code' in (json?.error ?? {}), `${what}: error.param and error.code`)
}

t.test('upstream HTTP errors', async (t) => {
  for (const up of UPSTREAMS) {
    await t.test(up.api, async (t) => {
      const schemas = new Schemas()
      for (const [status, cursorStatus, v1Status] of [[401, 400, 401], [403, 400, 403]] as const) {
        const message = `conformance ${status}: the API key is not valid`
        serving = (_s, res) => { res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(nativeError(up.api, status, message))) }
        for (const base of ['/cursor', '/cursor/v1']) {
          const c = await http('POST', `${base}/chat/completions`, simple(up.model, { stream: true }))
          t.equal(c.status, cursorStatus, `${base}: upstream ${status} → ${cursorStatus}`)
          errorShape(t, c.json, `${base} ${status}`, schemas)
          t.match(c.json?.error?.message, message, `${base} ${status}: the upstream's message`)
          t.match(c.json?.error?.message, `Upstream ${up.name} `, `${base} ${status}: names the upstream`)
          t.match(c.json?.error?.message, `rule cursor-${up.name.replace('openai-compat', 'compat')}`, `${base} ${status}: names the rule`)
        }
        const v = await http('POST', '/v1/chat/completions', simple(up.model, { stream: true }))
        t.equal(v.status, v1Status, `/v1: upstream ${status} → ${v1Status}`)
        errorShape(t, v.json, `/v1 ${status}`, schemas)
        t.match(v.json?.error?.message, message, `/v1 ${status}: the upstream's message`)
      }

      serving = (_s, res) => { res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '7' }).end(JSON.stringify(nativeError(up.api, 429, 'conformance: slow down'))) }
      for (const base of ['/cursor', '/v1']) {
        const r = await http('POST', `${base}/chat/completions`, simple(up.model, { stream: true }))
        t.equal(r.status, 429, `${base}: 429 → 429`)
        t.equal(r.headers.get('retry-after'), '7', `${base}: retry-after passed on`)
        errorShape(t, r.json, `${base} 429`, schemas)
        t.match(r.json?.error?.message, 'conformance: slow down', `${base} 429: the upstream's message`)
      }

      const { error: upstreamError } = JSON.parse(transcript(up.api, 'error.response.json'))
      const status = { responses: 500, 'chat-completions': 500, 'anthropic-messages': 529, gemini: 503 }[up.api]
      serving = (_s, res) => { res.writeHead(status, { 'content-type': 'application/json' }).end(transcript(up.api, 'error.response.json')) }
      for (const stream of [true, false]) {
        const r = await http('POST', '/cursor/chat/completions', simple(up.model, { stream }))
        t.equal(r.status, 502, `upstream ${status} → 502 (stream: ${stream})`)
        errorShape(t, r.json, `${status}`, schemas)
        t.match(r.json?.error?.message, upstreamError.message, `${status}: the upstream's message`)
      }

      const sdkErr = await bodyCall('/cursor', simple(up.model))
      t.equal((sdkErr.error as Json)?.status, 502, 'the SDK sees an APIError with status 502')

      /* a server that echoes the credential it got in its error message (some OpenAI-compatible ones do) */
      serving = (seen, res) => {
        const got = String(seen.headers['x-api-key'] ?? seen.headers['x-goog-api-key'] ?? seen.headers.authorization ?? '').replace(/^Bearer /, '')
        res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify(nativeError(up.api, 401, `Incorrect API key provided: ${got}. Check your key.`)))
      }
      for (const base of ['/cursor', '/v1']) {
        const echoed = await http('POST', `${base}/chat/completions`, simple(up.model, { stream: true }))
        t.equal(echoed.status, base === '/cursor' ? 400 : 401, `${base}: key echoed by the upstream: status`)
        t.match(echoed.json?.error?.message, 'Incorrect API key provided', `${base}: the upstream's message is passed on`)
        t.notOk(SECRETS.some((k) => echoed.text.includes(k)), `${base}: the key the upstream echoed is not`)
      }
      await schemas.run(t)
    })
  }
})

t.test('a model for openai-compat while OPENAI_COMPAT_BASE_URL is unset → 400 naming the model and the variable', async (t) => {
  const saved = process.env.OPENAI_COMPAT_BASE_URL
  delete process.env.OPENAI_COMPAT_BASE_URL
  let second: Engine
  try { second = await startEngine(RULES) } finally { process.env.OPENAI_COMPAT_BASE_URL = saved }
  t.teardown(() => second.close())
  const before = mock.seen.length
  const schemas = new Schemas()
  for (const path of ['/cursor/chat/completions', '/v1/chat/completions']) {
    const r = await fetch(second.url + path, { dispatcher: agent, method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(simple('deepseek-v4-pro', { stream: true })) })
    const text = await r.text()
    clientTexts.push(text); clientErrorTexts.push(text)
    t.equal(r.status, 400, `${path}: 400`)
    const json = JSON.parse(text)
    errorShape(t, json, path, schemas)
    t.match(json.error?.message, 'deepseek-v4-pro', `${path}: names the model`)
    t.match(json.error?.message, 'OPENAI_COMPAT_BASE_URL', `${path}: names the variable`)
  }
  serving = { scenario: 'text' }
  const ok = await fetch(second.url + '/cursor/chat/completions', { dispatcher: agent, method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(simple('claude-sonnet-4-6')) })
  await ok.text()
  t.equal(ok.status, 200, 'the other upstreams still work')
  t.equal(mock.seen.length, before + 1, 'nothing was sent for the unconfigured upstream')
  second.logs.forEach((l) => engineLogsExtra.push(l))
  await schemas.run(t)
})

t.test('malformed JSON → 400', async (t) => {
  const schemas = new Schemas()
  for (const path of ['/cursor/chat/completions', '/v1/chat/completions']) {
    const r = await http('POST', path, '{"model": "gpt-5.5", "messages": [')
    t.equal(r.status, 400, path)
    errorShape(t, r.json, path, schemas)
    t.match(r.json?.error?.message, /JSON/i, `${path}: says the JSON is malformed`)
  }
  await schemas.run(t)
})

t.test('errors inside the stream', async (t) => {
  const cases: Array<[Api, string]> = [
    ['responses', 'error_midstream'],
    ['anthropic-messages', 'error_midstream'],
    ['gemini', 'error_midstream'],
    ['gemini', 'error_midstream_data_framed'],
    ['chat-completions', 'error_midstream'],
  ]
  for (const [api, file] of cases) {
    await t.test(`${api} ${file}`, async (t) => {
      const up = byApi(api)
      serving = (seen, res) => { res.writeHead(200, { 'content-type': 'text/event-stream' }).end(transcript(api, `${file}.sse`)) }
      const call = await streamCall('/cursor', simple(up.model))
      t.equal(call.raw.status, 200, 'HTTP 200: frames were sent before the failure')
      const { frames } = parseSse(call.raw.text)
      t.equal(frames.at(-1), '[DONE]', 'the stream still ends with [DONE]')
      const errorFrame = frames.at(-2)
      t.ok(isObject(errorFrame?.error), 'an {"error": …} frame just before [DONE]')
      t.type(errorFrame?.error?.message, 'string', 'error.message')
      const chunks = frames.slice(0, -2)
      t.ok(chunks.every((c) => isObject(c) && !('error' in c)), 'the other frames are chunks')
      const a = assemble(chunks)
      t.match(a.content, /^The capital of France/, 'the text streamed before the failure')
      t.ok(a.content.includes(errorFrame?.error?.message ?? '\u0000'), 'the error text reaches the user in content')
      t.equal(a.finish, null, 'no finish_reason: the answer is incomplete')
      t.equal(a.ids.size, 1, 'one id')
      t.ok(call.error, 'the SDK raises the error')
      t.match(call.error?.message, errorFrame?.error?.message ?? '\u0000', 'with the error frame\'s message')
      const upstreamMessage = api === 'gemini' ? 'The model is overloaded' : api === 'anthropic-messages' ? 'Overloaded' : api === 'responses'
        ? sseEvents(transcript(api, `${file}.sse`)).findLast((e) => e.type === 'response.failed')?.response?.error?.message
        : 'The server had an error'
      t.match(errorFrame?.error?.message, upstreamMessage, 'the upstream\'s message')
      const schemas = new Schemas()
      schemas.upstream(up, mock.seen.at(-1)!, file)
      schemas.chunks(chunks, file)
      schemas.error(errorFrame, `${file} error frame`)
      await schemas.run(t)
    })
  }

  await t.test('responses error_event before any output → a real HTTP error', async (t) => {
    serving = (seen, res) => { res.writeHead(200, { 'content-type': 'text/event-stream' }).end(transcript('responses', 'error_event.sse')) }
    const r = await http('POST', '/cursor/chat/completions', simple('gpt-5.5', { stream: true }))
    t.equal(r.status, 429, 'rate_limit_exceeded → 429')
    const schemas = new Schemas()
    errorShape(t, r.json, 'error_event', schemas)
    await schemas.run(t)
    t.match(r.json?.error?.message, 'Rate limit reached for gpt-5', 'the upstream\'s message')
  })
})

// ---------------------------------------------------------------------------------------------
// Anthropic: signed thinking stored on the reply, replayed before its tool_use on the next turn
// ---------------------------------------------------------------------------------------------

/** A thinking turn that ends in a tool call: reasoning.sse's thinking block + tool_call.sse's tool block. */
function thinkingToolSse(): string {
  const reasoning = transcript('anthropic-messages', 'reasoning.sse').split('\n\n').filter(Boolean)
  const tool = transcript('anthropic-messages', 'tool_call.sse').split('\n\n').filter(Boolean)
  const thinking = reasoning.filter((e) => /"index":0/.test(e))
  const toolBlock = tool.filter((e) => /"index":1/.test(e) && !/"text/.test(e))
  const tail = tool.filter((e) => /message_delta|message_stop/.test(e))
  return [reasoning[0], ...thinking, ...toolBlock, ...tail].join('\n\n') + '\n\n'
}

t.test('Anthropic reasoning store round trip: thinking + signature replayed before the tool_use', async (t) => {
  const reference = JSON.parse(transcript('anthropic-messages', 'reasoning.response.json')).content[0]
  t.equal(reference.type, 'thinking')
  const toolResponse = JSON.parse(transcript('anthropic-messages', 'tool_call.response.json'))
  const tools = [{ type: 'function', function: { name: 'get_weather', description: 'Get the current weather for a location.', parameters: { type: 'object', properties: { location: { type: 'string' }, unit: { type: 'string', enum: ['celsius', 'fahrenheit'] } }, required: ['location'] } } }]
  const user = { role: 'user', content: 'What is the weather in Paris?' }
  const up = byApi('anthropic-messages')

  for (const streaming of [true, false]) {
    await t.test(streaming ? 'streamed turn' : 'non-streamed turn', async (t) => {
      const callId = streaming ? 'toolu_01KTxTN4xsRpB14jz5hZDKEq' : 'toolu_01ConformanceNonStream01'
      const turn1 = { model: 'claude-sonnet-4-6', messages: [user], tools, reasoning_effort: 'high' }
      serving = streaming
        ? (_s, res) => { res.writeHead(200, { 'content-type': 'text/event-stream' }).end(thinkingToolSse()) }
        : (_s, res) => {
          const body = { ...toolResponse, content: [reference, { ...toolResponse.content[1], id: callId }] }
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body))
        }
      let message: Message
      if (streaming) {
        const s = await streamCall('/cursor', turn1)
        message = streamedMessage(checkStreamFrames(t, s, { model: 'claude-sonnet-4-6', usageChunk: true }))
      } else {
        message = bodyMessage(t, await bodyCall('/cursor', turn1), 'claude-sonnet-4-6')
      }
      const first = mock.seen.at(-1)!
      checkUpstream(t, up, first, streaming)
      t.equal(first.json.thinking?.type, 'enabled', 'turn 1: thinking on (reasoning_effort high)')
      t.equal(message.reasoning, reference.thinking, 'turn 1: the thinking as reasoning_content')
      t.equal(message.content, `<details>\n<summary>Thinking</summary>\n\n${reference.thinking}\n\n</details>\n\n`, 'turn 1: mirrored, closed before the tool call')
      t.same(message.calls.map((c) => [c.id, c.name, JSON.parse(c.arguments)]), [[callId, 'get_weather', { location: 'Paris, France', unit: 'celsius' }]])

      /* Cursor's next turn: its own history (mirror echoed in content, no reasoning), plus the tool result */
      serving = { scenario: 'text' }
      const turn2 = {
        model: 'claude-sonnet-4-6',
        tools,
        reasoning_effort: 'high',
        messages: [
          user,
          { role: 'assistant', content: message.content, tool_calls: message.calls.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: c.arguments } })) },
          { role: 'tool', tool_call_id: callId, content: '18°C, sunny' },
        ],
      }
      const s2 = await streamCall('/cursor', turn2)
      checkStreamFrames(t, s2, { model: 'claude-sonnet-4-6', usageChunk: true })
      const next = mock.seen.at(-1)!
      checkUpstream(t, up, next, true)
      const assistant = next.json.messages?.[1]
      t.equal(assistant?.role, 'assistant')
      t.same(assistant?.content?.map((b: Json) => b.type), ['thinking', 'tool_use'], 'turn 2: the thinking block opens the tool-use turn, no mirror text')
      t.same(assistant?.content?.[0], reference, 'turn 2: thinking and signature as Anthropic sent them')
      t.ok(next.body.includes(JSON.stringify(reference)), 'turn 2: the block is byte-exact in the forwarded body')
      t.same(assistant?.content?.[1], { type: 'tool_use', id: callId, name: 'get_weather', input: { location: 'Paris, France', unit: 'celsius' } })
      t.equal(next.json.messages?.[2]?.content?.[0]?.type, 'tool_result', 'turn 2: the tool result follows')
      t.equal(next.json.thinking?.type, 'enabled', 'turn 2: thinking stays on')
      const schemas = new Schemas()
      schemas.upstream(up, first, 'turn 1')
      schemas.upstream(up, next, 'turn 2')
      await schemas.run(t)
    })
  }
})

// ---------------------------------------------------------------------------------------------
// Secrets
// ---------------------------------------------------------------------------------------------

t.test('no upstream key in any log line or client-visible body', async (t) => {
  const logs = [...(await engine.logs()), ...engineLogsExtra]
  t.ok(logs.length > 500, `${logs.length} log lines`)
  t.ok(clientErrorTexts.length > 40, `${clientErrorTexts.length} client-visible error bodies`)
  for (const secret of SECRETS) {
    t.same(logs.filter((l) => l.includes(secret)), [], `no log line contains ${secret.slice(0, 8)}…`)
    t.same(clientErrorTexts.filter((x) => x.includes(secret)), [], `no error body contains ${secret.slice(0, 8)}…`)
    t.same(clientTexts.filter((x) => x.includes(secret)), [], `no client-visible body contains ${secret.slice(0, 8)}…`)
  }
})
