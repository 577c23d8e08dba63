// The HTTP server: inbound keys, CORS preflight, health, and the proxy for everything else. Holds the
// current Ruleset; each request reads it once.
import { createHash, timingSafeEqual } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { RouteError } from './errors.js'
import type { Logger } from './log.js'
import { proxy, type ProxyDeps, type Trace } from './pipeline/proxy.js'
import { CORS_HEADERS, replyJson } from './pipeline/reply.js'
import { closeAgents } from './pipeline/send-upstream.js'
import { formatProblem } from './ruleset/problems.js'
import type { RulesetHolder } from './ruleset/reload.js'
import type { Store } from './store/store.js'
import type { Dispatcher } from 'undici'

export interface ServerOptions {
  host: string
  port: number
  holder: RulesetHolder
  store: Store
  logger: Logger
  /** Inbound keys; empty = no auth. */
  keys: string[]
  maxBodyBytes: number
  maxJsonDepth: number
  dispatcher?: Dispatcher
  /** Observes every request (serve --capture). */
  observe?: ProxyDeps['observe']
}

export interface RunningServer {
  server: Server
  url: string
  close(): Promise<void>
}

export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const keys = opts.keys.map(digest)
  const server = createServer((req, res) => {
    for (const [k, v] of Object.entries(CORS_HEADERS)) res.setHeader(k, v)
    void handle(req, res, opts, keys)
  })
  server.listen(opts.port, opts.host)
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve)
    server.once('error', reject)
  })
  const { port } = server.address() as AddressInfo
  const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host
  return {
    server,
    url: `http://${host}:${port}`,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeIdleConnections()
      })
      await closeAgents()
    },
  }
}

async function handle(req: IncomingMessage, res: ServerResponse, opts: ServerOptions, keys: Buffer[]): Promise<void> {
  const path = (req.url ?? '/').split('?')[0]!
  if (req.method === 'OPTIONS') {
    res.writeHead(204, { 'access-control-allow-headers': req.headers['access-control-request-headers'] ?? 'authorization, content-type' }).end()
    return
  }
  if (path === '/healthz' || path === '/readyz') return health(res, opts.holder)
  const trace: Trace = { ms: {} }
  try {
    if (keys.length && !authorized(req, keys)) {
      const err = new RouteError('RE_UNAUTHORIZED', 'missing or wrong API key: send one of ROUTE_ENGINE_KEYS as "Authorization: Bearer <key>"')
      trace.code = err.code
      replyJson(res, err.status, err.toBody())
      return
    }
    await proxy(req, res, { ruleset: opts.holder.current, store: opts.store, limits: { maxBodyBytes: opts.maxBodyBytes, maxDepth: opts.maxJsonDepth }, dispatcher: opts.dispatcher, observe: opts.observe }, trace)
  } finally {
    trace.status ??= res.statusCode
    const ms = Object.fromEntries(Object.entries(trace.ms).map(([k, v]) => [k, Math.round((v ?? 0) * 100) / 100]))
    opts.logger.info({ method: req.method, path, ...trace, ms }, 'request')
  }
}

function health(res: ServerResponse, holder: RulesetHolder): void {
  const r = holder.current
  replyJson(res, 200, {
    status: holder.lastError ? 'degraded' : 'ok',
    ruleset: { hash: r.hash, loadedAt: r.loadedAt.toISOString(), rules: r.rules.length, files: r.files.length },
    reloads: holder.reloads,
    lastReloadError: holder.lastError && { at: holder.lastError.at.toISOString(), problems: holder.lastError.problems.map((p) => formatProblem(p)) },
  })
}

function authorized(req: IncomingMessage, keys: Buffer[]): boolean {
  const auth = req.headers.authorization
  const given = auth?.startsWith('Bearer ') ? auth.slice(7).trim() : (req.headers['x-api-key'] as string | undefined)
  if (!given) return false
  const d = digest(given)
  // Compare against every key so the time taken does not depend on which one matched.
  let ok = false
  for (const k of keys) ok = timingSafeEqual(d, k) || ok
  return ok
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest()
