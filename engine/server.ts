// The HTTP(S) server: inbound keys (or, without them, the keyless guard), CORS, /healthz, /readyz,
// /metrics, unparseable requests, graceful drain, and the proxy for everything else. Holds the
// current Ruleset; each request reads it once.
import { createHash, timingSafeEqual } from 'node:crypto'
import { setMaxListeners } from 'node:events'
import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer, Server as HttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import type { Duplex } from 'node:stream'
import { corsHeaders, corsPolicy, preflight, type CorsPolicy } from './cors.js'
import { inboundKey } from './credentials.js'
import { RouteError } from './errors.js'
import { keylessGuard } from './keyless-guard.js'
import type { Logger } from './log.js'
import { Metrics } from './metrics.js'
import { proxy, type ProxyDeps, type Trace } from './pipeline/proxy.js'
import { replyError } from './pipeline/reply-error.js'
import { replyJson } from './pipeline/reply.js'
import { DEFAULT_MAX_REPLY_BYTES } from './pipeline/attempt.js'
import { BodyBudget } from './pipeline/body-budget.js'
import { closeAgents } from './pipeline/send-upstream.js'
import { neutralBody, serverErrors, writeError, writerFor } from './pipeline/write-error.js'
import { isPromise } from './expr/runtime.js'
import { formatProblem } from './ruleset/problems.js'
import type { RulesetHolder } from './ruleset/reload.js'
import type { Ruleset } from './ruleset/ruleset.js'
import type { Store, StoreHealth } from './store/store.js'
import type { Certificate } from './tls.js'
import type { Dispatcher } from 'undici'

export interface ServerOptions {
  host: string
  port: number
  holder: RulesetHolder
  store: Store
  logger: Logger
  /** Inbound keys (a bare key is named by its position: key1, key2, …); empty = no auth (and the keyless guard: keyless-guard.ts). */
  keys: (string | InboundKey)[]
  /** Web origins allowed by CORS (`*`: any). Default: any with keys, none without. */
  corsOrigins?: string[]
  maxBodyBytes: number
  maxJsonDepth: number
  dispatcher?: Dispatcher
  /** Observes every request (serve --capture). */
  observe?: ProxyDeps['observe']
  /** PEM certificate and key: serve HTTPS. */
  tls?: Certificate
  /** Largest request line + headers in bytes; past it, 431. Default 16 KiB (Node's). */
  maxHeaderBytes?: number
  metrics?: Metrics
  /** What /metrics serves, when it is more than this process's registry (the workers' sum). */
  metricsText?: () => Promise<string>
  /** Bytes of request bodies held at once, across requests; past it, 503. Default: SERVER_DEFAULTS. */
  bodyBudgetBytes?: number
  /** The largest upstream JSON reply read; past it, 502. */
  maxUpstreamReplyBytes?: number
  /** ms for a request's line and headers to arrive; past it, 408. */
  headerTimeoutMs?: number
  /** ms for a whole request, headers and body, to arrive; past it, 408. */
  requestTimeoutMs?: number
  /** Connections open at once; a request on one more is answered 503 and its connection closed. */
  maxConnections?: number
}

/** The limits `serve` uses when no flag or variable sets them (docs/operations.md, "Limits"). */
export const SERVER_DEFAULTS = {
  maxBodyBytes: 50 * 1024 * 1024,
  bodyBudgetBytes: 256 * 1024 * 1024,
  maxUpstreamReplyBytes: DEFAULT_MAX_REPLY_BYTES,
  headerTimeoutMs: 15_000,
  requestTimeoutMs: 120_000,
  maxConnections: 1024,
}

/** A key clients send, and the name rate limits and logs know it by (never the key itself). */
export interface InboundKey {
  name: string
  secret: string
}

export interface RunningServer {
  server: Server | HttpsServer
  url: string
  metrics: Metrics
  /** Closes at once: requests in flight are cut. */
  close(): Promise<void>
  /**
   * Graceful stop: stops accepting (and /readyz answers 503), lets requests in flight finish for up
   * to `deadlineMs`, then cuts the rest (a stream ends with an error frame and its done sentinel), and
   * closes. Resolves with how many were in flight when it began and how many had to be cut.
   */
  drain(deadlineMs: number): Promise<{ inFlight: number; cut: number }>
  /** A new certificate for new TLS connections (see tls.ts for reading and checking one). */
  setCertificate(tls: Certificate): void
}

/** What every request handler reads: the server's state besides its options. */
interface Live {
  keys: { digest: Buffer; name: string }[]
  cors: CorsPolicy
  /** Without keys: refuses what a web page could send (keyless-guard.ts). */
  guard: ReturnType<typeof keylessGuard>
  metrics: Metrics
  draining: boolean
  inFlight: number
  /** Aborted at the drain deadline: every request still in flight ends with its reason. */
  stop: AbortController
  idle: (() => void)[]
  requestLog: Logger
  budget: BodyBudget
  /** Connections that arrived past the connection limit: their request is answered 503. */
  overLimit: WeakSet<Duplex>
  /** Sockets whose request in flight was answered by the request deadline (408). */
  timedOut: WeakSet<Duplex>
}

export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  // The request line holds only the Trace's own fields, never headers or keys: it skips the redact
  // guard, whose wildcard paths cost 10 µs a line (3 µs without).
  const requestLog = opts.logger.child({}, { redact: { paths: [] } })
  const cors = corsPolicy(opts.corsOrigins, opts.keys.length > 0)
  const budget = new BodyBudget(opts.bodyBudgetBytes ?? Math.max(SERVER_DEFAULTS.bodyBudgetBytes, opts.maxBodyBytes))
  const metricsOf = opts.metrics ?? new Metrics()
  metricsOf.watchBodyBudget(budget)
  const keys = opts.keys.map((k, i) => (typeof k === 'string' ? { digest: digest(k), name: `key${i + 1}` } : { digest: digest(k.secret), name: k.name }))
  const live: Live = {
    keys, cors, guard: keylessGuard({ keys: opts.keys, host: opts.host, cors }), metrics: metricsOf,
    draining: false, inFlight: 0, stop: new AbortController(), idle: [], requestLog, budget, overLimit: new WeakSet(), timedOut: new WeakSet(),
  }
  // Every request in flight listens to it: thousands at once are expected, not a leak.
  setMaxListeners(0, live.stop.signal)
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    for (const [k, v] of Object.entries(corsHeaders(cors, req.headers.origin))) res.setHeader(k, v)
    live.inFlight++
    let done = false
    const ended = () => {
      if (done) return
      done = true
      req.socket.off('close', ended)
      if (--live.inFlight === 0) for (const f of live.idle.splice(0)) f()
      // A keep-alive connection left idle by a drain would hold the server open.
      if (live.draining) setImmediate(() => server.closeIdleConnections())
    }
    res.once('close', ended)
    // A pipelined request still queued behind another when its connection closes gets no 'close' of its own.
    req.socket.once('close', ended)
    void handle(req, res, opts, live)
  }
  const maxHeaderSize = opts.maxHeaderBytes ?? 16 * 1024
  const headersTimeout = opts.headerTimeoutMs ?? SERVER_DEFAULTS.headerTimeoutMs
  const requestTimeout = opts.requestTimeoutMs ?? SERVER_DEFAULTS.requestTimeoutMs
  const httpOptions = {
    maxHeaderSize,
    headersTimeout,
    requestTimeout,
    // Node looks for requests past their deadline every 30 s by default: a deadline would be late by as much.
    connectionsCheckingInterval: Math.max(25, Math.min(1000, Math.floor(Math.min(headersTimeout, requestTimeout) / 4))),
    // A request without Host is answered here, in JSON (handle), rather than with Node's bare 400.
    requireHostHeader: false,
  }
  const server = opts.tls ? createHttpsServer({ ...opts.tls, ...httpOptions }, onRequest) : createServer(httpOptions, onRequest)
  const limits = { maxHeaderSize, headersTimeout, requestTimeout }
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    // A request being handled when its deadline passed: the handler's log line and metrics report it.
    const inFlight = (socket as Duplex & { _httpMessage?: unknown })._httpMessage !== undefined
    const status = answerClientError(err, socket, limits, opts.holder.current, cors)
    if (status && inFlight && err.code === 'ERR_HTTP_REQUEST_TIMEOUT') live.timedOut.add(socket)
    else if (status) {
      live.metrics.rejected(status)
      opts.logger.info({ status, code: err.code }, 'bad request')
    }
  })
  const maxConnections = opts.maxConnections ?? SERVER_DEFAULTS.maxConnections
  let connections = 0
  // TLS connections count once their handshake is done: that is when the socket that carries requests exists.
  server.on(opts.tls ? 'secureConnection' : 'connection', (socket: Duplex) => {
    if (++connections > maxConnections) live.overLimit.add(socket)
    socket.once('close', () => { connections-- })
  })
  server.listen(opts.port, opts.host)
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve)
    server.once('error', reject)
  })
  const { port } = server.address() as AddressInfo
  const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host
  const closed = (): Promise<void> => new Promise<void>((resolve) => {
    server.close(() => resolve())
    server.closeIdleConnections()
  })
  return {
    server,
    url: `${opts.tls ? 'https' : 'http'}://${host}:${port}`,
    metrics: live.metrics,
    async close() {
      await closed()
      await closeAgents()
    },
    async drain(deadlineMs) {
      live.draining = true
      const done = closed()
      const inFlight = live.inFlight
      const allIdle = () => new Promise<void>((resolve) => { if (live.inFlight === 0) resolve(); else live.idle.push(resolve) })
      let cut = 0
      const deadline = setTimeout(() => {
        cut = live.inFlight
        live.stop.abort(new RouteError('RE_UNAVAILABLE', `the server is shutting down: the answer was cut at the ${deadlineMs} ms drain deadline`))
        // Requests that ignore the abort (a client still uploading) go with their sockets.
        setTimeout(() => server.closeAllConnections(), 1000).unref()
      }, deadlineMs)
      await allIdle()
      clearTimeout(deadline)
      server.closeAllConnections()
      await done
      await closeAgents()
      return { inFlight, cut }
    },
    setCertificate(tls) {
      if (!(server instanceof HttpsServer)) throw new Error('not serving TLS')
      server.setSecureContext(tls)
    },
  }
}

async function handle(req: IncomingMessage, res: ServerResponse, opts: ServerOptions, live: Live): Promise<void> {
  const path = (req.url ?? '/').split('?')[0]!
  const early = refusal(req, live)
  if (early) {
    live.metrics.rejected(early.status)
    opts.logger.info({ status: early.status, code: early.code, path }, 'request refused')
    await replyError(res, early, serverErrors(opts.holder.current, req))
    return
  }
  // Refused requests are answered, counted and logged below, like unauthorized ones.
  const refused = live.guard?.(req) ?? null
  if (!refused) {
    if (req.method === 'OPTIONS') return preflight(req, res, live.cors)
    if (path === '/healthz') return health(res, opts.holder, opts.store)
    if (path === '/readyz') return ready(res, opts.holder, live, opts.store)
  }
  if (live.draining) res.shouldKeepAlive = false
  const client = live.keys.length ? authorized(req, live.keys) : undefined
  if (!refused && path === '/metrics' && req.method === 'GET' && (!live.keys.length || client)) {
    return metrics(res, opts.metricsText ?? (() => live.metrics.text()), live.metrics.contentType, opts.holder.current)
  }
  const trace: Trace = { ms: {} }
  live.metrics.started()
  try {
    const denied = refused ?? (client === null
      ? new RouteError('RE_UNAUTHORIZED', 'missing or wrong API key: send one of ROUTE_ENGINE_KEYS as "Authorization: Bearer <key>"')
      : null)
    if (denied) {
      trace.code = denied.code
      await replyError(res, denied, serverErrors(opts.holder.current, req))
      return
    }
    if (live.draining) {
      const err = new RouteError('RE_UNAVAILABLE', 'the server is shutting down: send the request again (another instance will answer)', { headers: { 'retry-after': '1' } })
      trace.code = err.code
      await replyError(res, err, serverErrors(opts.holder.current, req))
      return
    }
    await proxy(req, res, {
      ruleset: opts.holder.current, store: opts.store, limits: { maxBodyBytes: opts.maxBodyBytes, maxDepth: opts.maxJsonDepth },
      budget: live.budget, maxReplyBytes: opts.maxUpstreamReplyBytes, dispatcher: opts.dispatcher, observe: opts.observe, signal: live.stop.signal, client: client ?? undefined,
    }, trace)
  } finally {
    if (live.timedOut.has(req.socket)) Object.assign(trace, { status: 408, code: 'RE_REQUEST_TIMEOUT' })
    trace.status ??= res.statusCode
    live.metrics.ended(trace)
    const ms = Object.fromEntries(Object.entries(trace.ms).map(([k, v]) => [k, Math.round((v ?? 0) * 100) / 100]))
    live.requestLog.info({ method: req.method, path, ...(client ? { client } : {}), ...trace, ms }, 'request')
  }
}

/** Why a request is answered before anything else is done with it: no Host, or past the connection limit. */
function refusal(req: IncomingMessage, live: Live): RouteError | null {
  const close = { connection: 'close' }
  // RFC 9112 §3.2: a server answers 400 to an HTTP/1.1 request without Host.
  if (req.headers.host === undefined && req.httpVersionMajor === 1 && req.httpVersionMinor === 1) {
    return new RouteError('RE_BAD_REQUEST', 'bad input: the request has no Host header (HTTP/1.1 requires one)', { headers: close })
  }
  if (live.overLimit.has(req.socket)) {
    return new RouteError('RE_SERVER_BUSY', 'the server is busy: it has as many connections open as its limit (--max-connections); send the request again shortly', { headers: { ...close, 'retry-after': '1' } })
  }
  return null
}

/**
 * A request Node could not parse (too large a head, bad syntax, too slow) never reaches `handle`:
 * answer on the socket with the same JSON error shape. Returns the status sent, or null.
 */
function answerClientError(err: NodeJS.ErrnoException, socket: Duplex, limits: { maxHeaderSize: number; headersTimeout: number; requestTimeout: number }, ruleset: Ruleset, policy: CorsPolicy): number | null {
  // Node's own handler checks the same: a response already under way on this socket cannot be replaced.
  const started = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent
  if (err.code === 'ECONNRESET' || !socket.writable || started) {
    socket.destroy()
    return null
  }
  const e = err.code === 'HPE_HEADER_OVERFLOW'
    ? new RouteError('RE_HEADERS_TOO_LARGE', `bad input: the request line and headers are larger than the limit of ${limits.maxHeaderSize} bytes`)
    : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? new RouteError('RE_REQUEST_TIMEOUT', `bad input: the request did not arrive in time (its headers within ${limits.headersTimeout} ms, all of it within ${limits.requestTimeout} ms)`)
      : new RouteError('RE_BAD_REQUEST', `bad input: the request is not valid HTTP (${err.code ?? 'parse error'})`)
  // The request line may be unreadable: the writer for every other path writes it, if it needs no await.
  const written = writeError({ writer: writerFor(ruleset, null), bindings: { vars: ruleset.vars } }, e, false)
  const r = isPromise(written) ? { status: e.status, body: neutralBody(e), headers: {} } : written
  const body = r.body === undefined ? '' : JSON.stringify(r.body)
  // The request's Origin is unknown here: only a policy that allows any origin has headers to add.
  const headers = Object.entries({ ...r.headers, ...corsHeaders(policy, undefined) }).map(([k, v]) => `${k}: ${v}\r\n`).join('')
  socket.end(`HTTP/1.1 ${r.status} ${STATUS_CODES[r.status]}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n${headers}connection: close\r\n\r\n${body}`)
  return r.status
}

async function metrics(res: ServerResponse, text: () => Promise<string>, contentType: string, ruleset: Ruleset): Promise<void> {
  try {
    res.writeHead(200, { 'content-type': contentType }).end(await text())
  } catch (err) {
    const e = new RouteError('RE_UNAVAILABLE', `metrics are not available now: ${(err as Error).message}`)
    await replyError(res, e, serverErrors(ruleset, { url: '/metrics', method: 'GET' }))
  }
}

/**
 * 503 only when this instance cannot serve. A store that does not answer leaves it ready (requests
 * go on without it, and every instance shares the outage): 200 with `status: degraded` and why.
 */
function ready(res: ServerResponse, holder: RulesetHolder, live: Live, store: Store): void {
  const ok = !!holder.current && !live.draining
  if (!ok) return replyJson(res, 503, { ready: false, reason: live.draining ? 'draining' : 'no ruleset loaded' })
  const s = store.health()
  replyJson(res, 200, s.ok ? { ready: true } : { ready: true, status: 'degraded', reason: `the store is unreachable since ${s.since}`, store: publicHealth(s) })
}

/** What /readyz and /healthz (no key needed) say about the store: not where it is nor its errors (those are logged). */
function publicHealth(s: StoreHealth): Pick<StoreHealth, 'kind' | 'ok' | 'since'> {
  return { kind: s.kind, ok: s.ok, ...(s.since ? { since: s.since } : {}) }
}

function health(res: ServerResponse, holder: RulesetHolder, store: Store): void {
  const r = holder.current
  const s = store.health()
  replyJson(res, 200, {
    status: holder.lastError || !s.ok ? 'degraded' : 'ok',
    store: publicHealth(s),
    ruleset: { hash: r.hash, loadedAt: r.loadedAt.toISOString(), rules: r.rules.length, files: r.files.length },
    reloads: holder.reloads,
    lastReloadError: holder.lastError && { at: holder.lastError.at.toISOString(), problems: holder.lastError.problems.map((p) => formatProblem(p)) },
  })
}

/** The name of the key the request carries, or null when it carries none of them. */
function authorized(req: IncomingMessage, keys: Live['keys']): string | null {
  const given = inboundKey(req.headers)
  if (!given) return null
  const d = digest(given)
  // Compare against every key so the time taken does not depend on which one matched.
  let name: string | null = null
  for (const k of keys) if (timingSafeEqual(d, k.digest) && name === null) name = k.name
  return name
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest()
