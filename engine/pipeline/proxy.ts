// One request through the stages, in order:
//   receive → match → [for each target, with retries: attempt = transformRequest → sendUpstream
//                       → transformResponse | transformStream → reply]
// Errors from any stage go to replyError. The Ruleset is captured once: a reload during the request
// does not change the rules it runs on.
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Dispatcher } from 'undici'
import { credentialHeaders } from '../credentials.js'
import { asRouteError, RouteError } from '../errors.js'
import { evaluate } from '../expr/evaluate.js'
import { randomId } from '../random-id.js'
import type { Ruleset } from '../ruleset/ruleset.js'
import type { Store } from '../store/store.js'
import { attempt, type AttemptContext } from './attempt.js'
import type { BodyBudget } from './body-budget.js'
import { match } from './match.js'
import type { Observer } from './observer.js'
import { receive, type ReceiveLimits } from './receive.js'
import { redactorFor } from './redact.js'
import { replyJson } from './reply.js'
import { replyError } from './reply-error.js'
import { checkLimits, clientLimits, spendTokens } from './rate-limits.js'
import { tryTargets } from './retry.js'
import { writerFor, type ErrorOut } from './write-error.js'
import { setServerTiming } from './server-timing.js'

export interface ProxyDeps {
  ruleset: Ruleset
  store: Store
  limits: ReceiveLimits
  /** Bytes of request bodies held at once, across requests (the server's); none: no limit. */
  budget?: BodyBudget
  /** The largest upstream JSON reply read (default 32 MiB). */
  maxReplyBytes?: number
  /** Replaces the upstream agents (explain, tests). */
  dispatcher?: Dispatcher
  /** Called once per request for an Observer of its stages (explain, test, capture). */
  observe?: () => Observer
  /** Aborts every request in flight, its reason the error they end with (the server's drain deadline). */
  signal?: AbortSignal
  /** The name of the inbound key the request came with (rate limits); none without inbound keys. */
  client?: string
}

/** What the request log line reports. */
export interface Trace {
  rule?: string
  upstream?: string
  upstreamStatus?: number
  status?: number
  code?: string
  /** ms since the request arrived; `connect` is the connect phase of the upstream call that answered. */
  ms: { match?: number; request?: number; connect?: number; firstByte?: number; firstToken?: number; total?: number }
  frames?: number
  /** Tokens the reply reported (limits.usage; only when some limit counts tokens). */
  tokens?: number
  /** Upstream names, once per retry and per fallback taken. */
  retries?: string[]
  fallbacks?: string[]
  /** Every upstream failure seen, answered or retried: an RE_ code or HTTP_<status>. */
  failures?: { upstream: string; code: string }[]
}

const ID_CHARS = 'abcdefghijklmnopqrstuvwxyz0123456789'

export async function proxy(req: IncomingMessage, res: ServerResponse, deps: ProxyDeps, trace: Trace): Promise<void> {
  const t0 = performance.now()
  const ac = new AbortController()
  res.on('close', () => { if (!res.writableFinished) ac.abort(new RouteError('RE_BAD_REQUEST', 'client disconnected')) })
  const stop = () => ac.abort(deps.signal!.reason)
  deps.signal?.addEventListener('abort', stop, { once: true })
  const obs = deps.observe?.()
  const path = (req.url ?? '/').split('?')[0]!
  const id = randomId(ID_CHARS, 24)
  const created = Math.floor(Date.now() / 1000)
  const headers = exposedHeaders(req, credentialHeaders(deps.ruleset))
  // Until a rule matches, errors are written by the writer for the path, with what is known so far.
  const errors: ErrorOut = {
    writer: writerFor(deps.ruleset, path),
    bindings: { ctx: { id, created, path, method: req.method, headers }, vars: deps.ruleset.vars, models: deps.ruleset.models },
  }
  const hold = deps.budget?.hold()
  try {
    const url = new URL(req.url ?? '/', 'http://x')
    const body = await receive(req, deps.limits, hold)
    const input = { method: req.method ?? 'GET', path: url.pathname, headers: req.headers, body }
    obs?.received?.(input, deps.ruleset)
    const m = await match(deps.ruleset, input)
    obs?.matched?.(m)
    const rule = m.rule
    trace.rule = rule.name
    trace.ms.match = performance.now() - t0
    const bindings = {
      request: m.request,
      ctx: {
        id,
        created,
        model: m.clientModel,
        path: url.pathname,
        method: req.method,
        rule: rule.name,
        upstream: rule.upstream?.name,
        headers,
        query: Object.fromEntries(url.searchParams),
      },
      vars: rule.vars,
      models: deps.ruleset.models,
      recall: (key: unknown) => deps.store.get(String(key)),
      remember: async (key: unknown, value: unknown, ttl?: number) => { await deps.store.set(String(key), value, ttl); return value },
    }
    errors.writer = writerFor(deps.ruleset, url.pathname, rule)
    errors.bindings = bindings

    if (rule.reply) {
      const out = rule.reply.body ? await evaluate(rule.reply.body, m.request, bindings, rule.name) : undefined
      if (out === undefined) res.writeHead(rule.reply.status, rule.reply.headers).end()
      else replyJson(res, rule.reply.status, out, rule.reply.headers)
      return
    }

    const limited = clientLimits(deps.ruleset, deps.client)
    if (limited) await checkLimits(deps.store, limited.scope, limited.limits, deps.client ? `inbound key '${deps.client}'` : 'this client', rule.name)

    const redact = redactorFor(deps.ruleset)
    const c: AttemptContext = { req, res, deps, matched: m, bindings, errors, signal: ac.signal, trace, t0, obs, redact }
    const failed = await tryTargets(rule.targets, (target) => attempt(target, c), ac.signal, {
      retry: (target) => (trace.retries ??= []).push(target.upstream.name),
      fallback: (_, to) => (trace.fallbacks ??= []).push(to.upstream.name),
    })
    if (failed?.error) throw failed.error
    if (failed?.upstreamError) await replyError(res, failed.upstreamError, errors, undefined, redact)
  } catch (err) {
    // A read cut short by the client's leaving fails with a bare 'aborted': the signal says why.
    const e = ac.signal.aborted && ac.signal.reason instanceof RouteError ? ac.signal.reason : asRouteError(err, trace.rule)
    trace.code = e.code
    if (!ac.signal.aborted || e.code !== 'RE_BAD_REQUEST') {
      setServerTiming(res, { match: trace.ms.match })
      await replyError(res, e, errors, undefined, redactorFor(deps.ruleset))
    }
  } finally {
    hold?.release()
    deps.signal?.removeEventListener('abort', stop)
    // 499 (nginx's "client closed request"): the client left before it got an answer.
    trace.status = !res.headersSent && ac.signal.aborted ? 499 : res.statusCode
    trace.ms.total = performance.now() - t0
    // After the answer went out; before the request's log line, which then says they are counted.
    if (trace.tokens) await spendTokens(deps.store, deps.ruleset, deps.client, trace.upstream === undefined ? undefined : deps.ruleset.upstreams.get(trace.upstream), trace.tokens)
  }
}

function exposedHeaders(req: IncomingMessage, credentials: ReadonlySet<string>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && !credentials.has(k)) out[k] = Array.isArray(v) ? v.join(', ') : v
  return out
}
