// Prometheus metrics (prom-client), fed from each request's Trace after it ends and from reloads.
// One registry per server; with --workers the primary adds up the workers' registries (cluster.ts).
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client'
import type { BodyBudget } from './pipeline/body-budget.js'
import type { Trace } from './pipeline/proxy.js'
import { slotsInUse } from './pipeline/upstream-slots.js'
import type { StoreErrorReason } from './store/outage.js'
import type { Store } from './store/store.js'

const SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600]

export class Metrics {
  readonly registry = new Registry()
  readonly #requests: Counter<'rule' | 'status'>
  readonly #duration: Histogram<'rule'>
  readonly #firstToken: Histogram<'rule'>
  readonly #chunks: Counter<'rule'>
  readonly #upstreamErrors: Counter<'upstream' | 'code'>
  readonly #retries: Counter<'rule' | 'upstream'>
  readonly #fallbacks: Counter<'rule' | 'upstream'>
  readonly #reloads: Counter<'result'>
  readonly #active: Gauge
  #budget: BodyBudget | null = null
  readonly #storeErrors: Counter<'op' | 'reason'>
  #store: Store | null = null

  constructor() {
    const registers = [this.registry]
    this.#requests = new Counter({ name: 'route_engine_requests_total', help: 'Requests answered, by rule and HTTP status.', labelNames: ['rule', 'status'], registers })
    this.#duration = new Histogram({ name: 'route_engine_request_duration_seconds', help: 'Time from request to the end of the answer (a stream counts until its last frame).', labelNames: ['rule'], buckets: SECONDS, registers })
    this.#firstToken = new Histogram({ name: 'route_engine_time_to_first_token_seconds', help: 'Time from request to the first stream frame written to the client.', labelNames: ['rule'], buckets: SECONDS, registers })
    this.#chunks = new Counter({ name: 'route_engine_stream_chunks_total', help: 'Stream frames written to clients.', labelNames: ['rule'], registers })
    this.#upstreamErrors = new Counter({ name: 'route_engine_upstream_errors_total', help: 'Upstream failures, retried or not: an RE_ code or HTTP_<status>.', labelNames: ['upstream', 'code'], registers })
    this.#retries = new Counter({ name: 'route_engine_retries_total', help: 'Retries of an upstream call.', labelNames: ['rule', 'upstream'], registers })
    this.#fallbacks = new Counter({ name: 'route_engine_fallbacks_total', help: 'Requests sent on to a fallback upstream.', labelNames: ['rule', 'upstream'], registers })
    // Every worker reloads at once: their sum would count each reload N times.
    this.#reloads = new Counter({ name: 'route_engine_reloads_total', help: 'Rule reloads, by result (ok, failed).', labelNames: ['result'], registers, aggregator: 'max' })
    this.#active = new Gauge({ name: 'route_engine_requests_in_flight', help: 'Requests being answered now.', registers })
    new Gauge({
      name: 'route_engine_upstream_in_flight',
      help: 'Upstream calls in flight (what maxConcurrent limits).',
      labelNames: ['upstream'],
      registers,
      collect() {
        for (const [upstream, n] of slotsInUse()) this.set({ upstream }, n)
      },
    })
    const metrics = this
    new Gauge({
      name: 'route_engine_body_bytes_held',
      help: 'Bytes of request bodies held now, across requests (what --body-budget limits).',
      registers,
      collect() {
        this.set(metrics.#budget?.used ?? 0)
      },
    })
    this.#storeErrors = new Counter({ name: 'route_engine_store_errors_total', help: 'Store calls that failed (error, timeout) or were skipped while the store was unreachable (unavailable), by operation.', labelNames: ['op', 'reason'], registers })
    new Gauge({
      name: 'route_engine_store_up',
      help: '1 while the store answers, 0 during an outage (requests go on without it).',
      registers,
      // With --workers: 0 when any worker has lost it.
      aggregator: 'min',
      collect() {
        this.set(metrics.#store?.health().ok === false ? 0 : 1)
      },
    })
    collectDefaultMetrics({ register: this.registry, prefix: 'route_engine_' })
  }

  /** The server's body budget, reported by the gauge. */
  watchBodyBudget(budget: BodyBudget): void {
    this.#budget = budget
  }

  started(): void {
    this.#active.inc()
  }

  /** One request has ended. */
  ended(trace: Trace): void {
    this.#active.dec()
    const rule = trace.rule ?? '(none)'
    this.#requests.inc({ rule, status: String(trace.status ?? 0) })
    if (trace.ms.total !== undefined) this.#duration.observe({ rule }, trace.ms.total / 1000)
    if (trace.ms.firstToken !== undefined) this.#firstToken.observe({ rule }, trace.ms.firstToken / 1000)
    if (trace.frames) this.#chunks.inc({ rule }, trace.frames)
    for (const f of trace.failures ?? []) this.#upstreamErrors.inc({ upstream: f.upstream, code: f.code })
    for (const upstream of trace.retries ?? []) this.#retries.inc({ rule, upstream })
    for (const upstream of trace.fallbacks ?? []) this.#fallbacks.inc({ rule, upstream })
  }

  /** A request answered before it could be read (unparseable, too large a head). */
  rejected(status: number): void {
    this.#requests.inc({ rule: '(none)', status: String(status) })
  }

  storeError(op: string, reason: StoreErrorReason): void {
    this.#storeErrors.inc({ op, reason })
  }

  /** The store whose health store_up reports. */
  watchStore(store: Store): void {
    this.#store = store
  }

  reloaded(ok: boolean): void {
    this.#reloads.inc({ result: ok ? 'ok' : 'failed' })
  }

  text(): Promise<string> {
    return this.registry.metrics()
  }

  get contentType(): string {
    return this.registry.contentType
  }
}
