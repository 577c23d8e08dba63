// One request through the stages, in order:
//   receive → match → transformRequest → sendUpstream → transformResponse | transformStream → reply
// Errors from any stage go to replyError. The Ruleset is captured once: a reload during the request
// does not change the rules it runs on.
import { randomBytes } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Dispatcher } from 'undici'
import { asRouteError, RouteError } from '../errors.js'
import { evaluate } from '../expr/evaluate.js'
import type { Rule, Ruleset, Template, Upstream } from '../ruleset/ruleset.js'
import { createSseDecoder, type SseEvent } from '../sse/decode.js'
import type { Store } from '../store/store.js'
import { match } from './match.js'
import type { Observer } from './observer.js'
import { receive, type ReceiveLimits } from './receive.js'
import { ClientStream, replyJson } from './reply.js'
import { replyError } from './reply-error.js'
import { sendUpstream, upstreamFailure } from './send-upstream.js'
import { transformError, transformResponse } from './transform-response.js'
import { transformRequest } from './transform-request.js'
import { transformStream, type StreamRun } from './transform-stream.js'

export interface ProxyDeps {
  ruleset: Ruleset
  store: Store
  limits: ReceiveLimits
  /** Replaces the upstream agents (explain, tests). */
  dispatcher?: Dispatcher
  /** Called once per request for an Observer of its stages (explain, test, capture). */
  observe?: () => Observer
}

/** What the request log line reports. */
export interface Trace {
  rule?: string
  upstream?: string
  upstreamStatus?: number
  status?: number
  code?: string
  ms: { match?: number; request?: number; firstByte?: number; total?: number }
  frames?: number
}

const ID_CHARS = 'abcdefghijklmnopqrstuvwxyz0123456789'
const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'content-length', 'content-encoding', 'host'])
const CREDENTIALS = new Set(['authorization', 'x-api-key', 'x-goog-api-key', 'api-key', 'cookie', 'proxy-authorization'])

export async function proxy(req: IncomingMessage, res: ServerResponse, deps: ProxyDeps, trace: Trace): Promise<void> {
  const t0 = performance.now()
  const ac = new AbortController()
  res.on('close', () => { if (!res.writableFinished) ac.abort(new RouteError('RE_BAD_REQUEST', 'client disconnected')) })
  let stream: { client: ClientStream; run: StreamRun } | undefined
  const obs = deps.observe?.()
  try {
    const url = new URL(req.url ?? '/', 'http://x')
    const body = await receive(req, deps.limits)
    const input = { method: req.method ?? 'GET', path: url.pathname, headers: req.headers, body }
    obs?.received?.(input)
    const m = await match(deps.ruleset, input)
    obs?.matched?.(m)
    const rule = m.rule
    trace.rule = rule.name
    trace.ms.match = performance.now() - t0
    const bindings = {
      request: m.request,
      ctx: {
        id: randomId(),
        created: Math.floor(Date.now() / 1000),
        model: m.clientModel,
        path: url.pathname,
        method: req.method,
        rule: rule.name,
        upstream: rule.upstream?.name,
        headers: exposedHeaders(req),
        query: Object.fromEntries(url.searchParams),
      },
      vars: rule.vars,
      models: deps.ruleset.models,
      recall: (key: unknown) => deps.store.get(String(key)),
      remember: async (key: unknown, value: unknown, ttl?: number) => { await deps.store.set(String(key), value, ttl); return value },
    }

    if (rule.reply) {
      const out = rule.reply.body ? await evaluate(rule.reply.body, m.request, bindings, rule.name) : undefined
      if (out === undefined) res.writeHead(rule.reply.status, rule.reply.headers).end()
      else replyJson(res, rule.reply.status, out, rule.reply.headers)
      return
    }

    const upBody = await transformRequest(rule.request, m.request, bindings, rule.name, obs?.step)
    trace.ms.request = performance.now() - t0
    const up = deps.ruleset.upstreams.get(rule.upstream!.name)!
    trace.upstream = up.name
    if (!up.base) {
      throw new RouteError('RE_UPSTREAM_UNCONFIGURED', `model '${m.clientModel ?? '(none)'}' routes to upstream '${up.name}' (rule '${rule.name}'), which has no base URL: set ${up.baseVars.join(' or ') || 'its base'}`, { rule: rule.name, upstream: up.name })
    }
    const call = {
      url: up.base + (await render(rule.upstream!.path, upBody, bindings, rule.name)),
      method: rule.upstream!.method ?? req.method ?? 'POST',
      headers: await upstreamHeaders(req, up, rule, upBody, bindings),
      body: upBody === undefined ? undefined : JSON.stringify(upBody),
    }
    obs?.upstream?.(call, up)
    const upRes = await sendUpstream(up, call, ac.signal, rule.name, obs?.dispatcher ?? deps.dispatcher)
    trace.upstreamStatus = upRes.statusCode
    trace.ms.firstByte = performance.now() - t0
    const upHeaders = flatHeaders(upRes.headers)

    if (upRes.statusCode >= 400) {
      const text = await readText(upRes.body, 1 << 20)
      const reply = await transformError(rule, up.name, upRes.statusCode, text, upHeaders, bindings)
      replyJson(res, reply.status, reply.body, reply.headers)
      return
    }
    const program = rule.response.stream
    if (program && (upHeaders['content-type'] ?? '').includes('text/event-stream')) {
      stream = { client: new ClientStream(res, ac.signal, program.keepaliveMs), run: transformStream(program, bindings, rule.name) }
      await pumpStream(upRes.body, stream, up, rule.name, ac.signal)
      trace.frames = stream.client.frames
      return
    }
    if (rule.response.body) {
      const text = await readText(upRes.body, Infinity)
      let parsed: unknown
      try { parsed = JSON.parse(text) } catch {
        throw new RouteError('RE_UPSTREAM_ERROR', `upstream '${up.name}' answered ${upRes.statusCode} with a body that is not JSON (rule '${rule.name}')`, { rule: rule.name, upstream: up.name })
      }
      replyJson(res, 200, await transformResponse(rule, parsed, bindings))
      return
    }
    await passThrough(upRes, res, ac.signal)
  } catch (err) {
    const e = asRouteError(err, trace.rule)
    trace.code = e.code
    if (!ac.signal.aborted || e.code !== 'RE_BAD_REQUEST') await replyError(res, e, stream)
  } finally {
    stream?.client.stop()
    trace.status = res.statusCode
    trace.ms.total = performance.now() - t0
  }
}

/** Upstream SSE → program → client, event by event; upstream failures mid-stream end the client's stream cleanly. */
async function pumpStream(body: Dispatcher.ResponseData['body'], s: { client: ClientStream; run: StreamRun }, up: Upstream, rule: string, signal: AbortSignal): Promise<void> {
  const events: SseEvent[] = []
  const decoder = createSseDecoder((ev) => events.push(ev))
  let stopped = false
  let idle: NodeJS.Timeout | null = null
  const armIdle = () => {
    if (idle) clearTimeout(idle)
    idle = setTimeout(() => body.destroy(new RouteError('RE_UPSTREAM_TIMEOUT', `timeout: upstream '${up.name}' sent nothing for ${up.timeouts.idle} ms (rule '${rule}')`, { rule, upstream: up.name })), up.timeouts.idle)
  }
  const drain = async () => {
    while (events.length && !stopped) {
      const r = await s.run.onEvent(events.shift()!)
      await s.client.write(r.text)
      stopped = r.stop
    }
  }
  try {
    armIdle()
    for await (const chunk of body) {
      armIdle()
      decoder.push(chunk as Buffer)
      await drain()
      if (stopped) break
    }
    if (!stopped) { decoder.end(); await drain() }
  } catch (err) {
    if (signal.aborted) throw err
    throw upstreamFailure(err instanceof RouteError ? err : Object.assign(new Error(`the stream broke: ${(err as Error).message}`), { code: (err as { code?: string }).code }), up, rule)
  } finally {
    if (idle) clearTimeout(idle)
    if (stopped) body.destroy()
  }
  await s.client.write(await s.run.onEnd())
  s.client.end()
}

async function passThrough(upRes: Dispatcher.ResponseData, res: ServerResponse, signal: AbortSignal): Promise<void> {
  const headers: Record<string, string | string[]> = {}
  for (const [k, v] of Object.entries(upRes.headers)) if (v !== undefined && !HOP.has(k)) headers[k] = v
  res.writeHead(upRes.statusCode, headers)
  res.flushHeaders()
  for await (const chunk of upRes.body) {
    if (!res.write(chunk)) await new Promise<void>((resolve, reject) => {
      res.once('drain', resolve)
      signal.addEventListener('abort', () => reject(signal.reason), { once: true })
    })
  }
  res.end()
}

async function readText(body: Dispatcher.ResponseData['body'], max: number): Promise<string> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const c of body) {
    size += (c as Buffer).length
    if (size > max) { body.destroy(); break }
    chunks.push(c as Buffer)
  }
  return Buffer.concat(chunks).toString('utf8')
}

async function render(t: Template, body: unknown, bindings: Record<string, unknown>, rule: string): Promise<string> {
  let out = ''
  for (const p of t.parts) out += typeof p === 'string' ? p : String((await evaluate(p, body, bindings, rule)) ?? '')
  return out
}

async function upstreamHeaders(req: IncomingMessage, up: Upstream, rule: Rule, body: unknown, bindings: Record<string, unknown>): Promise<Record<string, string>> {
  const h: Record<string, string> = { 'content-type': 'application/json', 'accept-encoding': 'identity' }
  const ua = req.headers['user-agent']
  if (ua) h['user-agent'] = ua
  for (const name of up.forward) {
    for (const [k, v] of Object.entries(req.headers)) {
      if (v !== undefined && (k === name || (name.endsWith('*') && k.startsWith(name.slice(0, -1))))) h[k] = Array.isArray(v) ? v.join(', ') : v
    }
  }
  Object.assign(h, up.headers)
  for (const [k, t] of Object.entries(rule.upstream!.headers)) h[k] = await render(t, body, bindings, rule.name)
  return h
}

function exposedHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && !CREDENTIALS.has(k)) out[k] = Array.isArray(v) ? v.join(', ') : v
  return out
}

function flatHeaders(h: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(h)) if (v !== undefined) out[k] = Array.isArray(v) ? v.join(', ') : v
  return out
}

function randomId(): string {
  let s = ''
  for (const b of randomBytes(24)) s += ID_CHARS[b % ID_CHARS.length]
  return s
}
