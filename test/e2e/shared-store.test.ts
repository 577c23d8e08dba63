// Two `route-engine serve` processes (A, B) sharing one real Redis (started here on a free port),
// on the shipped rules: turn 1 of a conversation goes to A, turn 2 to B. For each shipped feature
// that remembers something between turns, the upstream request of turn 2 must be the one a single
// instance (M, memory store) sends when it answers both turns — and without a shared store (turn 1
// on M, turn 2 on A) what turn 1 stored is missing, which is the failure this guards against.
import { Redis } from 'ioredis'
import t from 'tap'
import { request } from 'undici'
import { serveCli, type CliServer } from '../helpers/cli-server.js'
import { assemble, sseEvents, transcript } from '../helpers/pack-upstream.js'
import { startRedis } from '../helpers/redis.js'
import { mockUpstream, parseSse } from '../helpers/server.js'

const redis = await startRedis()
t.teardown(() => redis.stop())
const raw = new Redis(redis.url)
t.teardown(() => raw.quit())

// The mock answers each upstream call with the next reply queued for it, or (under load) by what it asks.
let replies: string[] = []
let replyFor: ((body: any) => string) | null = null
const mock = await mockUpstream((req, res) => {
  res.writeHead(200, { 'content-type': 'text/event-stream' }).end(replyFor ? replyFor(req.json) : replies.shift() ?? '')
})
t.teardown(() => mock.close())

const env = {
  ANTHROPIC_BASE_URL: `${mock.url}/anthropic`, ANTHROPIC_API_KEY: 'test',
  GEMINI_BASE_URL: `${mock.url}/gemini`, GEMINI_API_KEY: 'test',
  OPENAI_BASE_URL: `${mock.url}/openai`, OPENAI_API_KEY: 'test',
  OPENAI_COMPAT_BASE_URL: `${mock.url}/compat`, OPENAI_COMPAT_API_KEY: 'test',
}
const [A, B, M] = await Promise.all([
  serveCli(['--no-watch', '--store', redis.url], env),
  serveCli(['--no-watch', '--store', redis.url], env),
  serveCli(['--no-watch'], env),
])
t.teardown(async () => { await Promise.all([A.stop(), B.stop(), M.stop()]) })

const sse = (events: unknown[], done = false) => events.map((e) => `data: ${JSON.stringify(e)}\n\n`).join('') + (done ? 'data: [DONE]\n\n' : '')

/** Anthropic: signed thinking, then a tool call (the recorded thinking and tool-call turns, joined). */
function anthropicThinkingTool(): string {
  const thinking = transcript('anthropic-messages', 'reasoning.sse').split('\n\n').filter(Boolean)
  const tool = transcript('anthropic-messages', 'tool_call.sse').split('\n\n').filter(Boolean)
  return [thinking[0], ...thinking.filter((e) => /"index":0/.test(e)), ...tool.filter((e) => /"index":1/.test(e) && !/text/.test(e)), ...tool.filter((e) => /message_delta|message_stop/.test(e))].join('\n\n') + '\n\n'
}

/** Gemini 3: a call with Gemini's own id and a thoughtSignature. */
function gemini3Call(): string {
  return sse(sseEvents(transcript('gemini', 'tool_call.sse')).map((e) => {
    e.candidates[0].content.parts[0].functionCall.id = 'fc-7d1e2a'
    e.modelVersion = 'gemini-3-pro-preview'
    return e
  }))
}

/** DeepSeek-style Chat Completions: reasoning_content, then a tool call. */
function reasoningContentCall(): string {
  const reasoning = sseEvents(transcript('chat-completions', 'reasoning_content.sse')).filter((e) => e.choices?.[0]?.delta?.reasoning_content)
  const call = sseEvents(transcript('chat-completions', 'tool_call.sse'))
  return sse([...reasoning, ...call], true)
}

/** Responses: an encrypted reasoning item before the call (Cursor never sends it back). */
function responsesReasoningCall(): string {
  return transcript('responses', 'tool_call.sse').replaceAll('"type":"reasoning",', '"type":"reasoning","encrypted_content":"gAAAAB-encrypted-reasoning-for-the-test",')
}

interface Feature {
  name: string
  model: string
  body?: Record<string, unknown>
  turn1: () => string
  turn2: string
  /** What turn 2's upstream request carries only when turn 1's reply was remembered. */
  remembered(upstream: any): boolean
}

const FEATURES: Feature[] = [
  {
    name: 'Anthropic thinking signatures',
    model: 'claude-sonnet-4-5',
    body: { reasoning_effort: 'low', max_tokens: 4096 },
    turn1: anthropicThinkingTool,
    turn2: transcript('anthropic-messages', 'text.sse'),
    remembered: (u) => u.thinking?.type === 'enabled' && u.messages.some((m: any) => Array.isArray(m.content) && m.content.some((b: any) => b.type === 'thinking' && b.signature)),
  },
  {
    name: 'Gemini thought signatures (gemini-2.5: ids made up by the engine)',
    model: 'gemini-2.5-flash',
    turn1: () => transcript('gemini', 'tool_call.sse'),
    turn2: transcript('gemini', 'text.sse'),
    remembered: (u) => u.contents.some((c: any) => c.parts.some((p: any) => p.functionCall && p.thoughtSignature)),
  },
  {
    name: 'Gemini call ids (gemini-3)',
    model: 'gemini-3-pro-preview',
    turn1: gemini3Call,
    turn2: transcript('gemini', 'text.sse'),
    remembered: (u) => JSON.stringify(u).split('"id":"fc-7d1e2a"').length === 3, // functionCall and functionResponse
  },
  {
    name: 'reasoning_content (DeepSeek, Kimi)',
    model: 'deepseek-reasoner',
    turn1: reasoningContentCall,
    turn2: transcript('chat-completions', 'text.sse'),
    remembered: (u) => u.messages.some((m: any) => m.role === 'assistant' && typeof m.reasoning_content === 'string' && m.reasoning_content.length > 0),
  },
  {
    name: 'OpenAI encrypted reasoning',
    model: 'gpt-5',
    body: { reasoning_effort: 'medium' },
    turn1: responsesReasoningCall,
    turn2: transcript('responses', 'text.sse'),
    remembered: (u) => u.input.some((i: any) => i.type === 'reasoning' && i.encrypted_content === 'gAAAAB-encrypted-reasoning-for-the-test'),
  },
]

const QUESTION = { role: 'user', content: "What's the weather in Paris?" }

async function chat(s: CliServer, body: unknown): Promise<any[]> {
  const r = await request(`${s.url}/cursor/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  const text = await r.body.text()
  if (r.statusCode !== 200) throw new Error(`${r.statusCode}: ${text}`)
  return parseSse(text).frames
}

/** Turn 1 on `first`, turn 2 (the call's result, as Cursor sends it: no reasoning) on `second`; the upstream request of turn 2. */
async function conversation(f: Feature, first: CliServer, second: CliServer): Promise<any> {
  const base = { model: f.model, stream: true, ...f.body }
  replies = [f.turn1()]
  const one = assemble((await chat(first, { ...base, messages: [QUESTION] })).filter((x) => typeof x === 'object'))
  if (!one.calls.length) throw new Error(`turn 1 of ${f.name} made no tool call`)
  replies = [f.turn2]
  const seen = mock.seen.length
  await chat(second, {
    ...base,
    messages: [
      QUESTION,
      { role: 'assistant', content: null, tool_calls: one.calls.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: c.arguments } })) },
      ...one.calls.map((c) => ({ role: 'tool', tool_call_id: c.id, content: '18°C, clear' })),
    ],
  })
  return mock.seen[seen]!.json
}

for (const f of FEATURES) {
  t.test(`${f.name}: turn 1 on A, turn 2 on B sends what one instance sends`, async (t) => {
    const shared = await conversation(f, A, B)
    const single = await conversation(f, M, M)
    // the upstream's call ids are the same in every run: A must not find the shared run's values
    await raw.flushdb()
    const split = await conversation(f, M, A)
    t.ok(f.remembered(single), 'one instance: turn 2 carries what turn 1 left')
    t.ok(f.remembered(shared), 'A then B over Redis: so does it')
    t.same(shared, single, 'the same upstream request')
    t.notOk(f.remembered(split), 'without a shared store it is lost (the bug)')
  })
}

t.test('Redis killed under load: no request fails, /readyz says degraded, everything comes back with Redis', async (t) => {
  const f = FEATURES[0]!
  const base = { model: f.model, stream: true, ...f.body }
  const firstTurn = anthropicThinkingTool()
  const isTurn2 = (u: any) => JSON.stringify(u.messages).includes('tool_result')
  replyFor = (u) => (isTurn2(u) ? f.turn2 : firstTurn)
  t.teardown(() => { replyFor = null })
  const turn2s: { thinking: boolean; phase: string; ended: string }[] = []
  let phase = 'before'
  const failures: string[] = []
  let done = 0
  let waiting: { n: number; resolve: () => void }[] = []
  const finished = () => { done++; for (const w of waiting.filter((w) => done >= w.n)) w.resolve(); waiting = waiting.filter((w) => done < w.n) }
  const after = (n: number) => new Promise<void>((resolve) => (done >= n ? resolve() : waiting.push({ n, resolve })))

  /** One conversation, its turns on two instances; any answer but a complete 200 stream is a failure. */
  const converse = async (i: number) => {
    const [first, second] = i % 2 ? [A, B] : [B, A]
    const started = phase
    try {
      const one = assemble((await chat(first, { ...base, messages: [QUESTION] })).filter((x) => typeof x === 'object'))
      const seen = mock.seen.length
      const frames = await chat(second, { ...base, messages: [QUESTION, { role: 'assistant', content: null, tool_calls: one.calls.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: c.arguments } })) }, { role: 'tool', tool_call_id: one.calls[0]!.id, content: '18°C' }] })
      if (frames.at(-1) !== '[DONE]' || frames.some((x) => x?.error)) failures.push(`conversation ${i}: turn 2 stream ended badly`)
      const up = mock.seen.slice(seen).find((s) => isTurn2(s.json))
      turn2s.push({ thinking: !!up && f.remembered(up.json), phase: started, ended: phase })
    } catch (err) {
      failures.push(`conversation ${i}: ${(err as Error).message}`)
    }
    finished()
  }
  // four at a time until the store has been back for 20 conversations
  let next = 0
  let stop = false
  const load = Promise.all(Array.from({ length: 4 }, async () => { while (!stop) await converse(next++) }))

  await after(20)
  const unavailable = [A, B].map((s) => s.next((r) => typeof r.msg === 'string' && r.msg.startsWith('store unavailable')))
  await redis.kill()
  phase = 'during'
  await Promise.all(unavailable)
  for (const s of [A, B]) {
    const r = await request(`${s.url}/readyz`)
    const body = (await r.body.json()) as any
    t.equal(r.statusCode, 200, 'still ready: it serves without the store')
    t.match(body, { ready: true, status: 'degraded', reason: /store is unreachable/, store: { kind: 'redis', ok: false } })
  }
  await after(done + 30)
  const back = [A, B].map((s) => s.next((r) => r.msg === 'store available again'))
  await redis.start()
  phase = 'recovering'
  await Promise.all(back)
  phase = 'after'
  await after(done + 24)
  stop = true
  await load
  t.same(failures, [], `0 failed requests of ${next * 2}`)
  for (const s of [A, B]) t.same((await (await request(`${s.url}/readyz`)).body.json()), { ready: true }, 'ready, not degraded')
  const metrics = await (await request(`${A.url}/metrics`)).body.text()
  t.match(metrics, /route_engine_store_errors_total\{op="(get|set)",reason="(unavailable|error)"\} [1-9]/, 'store errors counted')
  t.match(metrics, /route_engine_store_up 1/)
  t.equal([A, B].flatMap((s) => s.logs).filter((r) => typeof r.msg === 'string' && r.msg.startsWith('store unavailable')).length, 2, 'one log line per instance for the outage')
  const by = (p: string) => turn2s.filter((x) => x.phase === p)
  t.ok(by('before').filter((x) => x.ended === 'before').every((x) => x.thinking), 'before: every turn 2 had its thinking')
  // what the outage cost: a turn 2 during it goes without thinking (turned off, not a failure)
  const lost = by('during').filter((x) => !x.thinking).length
  t.comment(`turn 2 without thinking: ${lost} of ${by('during').length} begun during the outage, ${by('recovering').filter((x) => !x.thinking).length} of ${by('recovering').length} while the instances reconnected, ${by('after').filter((x) => !x.thinking).length} of ${by('after').length} after`)
  t.ok(lost > 0, 'the outage did cost thinking (the test saw it)')
  t.ok(by('after').length >= 20 && by('after').every((x) => x.thinking), 'once Redis is back, conversations keep their thinking again')
  t.ok((await conversation(f, A, B)) && f.remembered(await conversation(f, B, A)), 'and a fresh conversation across both is whole')
})
