// One try of one target (a rule's own upstream or a fallback):
//   transformRequest → sendUpstream → transformStream | transformResponse | pass-through | the upstream's error
// A failure before the client got anything is returned, so the caller can retry, fall back or answer
// with it; once bytes went out, this try answers the failure itself, down the stream.
import { once } from 'node:events'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Dispatcher } from 'undici'
import { asRouteError, RouteError } from '../errors.js'
import { isPromise } from '../expr/runtime.js'
import type { Target, Upstream } from '../ruleset/ruleset.js'
import { createSseDecoder, type SseEvent } from '../sse/decode.js'
import { ByteBuffer } from './byte-buffer.js'
import type { Matched } from './match.js'
import type { Observer } from './observer.js'
import type { ProxyDeps, Trace } from './proxy.js'
import type { Redact } from './redact.js'
import { ClientStream, replyJson } from './reply.js'
import { replyError } from './reply-error.js'
import { renderHeader, renderPath } from './render-template.js'
import { failureKind, retryAfter, type Failure } from './retry.js'
import { sendUpstream, upstreamFailure, type CallTiming } from './send-upstream.js'
import { setServerTiming } from './server-timing.js'
import { transformError, transformResponse } from './transform-response.js'
import { transformRequest } from './transform-request.js'
import { checkLimits } from './rate-limits.js'
import { malformed, tokensIn, transformStream, type StreamRun } from './transform-stream.js'
import { takeSlot } from './upstream-slots.js'
import type { ErrorOut } from './write-error.js'
import type { Release } from '../store/store.js'

export interface AttemptContext {
  req: IncomingMessage
  res: ServerResponse
  deps: ProxyDeps
  matched: Matched
  bindings: Record<string, unknown> & { ctx: Record<string, unknown> }
  /** How this request's errors are written. */
  errors: ErrorOut
  /** Aborted when the client goes away or the server stops. */
  signal: AbortSignal
  trace: Trace
  /** performance.now() when the request arrived. */
  t0: number
  obs?: Observer
  redact: Redact
}

type ActiveStream = { client: ClientStream; run: StreamRun }

// content-length and content-encoding stay: a pass-through sends the upstream's bytes unchanged.
const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'host'])
/** Bytes without one complete event: past this an upstream stream is not SSE any more. */
const MAX_EVENT_BYTES = 16 << 20
/** The largest upstream JSON reply read when the server sets no other limit. */
export const DEFAULT_MAX_REPLY_BYTES = 32 << 20

export async function attempt(target: Target, c: AttemptContext): Promise<Failure | null> {
  const { res, signal, trace } = c
  const rule = c.matched.rule.name
  const up = c.deps.ruleset.upstreams.get(target.upstream.name)!
  const bindings = up.name === c.bindings.ctx.upstream ? c.bindings : { ...c.bindings, ctx: { ...c.bindings.ctx, upstream: up.name } }
  let upRes: Dispatcher.ResponseData<unknown> | undefined
  let stream: ActiveStream | undefined
  let release: Release | undefined
  trace.upstream = up.name
  try {
    const t1 = performance.now()
    const upBody = await transformRequest(target.request, c.matched.request, bindings, rule, c.obs?.step)
    const t2 = performance.now()
    trace.ms.request = t2 - c.t0
    if (!up.base) {
      throw new RouteError('RE_UPSTREAM_UNCONFIGURED', `model '${c.matched.clientModel ?? '(none)'}' routes to upstream '${up.name}' (rule '${rule}'), which has no base URL: set ${up.baseVars.join(' or ') || 'its base'}`, { rule, upstream: up.name })
    }
    const call = {
      url: up.base + (await renderPath(target.upstream.path, upBody, bindings, rule)),
      method: target.upstream.method ?? c.req.method ?? 'POST',
      headers: await upstreamHeaders(c.req, up, target, upBody, bindings, rule),
      body: upBody === undefined ? undefined : JSON.stringify(upBody),
    }
    c.obs?.upstream?.(call, up)
    if (up.limits) await checkLimits(c.deps.store, `upstream:${up.name}`, up.limits, `upstream '${up.name}'`, rule, up.name)
    release = await takeSlot(c.deps.store, up, rule)
    const timing: CallTiming = {}
    upRes = await sendUpstream(up, call, signal, rule, c.obs?.dispatcher ?? c.deps.dispatcher, timing)
    const t3 = performance.now()
    trace.upstreamStatus = upRes.statusCode
    trace.ms.firstByte = t3 - c.t0
    trace.ms.connect = timing.connectMs
    setServerTiming(res, { match: trace.ms.match, transforms: t2 - t1, connect: timing.connectMs, firstByte: t3 - t2 })
    const upHeaders = flatHeaders(upRes.headers)

    if (upRes.statusCode >= 400) {
      const text = c.redact(await readText(upRes.body, 1 << 20, up, rule))
      const upstreamError = await transformError(target.response, rule, up.name, upRes.statusCode, text, upHeaders, bindings)
      ;(trace.failures ??= []).push({ upstream: up.name, code: `HTTP_${upRes.statusCode}` })
      return { upstreamError, status: upRes.statusCode, on: failureKind(upRes.statusCode), retryAfterMs: retryAfter(upHeaders) }
    }
    const program = target.response.stream
    const usage = c.deps.ruleset.limits.countTokens ? c.deps.ruleset.limits.usage : null
    if (program && (upHeaders['content-type'] ?? '').includes('text/event-stream')) {
      stream = { client: new ClientStream(res, signal, program.keepaliveMs), run: transformStream(program, bindings, rule, up.name, usage) }
      await pumpStream(upRes.body, stream, up, rule, signal)
      return null
    }
    if (target.response.body) {
      const text = await readJson(upRes, c.deps.maxReplyBytes ?? DEFAULT_MAX_REPLY_BYTES, up, rule)
      let parsed: unknown
      try { parsed = JSON.parse(text) } catch {
        throw new RouteError('RE_UPSTREAM_ERROR', `upstream '${up.name}' answered ${upRes.statusCode} with a body that is not JSON (rule '${rule}')`, { rule, upstream: up.name })
      }
      const out = await transformResponse(target.response, rule, parsed, bindings)
      if (usage) trace.tokens = tokensIn(usage, out, rule)
      replyJson(res, 200, out)
      return null
    }
    await passThrough(upRes, res, signal)
    return null
  } catch (err) {
    // An abort's own error (undici's, or events.once's) hides why: the signal's reason says it.
    const e = signal.aborted && signal.reason instanceof RouteError ? signal.reason : asRouteError(err, rule)
    if (e.upstream !== undefined && !signal.aborted) (trace.failures ??= []).push({ upstream: e.upstream, code: e.code })
    if (res.headersSent) {
      trace.code = e.code
      await replyError(res, e, { ...c.errors, bindings }, stream, c.redact)
      return null
    }
    if (signal.aborted) throw e
    return { error: e, status: e.status, on: failureKind(e), retryAfterMs: retryAfter(e.headers ?? {}) }
  } finally {
    if (stream) {
      stream.client.stop()
      trace.frames = stream.client.frames
      if (stream.run.tokens !== undefined) trace.tokens = stream.run.tokens
      if (stream.client.firstFrameAt !== null) trace.ms.firstToken = stream.client.firstFrameAt - c.t0
    }
    upRes?.body.destroy()
    // the answer is out; the request ends (and is logged) once the store has the slot back
    await release?.()
  }
}

/** Upstream SSE → program → client, event by event; upstream failures mid-stream end the client's stream cleanly. */
async function pumpStream(body: Dispatcher.ResponseData['body'], s: ActiveStream, up: Upstream, rule: string, signal: AbortSignal): Promise<void> {
  const events: SseEvent[] = []
  const decoder = createSseDecoder((ev) => events.push(ev))
  let stopped = false
  let pending = 0
  let idle: NodeJS.Timeout | null = null
  const armIdle = () => {
    if (idle) clearTimeout(idle)
    idle = setTimeout(() => body.destroy(new RouteError('RE_UPSTREAM_TIMEOUT', `timeout: upstream '${up.name}' sent nothing for ${up.timeouts.idle} ms (rule '${rule}')`, { rule, upstream: up.name })), up.timeouts.idle)
  }
  // The frames of all the events one network chunk held go out in one write (one syscall, not one
  // per event); what came before an event that fails is written before the failure is handled.
  const drain = async () => {
    let out = ''
    try {
      while (events.length && !stopped) {
        const r = s.run.onEvent(events.shift()!)
        const { text, stop } = isPromise(r) ? await r : r
        out += text
        stopped = stop
      }
    } finally {
      await s.client.write(out)
    }
  }
  try {
    armIdle()
    for await (const chunk of body) {
      // The upstream's silence is timed only while it is read: waiting for a slow client to drain is
      // not the upstream's (and undici pauses its own body timer while the stream is not read).
      if (idle) clearTimeout(idle)
      decoder.push(chunk as Buffer)
      pending = events.length ? 0 : pending + (chunk as Buffer).length
      if (pending > MAX_EVENT_BYTES) throw malformed(`more than ${MAX_EVENT_BYTES} bytes without a complete event`, rule, up.name)
      await drain()
      if (stopped) break
      armIdle()
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

async function passThrough(upRes: Dispatcher.ResponseData<unknown>, res: ServerResponse, signal: AbortSignal): Promise<void> {
  const headers: Record<string, string | string[]> = {}
  for (const [k, v] of Object.entries(upRes.headers)) if (v !== undefined && !HOP.has(k)) headers[k] = v
  res.writeHead(upRes.statusCode, headers)
  // The headers go out with the first chunk (one write, not two); a body slow to start still gets
  // them out at once.
  let wrote = false
  const early = setImmediate(() => { if (!wrote) res.flushHeaders() })
  try {
    for await (const chunk of upRes.body) {
      wrote = true
      if (!res.write(chunk)) await once(res, 'drain', { signal })
    }
  } finally {
    clearImmediate(early)
  }
  res.end()
}

/** An upstream's JSON reply as text, read up to `max` bytes: past it, a 502 that names the limit. */
async function readJson(upRes: Dispatcher.ResponseData<unknown>, max: number, up: Upstream, rule: string): Promise<string> {
  const upstream = up.name
  const tooLarge = () => {
    upRes.body.destroy()
    return new RouteError('RE_UPSTREAM_TOO_LARGE', `upstream '${upstream}' answered with a body larger than the limit of ${max} bytes (--max-upstream-reply, rule '${rule}')`, { rule, upstream })
  }
  const declared = Number(upRes.headers['content-length'])
  if (declared > max) throw tooLarge()
  const buf = new ByteBuffer(max, Number.isInteger(declared) ? declared : 0)
  try {
    for await (const c of upRes.body) {
      if (buf.growth((c as Buffer).length) === null) throw tooLarge()
      buf.push(c as Buffer)
    }
  } catch (err) {
    throw brokenOff(err, up, rule)
  }
  return buf.bytes().toString('utf8')
}

async function readText(body: Dispatcher.ResponseData['body'], max: number, up: Upstream, rule: string): Promise<string> {
  const chunks: Buffer[] = []
  let size = 0
  try {
    for await (const c of body) {
      size += (c as Buffer).length
      if (size > max) { body.destroy(); break }
      chunks.push(c as Buffer)
    }
  } catch (err) {
    throw brokenOff(err, up, rule)
  }
  return Buffer.concat(chunks).toString('utf8')
}

/** A body the upstream broke off (the socket closed before its end): the upstream's failure, 502 and
 *  retried like a reset before the first frame (`connect`), not an internal error. */
function brokenOff(err: unknown, up: Upstream, rule: string): RouteError {
  if (err instanceof RouteError) return err
  const e = err as { code?: string; message?: string }
  return new RouteError('RE_UPSTREAM_UNREACHABLE', `upstream '${up.name}' broke off its reply: ${[e.code, e.message].filter(Boolean).join(' ')} (rule '${rule}')`, { rule, upstream: up.name, cause: err })
}

async function upstreamHeaders(req: IncomingMessage, up: Upstream, target: Target, body: unknown, bindings: Record<string, unknown>, rule: string): Promise<Record<string, string>> {
  const h: Record<string, string> = { 'content-type': 'application/json', 'accept-encoding': 'identity' }
  const ua = req.headers['user-agent']
  if (ua) h['user-agent'] = ua
  for (const name of up.forward) {
    for (const [k, v] of Object.entries(req.headers)) {
      if (v !== undefined && (k === name || (name.endsWith('*') && k.startsWith(name.slice(0, -1))))) h[k] = Array.isArray(v) ? v.join(', ') : v
    }
  }
  Object.assign(h, up.headers)
  for (const [k, t] of Object.entries(target.upstream.headers)) h[k] = await renderHeader(k, t, body, bindings, rule)
  return h
}

function flatHeaders(h: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(h)) if (v !== undefined) out[k] = Array.isArray(v) ? v.join(', ') : v
  return out
}
