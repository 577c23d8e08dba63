// The floor for a translating gateway: a hand-written proxy doing, for the bench's requests, the work
// route-engine does on its Chat route, with the same Node machinery as bare-proxy.mjs (node:http +
// undici, backpressure honoured). POST /v1/chat/completions: inbound key check, JSON.parse, then by model
//   claude-*   Chat → Anthropic Messages (system lifted, turns merged, tool calls and results as blocks,
//              tools, tool_choice, max_tokens), the reply Anthropic JSON → Chat, or Anthropic SSE → Chat
//              chunks (the frames route-engine writes: role, one per delta, finish, usage if asked, [DONE])
//   other      Chat → OpenAI-compatible Chat (messages regularised, model and defaults set, re-serialised),
//              the reply rebuilt as strict Chat, a stream parsed and re-serialised chunk by chunk
// Written for these cases only (no reasoning, images or errors mid-stream): it is what hand-written code
// reaches, not a gateway. The bench checks that it sends and answers what route-engine does (suite.mjs).
// Env: ANTHROPIC_URL, COMPAT_URL (bases ending in /v1), KEY (the inbound key), ANTHROPIC_MAX_TOKENS.
// Prints {"url"} on stdout when listening.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import { once } from 'node:events'
import { createServer } from 'node:http'
import { Agent, request } from 'undici'

const agent = new Agent({ keepAliveTimeout: 10_000, connections: 256 })
const digest = (s) => createHash('sha256').update(s).digest()
const KEY = digest(process.env.KEY ?? '')
const MAX_TOKENS = Number(process.env.ANTHROPIC_MAX_TOKENS ?? 32000)
const ANTHROPIC = { url: `${process.env.ANTHROPIC_URL}/messages`, headers: { 'content-type': 'application/json', 'accept-encoding': 'identity', 'x-api-key': 'bench', 'anthropic-version': '2023-06-01' } }
const COMPAT = { url: `${process.env.COMPAT_URL}/chat/completions`, headers: { 'content-type': 'application/json', 'accept-encoding': 'identity', authorization: 'Bearer bench' } }
const SSE_HEADERS = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' }

function authorized(req) {
  const auth = req.headers.authorization
  const given = auth?.startsWith('Bearer ') ? auth.slice(7).trim() : req.headers['x-api-key']
  return typeof given === 'string' && timingSafeEqual(digest(given), KEY)
}

const json = (res, status, body) => {
  const text = JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text)
}

const server = createServer((req, res) => {
  if (req.method !== 'POST' || req.url !== '/v1/chat/completions') return json(res, 404, { error: { message: 'not found' } })
  if (!authorized(req)) return json(res, 401, { error: { message: 'missing or wrong API key' } })
  const chunks = []
  req.on('data', (c) => chunks.push(c))
  req.on('end', () => {
    let body
    try { body = JSON.parse(Buffer.concat(chunks).toString('utf8')) } catch { return json(res, 400, { error: { message: 'the body is not JSON' } }) }
    handle(req, res, body).catch(() => { if (!res.headersSent) json(res, 502, { error: { message: 'upstream failed' } }); else res.destroy() })
  })
})

async function handle(req, res, body) {
  const ac = new AbortController()
  res.on('close', () => { if (!res.writableFinished) ac.abort(new Error('client disconnected')) })
  const anthropic = typeof body.model === 'string' && body.model.startsWith('claude-')
  const to = anthropic ? ANTHROPIC : COMPAT
  const up = await request(to.url, {
    method: 'POST', dispatcher: agent, signal: ac.signal, headers: to.headers,
    body: JSON.stringify(anthropic ? toAnthropic(body) : toCompat(body)),
  })
  if (up.statusCode !== 200) return json(res, up.statusCode, { error: { message: await up.body.text(), type: 'upstream_error' } })
  const env = { id: `chatcmpl-${randomBytes(12).toString('hex')}`, created: Math.floor(Date.now() / 1000), model: body.model }
  if (body.stream !== true) {
    const reply = await up.body.json()
    return json(res, 200, anthropic ? fromAnthropic(reply, env) : fromCompat(reply, env))
  }
  res.writeHead(200, SSE_HEADERS)
  const translate = (anthropic ? anthropicStream : compatStream)(env, body.stream_options?.include_usage === true)
  // the frames of one upstream network chunk go out in one write, as route-engine writes them
  let buf = ''
  for await (const chunk of up.body) {
    buf += chunk.toString('utf8')
    const end = buf.lastIndexOf('\n\n')
    if (end < 0) continue
    let out = ''
    for (const e of buf.slice(0, end).split('\n\n')) out += translate(e)
    buf = buf.slice(end + 2)
    if (out && !res.write(out)) await once(res, 'drain', { signal: ac.signal })
  }
  res.end()
}

// ---- Chat → Anthropic ----
const texts = (content) => typeof content === 'string' ? (content ? [content] : []) : (content ?? []).filter((p) => p.type === 'text').map((p) => p.text)
const TOOL_CHOICE = { auto: { type: 'auto' }, required: { type: 'any' }, none: { type: 'none' } }

function toAnthropic(b) {
  const system = []
  const messages = []
  // Anthropic alternates user and assistant turns: consecutive blocks of one role join one turn
  const add = (role, block) => {
    const last = messages[messages.length - 1]
    if (last?.role === role) last.content.push(block)
    else messages.push({ role, content: [block] })
  }
  for (const m of b.messages) {
    if (m.role === 'system' || m.role === 'developer') {
      for (const text of texts(m.content)) system.push({ type: 'text', text })
    } else if (m.role === 'tool') {
      add('user', { type: 'tool_result', tool_use_id: m.tool_call_id, content: texts(m.content).join('') })
    } else {
      const role = m.role === 'assistant' ? 'assistant' : 'user'
      for (const text of texts(m.content)) add(role, { type: 'text', text })
      for (const c of m.tool_calls ?? []) add('assistant', { type: 'tool_use', id: c.id, name: c.function.name, input: JSON.parse(c.function.arguments || '{}') })
    }
  }
  const out = { model: b.model, max_tokens: b.max_completion_tokens ?? b.max_tokens ?? MAX_TOKENS }
  if (system.length) out.system = system
  out.messages = messages
  if (b.tools?.length) out.tools = b.tools.map((t) => ({ name: t.function.name, description: t.function.description, input_schema: t.function.parameters }))
  if (b.tool_choice) out.tool_choice = TOOL_CHOICE[b.tool_choice] ?? { type: 'tool', name: b.tool_choice.function.name }
  if (b.temperature !== undefined) out.temperature = b.temperature
  if (b.top_p !== undefined) out.top_p = b.top_p
  if (b.stop !== undefined) out.stop_sequences = [].concat(b.stop)
  if (b.user) out.metadata = { user_id: b.user }
  out.stream = b.stream === true
  return out
}

const FINISH = { end_turn: 'stop', stop_sequence: 'stop', max_tokens: 'length', tool_use: 'tool_calls', refusal: 'content_filter' }
const chatUsage = (u) => {
  const cached = u.cache_read_input_tokens ?? 0
  const prompt = u.input_tokens + (u.cache_creation_input_tokens ?? 0) + cached
  return { prompt_tokens: prompt, completion_tokens: u.output_tokens, total_tokens: prompt + u.output_tokens, prompt_tokens_details: { cached_tokens: cached } }
}

function fromAnthropic(a, env) {
  let content = ''
  const calls = []
  for (const c of a.content) {
    if (c.type === 'text') content += c.text
    else if (c.type === 'tool_use') calls.push({ id: c.id, type: 'function', function: { name: c.name, arguments: JSON.stringify(c.input) } })
  }
  const message = { role: 'assistant', content, refusal: null }
  if (calls.length) message.tool_calls = calls
  return {
    id: env.id, object: 'chat.completion', created: env.created, model: env.model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: FINISH[a.stop_reason] ?? 'stop' }],
    usage: chatUsage(a.usage),
  }
}

/** One SSE event's `data:` (the last data line: every event the bench replays has one). */
const dataOf = (e) => {
  const i = e.lastIndexOf('data: ')
  return i < 0 ? undefined : e.slice(i + 6).trimEnd()
}

/** A Chat chunk writer over one reply's envelope (one choice); the envelope is serialised once. */
function chunkWriter(env) {
  const head = `data: {"id":${JSON.stringify(env.id)},"object":"chat.completion.chunk","created":${env.created},"model":${JSON.stringify(env.model)},`
  return {
    delta: (delta, finish = null) => `${head}"choices":[{"index":0,"delta":${JSON.stringify(delta)},"finish_reason":${JSON.stringify(finish)}}]}\n\n`,
    usage: (usage) => `${head}"choices":[],"usage":${JSON.stringify(usage)}}\n\n`,
  }
}

/** Anthropic SSE → Chat chunks, one event at a time: the role chunk before the first content, text and
 * tool-call deltas, the finish chunk, the usage chunk when the client asked for it, [DONE]. */
function anthropicStream(env, includeUsage) {
  const w = chunkWriter(env)
  let started = false
  let usage = {}
  let stop = null
  const calls = new Map() // block index → tool-call ordinal
  const role = () => { if (started) return ''; started = true; return w.delta({ role: 'assistant', content: '' }) }
  return (e) => {
    const data = dataOf(e)
    if (data === undefined) return ''
    const d = JSON.parse(data)
    switch (d.type) {
      case 'message_start': usage = d.message.usage ?? {}; return ''
      case 'content_block_start':
        if (d.content_block.type !== 'tool_use') return ''
        calls.set(d.index, calls.size)
        return role() + w.delta({ tool_calls: [{ index: calls.size - 1, id: d.content_block.id, type: 'function', function: { name: d.content_block.name, arguments: '' } }] })
      case 'content_block_delta':
        if (d.delta.type === 'text_delta' && d.delta.text) return role() + w.delta({ content: d.delta.text })
        if (d.delta.type === 'input_json_delta' && d.delta.partial_json && calls.has(d.index)) return w.delta({ tool_calls: [{ index: calls.get(d.index), function: { arguments: d.delta.partial_json } }] })
        return ''
      case 'message_delta': stop = d.delta.stop_reason ?? stop; usage = { ...usage, ...d.usage }; return ''
      case 'message_stop': return role() + w.delta({}, FINISH[stop] ?? 'stop') + (includeUsage ? w.usage(chatUsage(usage)) : '') + 'data: [DONE]\n\n'
      default: return ''
    }
  }
}

// ---- Chat → OpenAI-compatible Chat ----
const PASSED = ['tools', 'tool_choice', 'temperature', 'top_p', 'max_tokens', 'stop', 'response_format']

function toCompat(b) {
  const messages = b.messages.map((m) => {
    if (m.role === 'tool') return { role: 'tool', tool_call_id: m.tool_call_id, content: m.content }
    if (m.role !== 'assistant' || !m.tool_calls) return m
    return { role: 'assistant', content: m.content || null, tool_calls: m.tool_calls.map((c) => ({ id: c.id, type: 'function', function: { name: c.function.name, arguments: c.function.arguments } })) }
  })
  const out = { model: b.model, messages, stream: b.stream === true }
  // usage always asked for: the stream reports it to a client that asked, and keeps it otherwise
  if (out.stream) out.stream_options = { include_usage: true }
  for (const k of PASSED) if (b[k] !== undefined) out[k] = b[k]
  return out
}

function fromCompat(c, env) {
  const m = c.choices[0].message
  const message = { role: 'assistant', content: m.content ?? '', refusal: m.refusal ?? null }
  if (m.tool_calls?.length) message.tool_calls = m.tool_calls.map((t) => ({ id: t.id, type: 'function', function: { name: t.function.name, arguments: t.function.arguments } }))
  const u = c.usage
  return {
    id: env.id, object: 'chat.completion', created: env.created, model: env.model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: c.choices[0].finish_reason }],
    usage: {
      prompt_tokens: u.prompt_tokens, completion_tokens: u.completion_tokens, total_tokens: u.total_tokens,
      prompt_tokens_details: { cached_tokens: u.prompt_tokens_details?.cached_tokens ?? 0 },
      completion_tokens_details: { reasoning_tokens: u.completion_tokens_details?.reasoning_tokens ?? 0 },
    },
  }
}

/** Chat chunks → Chat chunks under this reply's envelope, null fields left out; usage only if asked. */
function compatStream(env, includeUsage) {
  const w = chunkWriter(env)
  return (e) => {
    const data = dataOf(e)
    if (data === undefined) return ''
    if (data === '[DONE]') return 'data: [DONE]\n\n'
    const c = JSON.parse(data)
    let out = ''
    for (const choice of c.choices ?? []) {
      const delta = {}
      for (const k in choice.delta) if (choice.delta[k] !== null) delta[k] = choice.delta[k]
      out += w.delta(delta, choice.finish_reason ?? null)
    }
    if (c.usage && includeUsage) out += w.usage(c.usage)
    return out
  }
}

server.keepAliveTimeout = 60_000
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ url: `http://127.0.0.1:${server.address().port}` }) + '\n')
})
