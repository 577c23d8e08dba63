// --workers N with node:cluster. The primary forks N workers that share the listening port; it alone
// reads the rules (and watches them and the certificate files) and hands every worker the files its
// last good ruleset was compiled from, with its reload state: a worker started at any time, even while
// the rules on disk are broken, serves the last good rules. The primary adds up the workers' metrics
// for /metrics, replaces a worker that dies, does not start in time or does not answer in time (and
// stops replacing one that cannot start), and on SIGTERM has every worker drain.
import cluster, { type Worker } from 'node:cluster'
import { AggregatorRegistry, type Registry } from 'prom-client'
import type { Logger } from './log.js'
import { formatProblem } from './ruleset/problems.js'
import { rulesState, watchRules, type RulesetHolder, type RulesState, type ServeLoadOptions } from './ruleset/reload.js'
import { watchCertificate } from './tls.js'

type ToWorker = { re: 'rules'; state: RulesState } | { re: 'reload-cert' } | { re: 'shutdown' } | { re: 'metrics'; id: number; text?: string; error?: string }
type ToPrimary = { re: 'hello' } | { re: 'reloaded'; ok: boolean; hash: string } | { re: 'metrics'; id: number }
type Answer = { ok: boolean; hash: string } | null

/** Workers in a row that die or are killed before they serve, after which the primary starts no more. */
const MAX_FAILED_STARTS = 5

export interface PrimaryOptions {
  workers: number
  rules: string
  /** The rules as the primary loaded them at start. */
  holder: RulesetHolder
  load: ServeLoadOptions
  watch: boolean
  tls?: { certPath: string; keyPath: string }
  /** How long workers may take to drain before the primary stops waiting for them. */
  drainTimeoutMs: number
  /** How long a worker may take to start serving, or to answer a reload, before it is replaced. */
  workerTimeoutMs: number
  logger: Logger
}

export async function runPrimary(o: PrimaryOptions): Promise<number> {
  // The workers' own replies to metric requests are set up by prom-client once this exists.
  const aggregator = new AggregatorRegistry()
  const replies = new Map<number, ((m: Answer) => void)[]>()
  /** Workers not serving yet, with the timer that replaces them if they do not in time. */
  const starting = new Map<number, NodeJS.Timeout>()
  /** Which of the primary's reloads (its generation) each worker was last told the rules of. */
  const told = new Map<number, number>()
  let generation = 0
  let failedStarts = 0
  let stopping = false
  let giveUp!: (code: number) => void
  const gaveUp = new Promise<number>((resolve) => { giveUp = resolve })

  const serving = (): Worker[] => workers().filter((w) => !starting.has(w.id))
  const state = () => rulesState(o.holder)
  const fork = (): Worker => {
    const w = cluster.fork()
    starting.set(w.id, setTimeout(() => {
      o.logger.error({ pid: w.process.pid, deadlineMs: o.workerTimeoutMs }, 'worker did not start in time: replacing it')
      w.process.kill('SIGKILL')
    }, o.workerTimeoutMs))
    return w
  }
  /** Tells a worker the rules and resolves with its answer: null when it died or did not answer in time (it is then replaced). */
  const tell = (w: Worker) => new Promise<Answer>((resolve) => {
    let done = false
    const timer = setTimeout(() => {
      o.logger.error({ pid: w.process.pid, deadlineMs: o.workerTimeoutMs }, 'worker did not answer in time: replacing it')
      answer(null)
      w.process.kill('SIGKILL')
    }, o.workerTimeoutMs)
    const answer = (m: Answer) => {
      if (done) return
      done = true
      clearTimeout(timer)
      resolve(m)
    }
    const q = replies.get(w.id) ?? []
    replies.set(w.id, q)
    q.push(answer)
    told.set(w.id, generation)
    send(w, { re: 'rules', state: state() })
  })

  cluster.on('message', (w: Worker, m: ToPrimary) => {
    // A worker starting asks for the rules; it is told again once it serves if they changed meanwhile.
    if (m?.re === 'hello') {
      told.set(w.id, generation)
      send(w, { re: 'rules', state: state() })
    }
    if (m?.re === 'reloaded') replies.get(w.id)?.shift()?.(m)
    if (m?.re === 'metrics') {
      aggregator.clusterMetrics().then(
        (text) => send(w, { re: 'metrics', id: m.id, text }),
        (err: Error) => send(w, { re: 'metrics', id: m.id, error: err.message }),
      )
    }
  })
  cluster.on('listening', (w: Worker) => {
    clearTimeout(starting.get(w.id))
    starting.delete(w.id)
    failedStarts = 0
    o.logger.info({ pid: w.process.pid }, 'worker serving')
    if (told.get(w.id) !== generation) void tell(w)
  })

  // Until every first worker serves, one that fails stops the start.
  const started = new Promise<string | null>((resolve) => {
    let listening = 0
    const onListening = (_w: Worker, a: { address: string; port: number }) => {
      if (++listening < o.workers) return
      cluster.off('listening', onListening)
      cluster.off('exit', onEarlyExit)
      resolve(`${a.address.includes(':') ? `[${a.address}]` : a.address}:${a.port}`)
    }
    const onEarlyExit = () => { stopping = true; resolve(null) }
    cluster.on('listening', onListening)
    cluster.on('exit', onEarlyExit)
  })
  cluster.on('exit', (w, code, signal) => {
    clearTimeout(starting.get(w.id))
    const beforeServing = starting.delete(w.id)
    told.delete(w.id)
    for (const f of replies.get(w.id)?.splice(0) ?? []) f(null)
    replies.delete(w.id)
    if (stopping) return
    if (beforeServing && ++failedStarts >= MAX_FAILED_STARTS) {
      const left = serving().length
      o.logger.error({ pid: w.process.pid, code, signal, failedStarts, workers: left }, 'workers keep failing to start: starting no more')
      if (!left) giveUp(1)
      return
    }
    const next = fork()
    o.logger.error({ pid: w.process.pid, code, signal, replacement: next.process.pid }, 'worker died: starting another')
  })

  for (let i = 0; i < o.workers; i++) fork()
  const address = await started
  if (!address) {
    o.logger.error('a worker exited while starting: stopping')
    await stopWorkers(o.drainTimeoutMs)
    return 1
  }

  /** Every serving worker takes the primary's rules (or, after a broken edit, its error). */
  const reloadAll = async (): Promise<void> => {
    generation++
    const results = await Promise.all(serving().map(tell))
    const hash = o.holder.current.hash
    o.logger.info({ hash, workers: results.length, failed: results.filter((r) => !r?.ok).length, consistent: results.every((r) => !r || r.hash === hash) }, 'workers reloaded')
  }
  const reloadCertificates = () => { for (const w of serving()) send(w, { re: 'reload-cert' }) }

  const rulesWatcher = watchRules(o.rules, o.holder, (ok, probs) => {
    if (ok) o.logger.info({ hash: o.holder.current.hash, rules: o.holder.current.rules.length, warnings: probs.length }, 'rules reloaded')
    else o.logger.error({ problems: probs.filter((p) => p.severity === 'error').map((p) => formatProblem(p)) }, 'rules reload failed: the previous rules keep serving')
    // A broken edit goes to the workers too: each keeps its rules and reports the problem on /healthz.
    void reloadAll()
  }, { ...o.load, watch: o.watch })
  const certWatcher = o.tls ? watchCertificate(o.tls.certPath, o.tls.keyPath, reloadCertificates) : null
  const onHup = () => { rulesWatcher.reload(); reloadCertificates() }
  process.on('SIGHUP', onHup)
  await rulesWatcher.ready
  await certWatcher?.ready

  const url = `${o.tls ? 'https' : 'http'}://${address}`
  o.logger.info({ url, workers: o.workers, rules: o.holder.current.rules.length, hash: o.holder.current.hash }, 'route-engine listening')
  const code = await Promise.race([
    new Promise<number>((resolve) => {
      process.once('SIGINT', () => resolve(0))
      process.once('SIGTERM', () => resolve(0))
    }),
    gaveUp,
  ])
  stopping = true
  process.off('SIGHUP', onHup)
  o.logger.info({ workers: serving().length }, 'stopping: workers drain')
  await Promise.all([stopWorkers(o.drainTimeoutMs), rulesWatcher.close(), certWatcher?.close()])
  return code
}

export interface WorkerHooks {
  /** The primary's rules, after the first: take them, answer whether they are good and the hash now served. */
  rules(state: RulesState): Promise<{ ok: boolean; hash: string }>
  reloadCertificate(): Promise<void>
  /** The primary is stopping: drain and exit. */
  stop(): void
}

export interface ClusterMember {
  /** The primary's rules when this worker started. */
  first: Promise<RulesState>
  /** Every worker's metrics, added up by the primary. */
  metricsText(): Promise<string>
  /** Stops answering the primary and disconnects, so that the worker process can exit. */
  leave(): void
}

/** In a worker: asks the primary for the rules and answers its messages, one at a time. */
export function joinCluster(registry: Registry, hooks: WorkerHooks): ClusterMember {
  new AggregatorRegistry()
  AggregatorRegistry.setRegistries([registry])
  const waiting = new Map<number, (m: ToWorker & { re: 'metrics' }) => void>()
  let next = 0
  let gotFirst: ((s: RulesState) => void) | null = null
  const first = new Promise<RulesState>((resolve) => { gotFirst = resolve })
  let queue = Promise.resolve()
  const onMessage = (m: ToWorker) => {
    if (m?.re === 'metrics') { waiting.get(m.id)?.(m); waiting.delete(m.id); return }
    if (m?.re === 'rules' && gotFirst) { gotFirst(m.state); gotFirst = null; return }
    queue = queue.then(async () => {
      if (m?.re === 'rules') process.send?.({ re: 'reloaded', ...(await hooks.rules(m.state)) } satisfies ToPrimary)
      else if (m?.re === 'reload-cert') await hooks.reloadCertificate()
      else if (m?.re === 'shutdown') hooks.stop()
    })
  }
  process.on('message', onMessage)
  process.send?.({ re: 'hello' } satisfies ToPrimary)
  return {
    first,
    metricsText: () => new Promise<string>((resolve, reject) => {
      const id = next++
      waiting.set(id, (m) => (m.text !== undefined ? resolve(m.text) : reject(new Error(m.error ?? 'no metrics'))))
      process.send?.({ re: 'metrics', id } satisfies ToPrimary)
    }),
    leave() {
      process.off('message', onMessage)
      if (cluster.worker?.isConnected()) cluster.worker.disconnect()
    },
  }
}

function workers(): Worker[] {
  return Object.values(cluster.workers ?? {}).filter((w): w is Worker => !!w && w.isConnected())
}

function send(w: Worker, m: ToWorker): void {
  if (w.isConnected()) w.send(m)
}

/** Tells every worker to drain; kills those still running a little after the drain deadline. */
async function stopWorkers(drainTimeoutMs: number): Promise<void> {
  const all = Object.values(cluster.workers ?? {}).filter((w): w is Worker => !!w)
  await Promise.all(all.map((w) => new Promise<void>((resolve) => {
    if (w.isDead()) return resolve()
    const kill = setTimeout(() => w.process.kill('SIGKILL'), drainTimeoutMs + 5000)
    w.once('exit', () => { clearTimeout(kill); resolve() })
    send(w, { re: 'shutdown' })
  })))
}
