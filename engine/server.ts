// The HTTP(S) server: inbound keys, CORS preflight, /healthz, /readyz, /metrics, unparseable requests,
// graceful drain, and the proxy for everything else. Holds the current Ruleset; each request reads it once.
import { createHash, timingSafeEqual } from 'node:crypto'
import { setMaxListeners } from 'node:events'
import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer, Server as HttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import type { Duplex } from 'node:stream'
import { RouteError } from './errors.js'
import type { Logger } from './log.js'
import { Metrics } from './metrics.js'
import { proxy, type ProxyDeps, type Trace } from './pipeline/proxy.js'
import { CORS_HEADERS, replyJson } from './pipeline/reply.js'
import { closeAgents } from './pipeline/send-upstream.js'
import { formatProblem } from './ruleset/problems.js'
import type { RulesetHolder } from './ruleset/reload.js'
import type { Store, StoreHealth } from './store/store.js'
import type { Certificate } from './tls.js'
import type { Dispatcher } from 'undici'

export interface ServerOptions {
  host: string
  port: number
  holder: RulesetHolder
  store: Store
  logger: Logger
  /** Inbound keys (a bare key is named by its position: key1, key2, …); empty = no auth. */
  keys: (string | InboundKey)[]
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
  metrics: Metrics
  draining: boolean
  inFlight: number
  /** Aborted at the drain deadline: every request still in flight ends with its reason. */
  stop: AbortController
  idle: (() => void)[]
  requestLog: Logger
}

export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  // The request line holds only the Trace's own fields, never headers or keys: it skips the redact
  // guard, whose wildcard paths cost 10 µs a line (3 µs without).
  const requestLog = opts.logger.child({}, { redact: { paths: [] } })
  const keys = opts.keys.map((k, i) => (typeof k === 'string' ? { digest: digest(k), name: `key${i + 1}` } : { digest: digest(k.secret), name: k.name }))
  const live: Live = { keys, metrics: opts.metrics ?? new Metrics(), draining: false, inFlight: 0, stop: new AbortController(), idle: [], requestLog }
  // Every request in flight listens to it: thousands at once are expected, not a leak.
  setMaxListeners(0, live.stop.signal)
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    for (const [k, v] of Object.entries(CORS_HEADERS)) res.setHeader(k, v)
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
  const server = opts.tls ? createHttpsServer({ ...opts.tls, maxHeaderSize }, onRequest) : createServer({ maxHeaderSize }, onRequest)
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    const status = answerClientError(err, socket, maxHeaderSize)
    if (status) {
      live.metrics.rejected(status)
      opts.logger.info({ status, code: err.code }, 'bad request')
    }
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
  if (req.method === 'OPTIONS') {
    res.writeHead(204, { 'access-control-allow-headers': req.headers['access-control-request-headers'] ?? 'authorization, content-type' }).end()
    return
  }
  if (path === '/healthz') return health(res, opts.holder, opts.store)
  if (path === '/readyz') return ready(res, opts.holder, live, opts.store)
  if (live.draining) res.shouldKeepAlive = false
  const client = live.keys.length ? authorized(req, live.keys) : undefined
  if (path === '/metrics' && req.method === 'GET' && (!live.keys.length || client)) {
    return metrics(res, opts.metricsText ?? (() => live.metrics.text()), live.metrics.contentType)
  }
  const trace: Trace = { ms: {} }
  live.metrics.started()
  try {
    if (client === null) {
      const err = new RouteError('RE_UNAUTHORIZED', 'missing or wrong API key: send one of ROUTE_ENGINE_KEYS as "Authorization: Bearer <key>"')
      trace.code = err.code
      replyJson(res, err.status, err.toBody())
      return
    }
    if (live.draining) {
      const err = new RouteError('RE_UNAVAILABLE', 'the server is shutting down: send the request again (another instance will answer)')
      trace.code = err.code
      replyJson(res, err.status, err.toBody(), { 'retry-after': '1' })
      return
    }
    await proxy(req, res, { ruleset: opts.holder.current, store: opts.store, limits: { maxBodyBytes: opts.maxBodyBytes, maxDepth: opts.maxJsonDepth }, dispatcher: opts.dispatcher, observe: opts.observe, signal: live.stop.signal, client }, trace)
  } finally {
    trace.status ??= res.statusCode
    live.metrics.ended(trace)
    const ms = Object.fromEntries(Object.entries(trace.ms).map(([k, v]) => [k, Math.round((v ?? 0) * 100) / 100]))
    live.requestLog.info({ method: req.method, path, ...(client ? { client } : {}), ...trace, ms }, 'request')
  }
}

/**
 * A request Node could not parse (too large a head, bad syntax, too slow) never reaches `handle`:
 * answer on the socket with the same JSON error shape. Returns the status sent, or null.
 */
function answerClientError(err: NodeJS.ErrnoException, socket: Duplex, maxHeaderSize: number): number | null {
  // Node's own handler checks the same: a response already under way on this socket cannot be replaced.
  const started = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent
  if (err.code === 'ECONNRESET' || !socket.writable || started) {
    socket.destroy()
    return null
  }
  const e = err.code === 'HPE_HEADER_OVERFLOW'
    ? new RouteError('RE_HEADERS_TOO_LARGE', `bad input: the request line and headers are larger than the limit of ${maxHeaderSize} bytes`)
    : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? new RouteError('RE_REQUEST_TIMEOUT', 'bad input: the request did not arrive in time')
      : new RouteError('RE_BAD_REQUEST', `bad input: the request is not valid HTTP (${err.code ?? 'parse error'})`)
  const body = JSON.stringify(e.toBody())
  const cors = Object.entries(CORS_HEADERS).map(([k, v]) => `${k}: ${v}\r\n`).join('')
  socket.end(`HTTP/1.1 ${e.status} ${STATUS_CODES[e.status]}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n${cors}connection: close\r\n\r\n${body}`)
  return e.status
}

async function metrics(res: ServerResponse, text: () => Promise<string>, contentType: string): Promise<void> {
  try {
    res.writeHead(200, { 'content-type': contentType }).end(await text())
  } catch (err) {
    const e = new RouteError('RE_UNAVAILABLE', `metrics are not available now: ${(err as Error).message}`)
    replyJson(res, e.status, e.toBody())
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
  const auth = req.headers.authorization
  const given = auth?.startsWith('Bearer ') ? auth.slice(7).trim() : (req.headers['x-api-key'] as string | undefined)
  if (!given) return null
  const d = digest(given)
  // Compare against every key so the time taken does not depend on which one matched.
  let name: string | null = null
  for (const k of keys) if (timingSafeEqual(d, k.digest) && name === null) name = k.name
  return name
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest()
