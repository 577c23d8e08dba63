// Sends the upstream request with undici (one keep-alive Agent per upstream), with the first-byte
// deadline and client-disconnect abort on one signal. undici's own timeouts are coarse (they fire up
// to a second late), so they only back up our timers.
import type { IncomingHttpHeaders } from 'node:http'
import type { Duplex } from 'node:stream'
import { Agent, request, type Dispatcher } from 'undici'
import { RouteError } from '../errors.js'
import type { Upstream } from '../ruleset/ruleset.js'

export interface UpstreamCall {
  url: string
  method: string
  headers: Record<string, string>
  body: string | undefined
}

/** Filled in as a call goes: ms from sending until the request had a connected socket (0 when one was free). */
export interface CallTiming {
  start?: number
  connectMs?: number
}

const agents = new Map<string, Dispatcher>()

/** The shared keep-alive agent of an upstream (capture composes a recorder onto it). */
export function agentFor(up: Upstream): Dispatcher {
  const key = `${up.name}|${up.timeouts.connect}|${up.timeouts.firstByte}|${up.timeouts.idle}|${up.maxConcurrent}`
  let a = agents.get(key)
  if (!a) {
    a = new TimedAgent({
      keepAliveTimeout: 10_000,
      // maxConcurrent bounds the calls (upstream-slots.ts); no second, silent queue here.
      connections: up.maxConcurrent,
      connect: { timeout: up.timeouts.connect },
      headersTimeout: up.timeouts.firstByte + 1000,
      bodyTimeout: up.timeouts.idle + 1000,
    })
    agents.set(key, a)
  }
  return a
}

/**
 * An Agent that notes when a request got its socket (undici calls the handler's onConnect, or
 * onRequestStart, then). A subclass rather than an interceptor: compose() puts a Proxy around the
 * agent and converts every event between handler styles twice.
 */
class TimedAgent extends Agent {
  override dispatch(opts: Agent.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    const timing = (opts as { opaque?: CallTiming }).opaque
    if (timing?.start === undefined) return super.dispatch(opts, handler)
    return super.dispatch(opts, 'onRequestStart' in handler ? new ConnectTimer(handler, timing) : new LegacyConnectTimer(handler, timing))
  }
}

const connected = (timing: CallTiming): void => { timing.connectMs ??= performance.now() - timing.start! }

/** Forwards every event of a handler of undici's current interface. */
class ConnectTimer implements Dispatcher.DispatchHandler {
  constructor(readonly h: Dispatcher.DispatchHandler, readonly timing: CallTiming) {}
  onRequestStart(c: Dispatcher.DispatchController, context: unknown): void {
    connected(this.timing)
    this.h.onRequestStart?.(c, context)
  }
  onRequestUpgrade(c: Dispatcher.DispatchController, status: number, headers: IncomingHttpHeaders, socket: Duplex): void {
    this.h.onRequestUpgrade?.(c, status, headers, socket)
  }
  onResponseStart(c: Dispatcher.DispatchController, status: number, headers: IncomingHttpHeaders, message: string): void {
    this.h.onResponseStart?.(c, status, headers, message)
  }
  onResponseData(c: Dispatcher.DispatchController, chunk: Buffer): void {
    this.h.onResponseData?.(c, chunk)
  }
  onResponseEnd(c: Dispatcher.DispatchController, trailers: IncomingHttpHeaders): void {
    this.h.onResponseEnd?.(c, trailers)
  }
  onResponseError(c: Dispatcher.DispatchController, err: Error): void {
    this.h.onResponseError?.(c, err)
  }
}

/** Forwards every event of a handler of undici's legacy interface (request()'s own), return values included. */
class LegacyConnectTimer implements Dispatcher.DispatchHandler {
  constructor(readonly h: Dispatcher.DispatchHandler, readonly timing: CallTiming) {}
  onConnect(abort: (err?: Error) => void): void {
    connected(this.timing)
    this.h.onConnect?.(abort)
  }
  onHeaders(status: number, raw: Buffer[], resume: () => void, text: string): boolean {
    return this.h.onHeaders?.(status, raw, resume, text) ?? true
  }
  onData(chunk: Buffer): boolean {
    return this.h.onData?.(chunk) ?? true
  }
  onComplete(trailers: string[] | null): void {
    this.h.onComplete?.(trailers)
  }
  onError(err: Error): void {
    this.h.onError?.(err)
  }
  onUpgrade(status: number, raw: Buffer[] | string[] | null, socket: Duplex): void {
    this.h.onUpgrade?.(status, raw, socket)
  }
  onResponseStarted(): void {
    this.h.onResponseStarted?.()
  }
  onBodySent(chunkSize: number, total: number): void {
    this.h.onBodySent?.(chunkSize, total)
  }
}

export async function closeAgents(): Promise<void> {
  await Promise.all([...agents.values()].map((a) => a.close()))
  agents.clear()
}

export async function sendUpstream(up: Upstream, call: UpstreamCall, signal: AbortSignal, rule: string, dispatcher?: Dispatcher, timing?: CallTiming): Promise<Dispatcher.ResponseData<unknown>> {
  const ac = new AbortController()
  const onAbort = () => ac.abort(signal.reason)
  signal.addEventListener('abort', onAbort, { once: true })
  const timer = setTimeout(
    () => ac.abort(new RouteError('RE_UPSTREAM_TIMEOUT', `timeout: upstream '${up.name}' sent no response headers within ${up.timeouts.firstByte} ms (rule '${rule}')`, { rule, upstream: up.name })),
    up.timeouts.firstByte,
  )
  try {
    // The client's signal stays linked after the headers: it must also abort the body.
    return await request(call.url, {
      method: call.method as Dispatcher.HttpMethod,
      headers: call.headers,
      body: call.body,
      signal: ac.signal,
      dispatcher: dispatcher ?? agentFor(up),
      opaque: timing && Object.assign(timing, { start: performance.now() }),
    })
  } catch (err) {
    signal.removeEventListener('abort', onAbort)
    throw upstreamFailure(err, up, rule)
  } finally {
    clearTimeout(timer)
  }
}

/** An undici or abort error → the RouteError the client sees. */
export function upstreamFailure(err: unknown, up: Upstream, rule: string): RouteError {
  if (err instanceof RouteError) return err
  const e = err as { code?: string; message?: string; cause?: { code?: string; message?: string } }
  const code = e.code ?? e.cause?.code ?? ''
  const opts = { rule, upstream: up.name, cause: err }
  if (code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
    return new RouteError('RE_UPSTREAM_TIMEOUT', `timeout: upstream '${up.name}' timed out (${code}, rule '${rule}')`, opts)
  }
  const detail = [code, e.message ?? e.cause?.message].filter(Boolean).join(' ')
  return new RouteError('RE_UPSTREAM_UNREACHABLE', `upstream '${up.name}' is unreachable: ${detail} (rule '${rule}')`, opts)
}
