// The Responses route (rules/41-responses.yaml): the error writer (errors/responses.jsonata), the
// pass-through request step for OpenAI, and the Chat-server reply programs (chat-to-responses-*).
import t from 'tap'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { runErrorReply, runTransform } from '../helpers/transform.js'
import { runStream } from '../helpers/stream.js'
import { normalize } from '../helpers/pack.js'

const rules = fileURLToPath(new URL('../../rules/', import.meta.url))
const fixtures = fileURLToPath(new URL('../fixtures/responses-route/', import.meta.url))
const ERROR = `${rules}transforms/error.jsonata`
const WRITER = `${rules}transforms/errors/responses.jsonata`
const PASS = `${rules}transforms/responses-passthrough.jsonata`
const STREAM = `${rules}transforms/chat-to-responses-stream.yaml`
const BODY = `${rules}transforms/chat-to-responses-body.jsonata`
const codexTurn = JSON.parse(readFileSync(`${fixtures}codex-function-call-output-turn-qwen.json`, 'utf8'))
// frames of a stream with `event:` lines (the helper's `frames` reads data-only frames)
const framesOf = (text: string): any[] => text.split('\n\n').map((f) => /^data: (.*)$/m.exec(f)?.[1]).filter((d): d is string => !!d).map((d) => JSON.parse(d))
const ctx = { rule: 'responses-compat', upstream: 'openai-compat', path: '/v1/responses' }

t.test('error writer: upstream failures keep the codes Codex acts on, as OpenAI error bodies', async (t) => {
  const quota = await runErrorReply(ERROR, WRITER, { status: 429, headers: {}, body: { error: { message: 'You exceeded your current quota', type: 'insufficient_quota', code: 'insufficient_quota' } } }, { ctx })
  t.equal(quota.status, 429)
  t.equal(quota.body.error.code, 'insufficient_quota')
  const rate = await runErrorReply(ERROR, WRITER, { status: 429, headers: { 'retry-after': '3' }, body: { type: 'error', error: { type: 'rate_limit_error', message: 'slow down' } } }, { ctx })
  t.equal(rate.body.error.code, 'rate_limit_exceeded', 'an Anthropic rate limit reads as rate_limit_exceeded')
  t.equal(rate.headers['retry-after'], '3')
  const long = await runErrorReply(ERROR, WRITER, { status: 400, headers: {}, body: { type: 'error', error: { type: 'invalid_request_error', message: 'prompt is too long: 250000 tokens > 200000 maximum' } } }, { ctx })
  t.same([long.status, long.body.error.code], [400, 'context_length_exceeded'], 'context overflow → context_length_exceeded (Codex stops instead of retrying)')
  const down = await runErrorReply(ERROR, WRITER, { status: 503, headers: {}, body: { error: { message: 'overloaded' } } }, { ctx })
  t.equal(down.status, 502, 'an upstream 5xx stays a 5xx: a retry may help')
  t.match(down.body.error.message, /openai-compat/)
})

t.test('error writer: a failure after the first byte is a response.failed event, unless the program writes it', async (t) => {
  const { writeError } = await import('../../engine/pipeline/write-error.js')
  const { placedTransform } = await import('../helpers/transform.js')
  const { RouteError } = await import('../../engine/errors.js')
  const err = new RouteError('RE_UPSTREAM_STREAM', 'Upstream openai broke off', { status: 502 })
  const bindings = { ctx: { id: 'abc', created: 1, model: 'gpt-5.5', path: '/v1/responses' }, vars: {} }
  const pass = await writeError({ writer: placedTransform(WRITER), bindings }, err, true)
  t.equal((pass.body as any).type, 'response.failed')
  t.equal((pass.body as any).response.id, 'resp_abc')
  t.equal((pass.body as any).response.error.code, 'server_error')
  const prog = await writeError({ writer: placedTransform(WRITER), bindings: { ...bindings, vars: { responses_failed_by_program: true } } }, err, true)
  t.equal(prog.body, undefined, 'no second frame after the program\'s own response.failed')
  const permanent = await writeError({ writer: placedTransform(WRITER), bindings }, new RouteError('RE_TRANSFORM_FAILED', 'transform x failed', { status: 500, kind: 'transform' } as any), false)
  t.ok(permanent.status >= 400 && permanent.status < 500, `a failing transform is a 4xx (${permanent.status}), so Codex does not retry it 30 times`)
})

t.test('pass-through: content:null, client ids and foreign reasoning state are removed, nothing else', async (t) => {
  const body = { ...codexTurn, model: 'gpt-5.5' }
  body.input = [...body.input, { type: 'reasoning', id: 'rs_x', summary: [], encrypted_content: 're1:anthropic:e30=' }]
  const out = await runTransform(PASS, body, { request: body })
  const rs = out.input.filter((i: any) => i.type === 'reasoning')
  t.equal(rs.length, 1, 'the gateway\'s re1: item is dropped, OpenAI\'s own kept')
  t.notOk('content' in rs[0])
  t.equal(rs[0].id, 'rs_mock1')
  t.equal(out.input.filter((i: any) => i.type !== 'reasoning' && 'id' in i).length, 0)
  t.same(out.client_metadata, body.client_metadata)
  t.same(out.tools, body.tools)
})

t.test('normalize: namespace tools are flattened to ns__name', async (t) => {
  const body = { model: 'qwen3-coder', input: 'hi', tools: [{ type: 'namespace', name: 'multi_agent_v1', tools: [{ type: 'function', name: 'spawn_agent', parameters: { type: 'object', properties: {} } }] }] }
  const out = await normalize(body)
  t.same(out.tools.map((x: any) => x.function.name), ['multi_agent_v1__spawn_agent'])
})

t.test('chat-to-responses stream: numbered, named events; whole items; apply_patch as custom_tool_call', async (t) => {
  const sse = readFileSync(`${fixtures}codex-reasoning-apply_patch.sse`, 'utf8')
  for (const split of [undefined, [7, 100, 333, 1000]]) {
    const r = await runStream(STREAM, sse, { request: codexTurn, ctx: { ...ctx, model: 'qwen3-coder' }, writer: WRITER, vars: { responses_failed_by_program: true }, split })
    t.same(framesOf(r.text).map((f) => f.sequence_number), framesOf(r.text).map((_, i) => i), 'sequence_number 0, 1, 2…')
    t.match(r.text, /^event: response\.created\ndata: /, 'event: lines')
    const done = framesOf(r.text).filter((f) => f.type === 'response.output_item.done').map((f) => f.item)
    t.same(done.map((i) => i.type), ['reasoning', 'message', 'custom_tool_call'])
    t.equal(done[2].input, '*** Begin Patch\n*** Add File: notes.txt\n+hello from the gateway\n*** End Patch\n')
    t.equal(done[2].call_id, 'call_q1')
    t.equal(done[0].encrypted_content, 're1:chat:e30=')
    const last = framesOf(r.text).at(-1)
    t.equal(last.type, 'response.completed')
    t.same(last.response.usage, { input_tokens: 5230, input_tokens_details: { cached_tokens: 4096 }, output_tokens: 61, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 5291 })
    t.same(last.response.output, done)
  }
})

t.test('chat-to-responses stream: length → response.incomplete; namespace call split back; mid-stream error → response.failed', async (t) => {
  const chunk = (delta: unknown, finish: string | null = null) => `data: ${JSON.stringify({ choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`
  const request = { model: 'm', input: 'x', tools: [{ type: 'namespace', name: 'multi_agent_v1', tools: [{ type: 'function', name: 'spawn_agent' }] }] }
  const cut = await runStream(STREAM, chunk({ content: 'Hel' }) + chunk({ content: 'lo' }, 'length') + 'data: [DONE]\n\n', { request, writer: WRITER, vars: { responses_failed_by_program: true } })
  t.equal(framesOf(cut.text).at(-1).type, 'response.incomplete')
  t.equal(framesOf(cut.text).at(-1).response.incomplete_details.reason, 'max_output_tokens')
  const ns = await runStream(STREAM, chunk({ tool_calls: [{ index: 0, id: 'c1', function: { name: 'multi_agent_v1__spawn_agent', arguments: '{}' } }] }, 'tool_calls'), { request, writer: WRITER, vars: { responses_failed_by_program: true } })
  const call = framesOf(ns.text).find((f) => f.type === 'response.output_item.done').item
  t.same([call.namespace, call.name, call.arguments], ['multi_agent_v1', 'spawn_agent', '{}'])
  const broken = await runStream(STREAM, chunk({ content: 'Hi' }) + `data: ${JSON.stringify({ error: { message: 'boom', code: 500 } })}\n\n`, { request, writer: WRITER, vars: { responses_failed_by_program: true } })
  const failed = framesOf(broken.text).filter((f) => f.type === 'response.failed')
  t.equal(failed.length, 1, 'one response.failed')
  t.equal(failed[0].sequence_number, framesOf(broken.text).length - 1)
  t.match(failed[0].response.error.message, /boom/)
})

t.test('chat-to-responses body: one Response object', async (t) => {
  const out = await runTransform(BODY, { choices: [{ index: 0, message: { role: 'assistant', content: 'Paris.', tool_calls: [{ id: 'c1', type: 'function', function: { name: 'apply_patch', arguments: '{"input":"*** Begin Patch\\n*** End Patch"}' } }] }, finish_reason: 'tool_calls' }], usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 } }, { request: { model: 'm', tools: [{ type: 'custom', name: 'apply_patch' }] }, ctx: { id: 'abc', created: 1, model: 'm' } })
  t.equal(out.id, 'resp_abc')
  t.same(out.output.map((i: any) => i.type), ['message', 'custom_tool_call'])
  t.equal(out.output[1].input, '*** Begin Patch\n*** End Patch')
  t.equal(out.usage.total_tokens, 5)
})
