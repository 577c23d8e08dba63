// Retry and fallback: which failures a rule's policy covers, how long to wait before the next try,
// and the loop over a rule's targets (its own upstream, then each fallback). A try may be repeated
// only while nothing has reached the client; the caller's `attempt` says so by returning a failure
// instead of answering.
import { RouteError } from '../errors.js'
import type { RetryOn, RetryPolicy, Target } from '../ruleset/ruleset.js'

/** A try that failed before the client got anything: the answer it would give, and why it failed. */
export interface Failure {
  /** An upstream error status, as the error the client gets (the upstream's answer, not the engine's failure). */
  upstreamError?: RouteError
  /** Any other failure. */
  error?: RouteError
  /** The upstream status, or the error's status. */
  status: number
  /** Which kind of failure, for the policy; null when no policy covers it. */
  on: RetryOn | null
  /** The upstream's retry-after, in ms. */
  retryAfterMs: number | null
}

export interface RetryEvents {
  retry(target: Target, failure: Failure, delayMs: number): void
  fallback(from: Target, to: Target, failure: Failure): void
}

/**
 * Tries each target in order, each up to 1 + `retry.attempts` times, while the failures are ones its
 * policy covers. Resolves with the last failure when no try succeeded (the caller answers with it),
 * or null once a try answered the client.
 */
export async function tryTargets(targets: readonly Target[], attempt: (target: Target) => Promise<Failure | null>, signal: AbortSignal, events: RetryEvents): Promise<Failure | null> {
  let failure: Failure | null = null
  for (const [i, target] of targets.entries()) {
    if (failure) events.fallback(targets[i - 1]!, target, failure)
    for (let n = 0; ; n++) {
      failure = await attempt(target)
      if (!failure) return null
      if (!failure.on || !target.retry.on.has(failure.on)) return failure
      const delay = n < target.retry.attempts ? retryDelay(target.retry, n, failure.retryAfterMs) : null
      if (delay === null) break
      events.retry(target, failure, delay)
      await sleep(delay, signal)
    }
  }
  return failure
}

/** ms to wait before retry number n + 1 (exponential, with jitter), or null when a retry-after is longer than the policy allows. */
export function retryDelay(p: RetryPolicy, n: number, retryAfterMs: number | null): number | null {
  if (retryAfterMs !== null) return retryAfterMs <= p.maxDelayMs ? retryAfterMs : null
  const d = Math.min(p.maxDelayMs, p.backoffMs * 2 ** n)
  return Math.round(d / 2 + (Math.random() * d) / 2)
}

/** The kind of failure an upstream status or an error is. Only failures that came from an upstream count. */
export function failureKind(x: number | RouteError): RetryOn | null {
  if (typeof x !== 'number') {
    if (x.upstream === undefined) return null
    if (x.code === 'RE_UPSTREAM_UNREACHABLE' || x.code === 'RE_UPSTREAM_BUSY') return 'connect'
    if (x.code === 'RE_UPSTREAM_TIMEOUT') return 'timeout'
    x = x.status
  }
  return x === 429 ? '429' : x >= 500 ? '5xx' : null
}

/** `retry-after-ms`, else `retry-after` (seconds or an HTTP date), in ms; null when absent or unreadable. */
export function retryAfter(headers: Record<string, string>): number | null {
  const ms = Number(headers['retry-after-ms'])
  if (headers['retry-after-ms'] && Number.isFinite(ms) && ms >= 0) return ms
  const v = headers['retry-after']
  if (!v) return null
  const s = Number(v)
  if (Number.isFinite(s)) return s >= 0 ? s * 1000 : null
  const at = Date.parse(v)
  return Number.isNaN(at) ? null : Math.max(0, at - Date.now())
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason)
    const onAbort = () => { clearTimeout(timer); reject(signal.reason) }
    const timer = setTimeout(() => { signal.removeEventListener('abort', onAbort); resolve() }, ms)
    signal.addEventListener('abort', onAbort, { once: true })
  })
}
