// route-engine serve: load the rules, listen, reload rules and certificates when their files change
// (or on SIGHUP), drain on SIGTERM. With --workers N > 1 this process becomes the cluster primary
// (cluster.ts) and each worker runs this same function to serve, on the rules the primary hands it.
import cluster from 'node:cluster'
import { joinCluster, runPrimary } from '../cluster.js'
import { DEFAULT_LIMITS } from '../expr/compile.js'
import { createLogger } from '../log.js'
import { Metrics } from '../metrics.js'
import { loadRuleset } from '../ruleset/compile.js'
import { formatProblem } from '../ruleset/problems.js'
import { loadRules, takeRules, watchRules, type RulesetHolder, type RulesState } from '../ruleset/reload.js'
import { startServer, type InboundKey, type RunningServer } from '../server.js'
import { isLoopbackName } from '../keyless-guard.js'
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
  bodyBudgetBytes: number
  maxUpstreamReplyBytes: number
  headerTimeoutMs: number
  requestTimeoutMs: number
  maxConnections: number
  /** Write each request and its upstream reply as a rule example under this folder. */
  capture?: string
  /** Body fields to redact in captures (dotted paths, `*` any key or item). */
  redact: string[]
  /** Web origins CORS allows (`*` any); undefined = any with keys, none without. */
  corsOrigins?: string[]
  /** How long the rules directory must be quiet before a reload. */
  settleMs: number
  /** With workers: how long one may take to start serving or to answer a reload before it is replaced. */
  workerTimeoutMs: number
  /** The store: `memory` (unset) or a Redis URL; its key prefix; the longest wait for one call. */
  store: { url?: string; prefix: string; timeoutMs: number }
}

export async function serve(f: ServeFlags): Promise<number> {
  const logger = createLogger()
  const keys = inboundKeys(process.env.ROUTE_ENGINE_KEYS ?? '')
  if (!keys.length && f.corsOrigins?.includes('*') && !f.insecureNoAuth) {
    process.stderr.write('refusing to allow every web origin (--cors-origin *) without inbound keys: any page the user visits could spend the upstream keys. List the origins, or set ROUTE_ENGINE_KEYS (or pass --insecure-no-auth)\n')
    return 2
  }
  if (!keys.length && !isLoopbackName(f.host) && !f.insecureNoAuth) {
    process.stderr.write(`refusing to listen on ${f.host} without inbound keys: set ROUTE_ENGINE_KEYS (or pass --insecure-no-auth)\n`)
    return 2
  }
  const limits = { ...DEFAULT_LIMITS, timeoutMs: f.transformTimeoutMs }
  const tlsPaths = f.tlsCert && f.tlsKey ? { certPath: f.tlsCert, keyPath: f.tlsKey } : undefined
  const metrics = new Metrics()
  let stop!: () => void
  const stopped = new Promise<void>((resolve) => { stop = resolve })
  let server: RunningServer | null = null
  // Set once the first rules are loaded; a worker's primary sends new ones only after that.
  let holder!: RulesetHolder
  const reloadCertificate = async () => {
    if (!tlsPaths || !server) return
    try {
      server.setCertificate(await readCertificate(tlsPaths.certPath, tlsPaths.keyPath))
      logger.info({ cert: tlsPaths.certPath }, 'certificate reloaded')
    } catch (err) {
      logger.error({ error: (err as Error).message }, 'certificate reload failed: the previous certificate keeps serving')
    }
  }
  const takeFromPrimary = async (s: RulesState) => {
    const r = await takeRules(holder, s, { limits })
    metrics.reloaded(r.ok)
    return r
  }
  // A worker's rules come from its primary, never from disk: they may be broken there by now.
  const member = cluster.isWorker ? joinCluster(metrics.registry, { rules: takeFromPrimary, reloadCertificate, stop }) : null
  try {
    const first = member && (await member.first)
    const { ruleset, problems } = first ? await loadRuleset(first.source, { limits }) : await loadRules(f.rules, { limits, settleMs: f.settleMs })
    // The primary has shown the problems already.
    if (!first || !ruleset) for (const p of problems.items) process.stderr.write(formatProblem(p) + '\n')
    if (!ruleset) {
      process.stderr.write(`${problems.errors.length} problem(s) in ${f.rules}: not starting\n`)
      return 1
    }
    let tls
    try {
      tls = tlsPaths && (await readCertificate(tlsPaths.certPath, tlsPaths.keyPath))
    } catch (err) {
      process.stderr.write(`${(err as Error).message}: not starting\n`)
      return 1
    }
    holder = { current: ruleset, lastError: null, reloads: 0 }
    if (first) await takeRules(holder, first, { limits })
    if (f.workers > 1 && cluster.isPrimary) {
      return await runPrimary({ workers: f.workers, rules: f.rules, holder, load: { limits, settleMs: f.settleMs }, watch: f.watch, tls: tlsPaths, drainTimeoutMs: f.drainTimeoutMs, workerTimeoutMs: f.workerTimeoutMs, logger })
    }

    const store = await openStore({ ...f.store, logger, onError: (op, reason) => metrics.storeError(op, reason) })
    metrics.watchStore(store)
    server = await startServer({
      host: f.host, port: f.port, holder, store, logger, keys, maxBodyBytes: f.maxBodyBytes, maxJsonDepth: 128,
      tls, maxHeaderBytes: f.maxHeaderBytes, metrics, metricsText: member?.metricsText, corsOrigins: f.corsOrigins,
      bodyBudgetBytes: f.bodyBudgetBytes, maxUpstreamReplyBytes: f.maxUpstreamReplyBytes, headerTimeoutMs: f.headerTimeoutMs,
      requestTimeoutMs: f.requestTimeoutMs, maxConnections: f.maxConnections,
      observe: f.capture ? captureTo(f.capture, { redact: f.redact, keys: keys.map((k) => k.secret), onWrite: (file, first) => { if (first) logger.info({ file }, 'captured') } }) : undefined,
    })
    // A worker's primary watches the files and reloads; a single process does both itself.
    const watcher = member ? null : watchRules(f.rules, holder, (ok, probs) => {
      metrics.reloaded(ok)
      if (ok) logger.info({ hash: holder.current.hash, rules: holder.current.rules.length, warnings: probs.length }, 'rules reloaded')
      else logger.error({ problems: probs.filter((p) => p.severity === 'error').map((p) => formatProblem(p)) }, 'rules reload failed: the previous rules keep serving')
    }, { limits, settleMs: f.settleMs, watch: f.watch })
    const certWatcher = tlsPaths && !member ? watchCertificate(tlsPaths.certPath, tlsPaths.keyPath, () => void reloadCertificate()) : null
    const onHup = () => { watcher!.reload(); void reloadCertificate() }
    if (!member) process.on('SIGHUP', onHup)
    // "listening" means edits from now on are seen.
    await watcher?.ready
    await certWatcher?.ready
    if (!member) logger.info({ url: server.url, rules: ruleset.rules.length, hash: ruleset.hash, auth: keys.length > 0, store: store.health().target ?? 'memory' }, 'route-engine listening')
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
    return 0
  } finally {
    // Disconnected, a worker can exit: after a drain, and as much when it could not start.
    member?.leave()
  }
}

/** ROUTE_ENGINE_KEYS: comma-separated keys, each `name:key` or a bare key (named key1, key2, … by position). */
export function inboundKeys(setting: string): InboundKey[] {
  return setting.split(',').map((k) => k.trim()).filter(Boolean).map((k, i) => {
    const named = /^([A-Za-z0-9_.-]{1,64}):(.+)$/.exec(k)
    return named ? { name: named[1]!, secret: named[2]! } : { name: `key${i + 1}`, secret: k }
  })
}
