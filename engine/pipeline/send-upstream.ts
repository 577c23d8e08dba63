// Sends the upstream request with undici (one keep-alive Agent per upstream), with the first-byte
// deadline and client-disconnect abort on one signal. undici's own timeouts are coarse (they fire up
// to a second late), so they only back up our timers.
import { Agent, request, type Dispatcher } from 'undici'
import { RouteError } from '../errors.js'
import type { Upstream } from '../ruleset/ruleset.js'

export interface UpstreamCall {
  url: string
  method: string
  headers: Record<string, string>
  body: string | undefined
}

const agents = new Map<string, Agent>()

function agentFor(up: Upstream): Agent {
  const key = `${up.name}|${up.timeouts.connect}|${up.timeouts.firstByte}|${up.timeouts.idle}`
  let a = agents.get(key)
  if (!a) {
    a = new Agent({
      keepAliveTimeout: 10_000,
      connections: 256,
      connect: { timeout: up.timeouts.connect },
      headersTimeout: up.timeouts.firstByte + 1000,
      bodyTimeout: up.timeouts.idle + 1000,
    })
    agents.set(key, a)
  }
  return a
}

export async function closeAgents(): Promise<void> {
  await Promise.all([...agents.values()].map((a) => a.close()))
  agents.clear()
}

export async function sendUpstream(up: Upstream, call: UpstreamCall, signal: AbortSignal, rule: string, dispatcher?: Dispatcher): Promise<Dispatcher.ResponseData> {
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
