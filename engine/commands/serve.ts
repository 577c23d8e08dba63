// route-engine serve: load the rules, listen, reload rules and certificates when their files change
// (or on SIGHUP), drain on SIGTERM. With --workers N > 1 this process becomes the cluster primary
// (cluster.ts) and each worker runs this same function to serve.
import cluster from 'node:cluster'
import { isIP } from 'node:net'
import { joinCluster, runPrimary } from '../cluster.js'
import { DEFAULT_LIMITS } from '../expr/compile.js'
import { createLogger } from '../log.js'
import { Metrics } from '../metrics.js'
import { loadRuleset } from '../ruleset/compile.js'
import { formatProblem } from '../ruleset/problems.js'
import { reloadRules, watchRules, type RulesetHolder } from '../ruleset/reload.js'
import { startServer, type InboundKey } from '../server.js'
import { captureTo } from './capture.js'
import { openStore } from '../store/open.js'
import { readCertificate, watchCertificate } from '../tls.js'

export interface ServeFlags {
  rules: string
  host: string
  port: number
  maxBodyBytes: number
  insecureNoAuth: boolean
  watch: boolean
  transformTimeoutMs: number
  /** Processes serving the port; 1 = this one. */
  workers: number
  tlsCert?: string
  tlsKey?: string
  /** How long SIGTERM lets requests in flight finish before cutting them. */
  drainTimeoutMs: number
  maxHeaderBytes: number
  /** Write each request and its upstream reply as a rule example under this folder. */
  capture?: string
  /** Body fields to redact in captures (dotted paths, `*` any key or item). */
  redact: string[]
  /** The store: `memory` (unset) or a Redis URL; its key prefix; the longest wait for one call. */
  store: { url?: string; prefix: string; timeoutMs: number }
}

export async function serve(f: ServeFlags): Promise<number> {
  const logger = createLogger()
  const keys = inboundKeys(process.env.ROUTE_ENGINE_KEYS ?? '')
  if (!keys.length && !isLoopback(f.host) && !f.insecureNoAuth) {
    process.stderr.write(`refusing to listen on ${f.host} without inbound keys: set ROUTE_ENGINE_KEYS (or pass --insecure-no-auth)\n`)
    return 2
  }
  const worker = cluster.isWorker
  const limits = { ...DEFAULT_LIMITS, timeoutMs: f.transformTimeoutMs }
  const { ruleset, problems } = await loadRuleset(f.rules, { limits })
  if (!worker) for (const p of problems.items) process.stderr.write(formatProblem(p) + '\n')
  if (!ruleset) {
    process.stderr.write(`${problems.errors.length} problem(s) in ${f.rules}: not starting\n`)
    return 1
  }
  const tlsPaths = f.tlsCert && f.tlsKey ? { certPath: f.tlsCert, keyPath: f.tlsKey } : undefined
  let tls
  try {
    tls = tlsPaths && (await readCertificate(tlsPaths.certPath, tlsPaths.keyPath))
  } catch (err) {
    process.stderr.write(`${(err as Error).message}: not starting\n`)
    return 1
  }
  const holder: RulesetHolder = { current: ruleset, lastError: null, reloads: 0 }
  if (f.workers > 1 && cluster.isPrimary) {
    return runPrimary({ workers: f.workers, rules: f.rules, holder, load: { limits }, watch: f.watch, tls: tlsPaths, drainTimeoutMs: f.drainTimeoutMs, logger })
  }

  const metrics = new Metrics()
  const store = await openStore({ ...f.store, logger, onError: (op, reason) => metrics.storeError(op, reason) })
  metrics.watchStore(store)
  const reload = async () => {
    const { ok, problems: probs } = await reloadRules(f.rules, holder, { limits })
    metrics.reloaded(ok)
    return { ok, hash: holder.current.hash, problems: probs }
  }
  const reloadCertificate = async () => {
    if (!tlsPaths) return
    try {
      server.setCertificate(await readCertificate(tlsPaths.certPath, tlsPaths.keyPath))
      logger.info({ cert: tlsPaths.certPath }, 'certificate reloaded')
    } catch (err) {
      logger.error({ error: (err as Error).message }, 'certificate reload failed: the previous certificate keeps serving')
    }
  }
  let stop!: () => void
  const stopped = new Promise<void>((resolve) => { stop = resolve })
  const member = worker ? joinCluster(metrics.registry, { reload, reloadCertificate, stop }) : null
  const server = await startServer({
    host: f.host, port: f.port, holder, store, logger, keys, maxBodyBytes: f.maxBodyBytes, maxJsonDepth: 128,
    tls, maxHeaderBytes: f.maxHeaderBytes, metrics, metricsText: member?.metricsText,
    observe: f.capture ? captureTo(f.capture, { redact: f.redact, keys: keys.map((k) => k.secret), onWrite: (file, first) => { if (first) logger.info({ file }, 'captured') } }) : undefined,
  })
  const logReload = (ok: boolean, probs: typeof problems.items) => {
    if (ok) logger.info({ hash: holder.current.hash, rules: holder.current.rules.length, warnings: probs.length }, 'rules reloaded')
    else logger.error({ problems: probs.filter((p) => p.severity === 'error').map((p) => formatProblem(p)) }, 'rules reload failed: the previous rules keep serving')
  }
  // A worker's primary watches the files; a single process watches its own.
  const watcher = f.watch && !worker ? watchRules(f.rules, holder, (ok, probs) => { metrics.reloaded(ok); logReload(ok, probs) }, { limits }) : null
  const certWatcher = tlsPaths && !worker ? watchCertificate(tlsPaths.certPath, tlsPaths.keyPath, () => void reloadCertificate()) : null
  const onHup = () => { void reload().then((r) => logReload(r.ok, r.problems)); void reloadCertificate() }
  if (!worker) process.on('SIGHUP', onHup)
  // "listening" means edits from now on are seen.
  await watcher?.ready
  await certWatcher?.ready
  if (!worker) logger.info({ url: server.url, rules: ruleset.rules.length, hash: ruleset.hash, auth: keys.length > 0, store: store.health().target ?? 'memory' }, 'route-engine listening')
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
  await stopped
  process.off('SIGHUP', onHup)
  await watcher?.close()
  await certWatcher?.close()
  // drain() stops accepting before it returns its promise: the line below is then true when read
  const draining = server.drain(f.drainTimeoutMs)
  logger.info({ deadlineMs: f.drainTimeoutMs }, 'draining: no new connections; requests in flight may finish')
  const drained = await draining
  logger.info(drained, 'stopped')
  await store.close()
  member?.leave()
  return 0
}

/** ROUTE_ENGINE_KEYS: comma-separated keys, each `name:key` or a bare key (named key1, key2, … by position). */
export function inboundKeys(setting: string): InboundKey[] {
  return setting.split(',').map((k) => k.trim()).filter(Boolean).map((k, i) => {
    const named = /^([A-Za-z0-9_.-]{1,64}):(.+)$/.exec(k)
    return named ? { name: named[1]!, secret: named[2]! } : { name: `key${i + 1}`, secret: k }
  })
}

function isLoopback(host: string): boolean {
  if (host === 'localhost') return true
  if (isIP(host) === 4) return host.startsWith('127.')
  return host === '::1'
}
