// One client request through the production pipeline (proxy() on a loopback socket) with the
// upstream replaced by a recorded reply (an undici MockAgent): no network, one matcher, one
// transformer. explain prints what it observes; test compares it with an example's expectations.
import { once } from 'node:events'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Agent, MockAgent, request } from 'undici'
import { credentialHeaders } from '../credentials.js'
import type { Place } from '../errors.js'
import { resolveAlias } from '../pipeline/match.js'
import type { Observer } from '../pipeline/observer.js'
import { proxy, type Trace } from '../pipeline/proxy.js'
import type { LoadResult } from '../ruleset/compile.js'
import { ruleSpecs, type RuleSpec } from '../ruleset/rule-specs.js'
import type { RequestStep, Rule, Ruleset } from '../ruleset/ruleset.js'
import { MemoryStore } from '../store/memory.js'
import { firstFailed, type FailedCondition } from './explain-match.js'

export interface ClientRequest {
  method: string
  /** Path and query. */
  path: string
  headers: Record<string, string>
  /** JSON text; undefined for no body. */
  body?: string
}

export interface RecordedReply {
  status: number
  headers: Record<string, string>
  body: string
}

export interface RuleCheck {
  name: string
  at: Place
  /** Unset for the rule that matched. */
  failed?: FailedCondition
}

export interface StepRecord {
  /** 1, 2, … over the transform and fail steps; null for a `use` step (reported after its own steps). */
  n: number | null
  label: string
  at: Place | null
  ran: boolean
  out: unknown
}

export interface UpstreamRecord {
  name: string
  method: string
  url: string
  /** The URL after the upstream's base. */
  path: string
  /** Credentials masked. */
  headers: Record<string, string>
  body: unknown
}

export interface ClientRecord {
  status: number
  headers: Record<string, string>
  text: string
  /** The parsed body, when JSON. */
  body?: unknown
  /** The data of every SSE frame (JSON parsed when it is JSON), when a stream. */
  frames?: unknown[]
}

export interface RunResult {
  rule?: Rule
  /** The rules tried before the one that matched (all of them when none did), and the match. */
  checks: RuleCheck[]
  /** The client body with the alias applied. */
  request?: unknown
  steps: StepRecord[]
  upstream?: UpstreamRecord
  client: ClientRecord
  /** The engine's error code when the request failed (RE_*). */
  error?: { code: string; message: string }
  /** Upstreams without a base URL: run as if they had one. */
  unconfigured: string[]
}

const MASK = '***'
const PLACEHOLDER_BASE = 'http://unconfigured.invalid'
// serve's defaults (main.ts).
const LIMITS = { maxBodyBytes: 50 * 1024 * 1024, maxDepth: 128 }

export class Runner {
  readonly ruleset: Ruleset
  readonly specs: Map<string, RuleSpec>
  readonly unconfigured: string[]
  readonly #secrets: string[]
  readonly #server: Server
  readonly #client = new Agent({ keepAliveTimeout: 1000 })
  #url = ''
  #current: { observer: Observer; trace: Trace } | null = null
  #queue: Promise<unknown> = Promise.resolve()

  private constructor(loaded: LoadResult) {
    const base = loaded.ruleset!
    this.specs = ruleSpecs(loaded.sources!)
    this.unconfigured = [...base.upstreams.values()].filter((u) => !u.base).map((u) => u.name)
    this.#secrets = [...new Set([...base.upstreams.values()].flatMap((u) => u.secrets))].sort((a, b) => b.length - a.length)
    // An unconfigured upstream would answer RE_UPSTREAM_UNCONFIGURED before any transform could be seen.
    const upstreams = new Map([...base.upstreams].map(([k, u]) => [k, u.base ? u : { ...u, base: PLACEHOLDER_BASE }]))
    this.ruleset = { ...base, upstreams }
    this.#server = createServer((req, res) => {
      const current = this.#current!
      void proxy(req, res, { ruleset: this.ruleset, store: new MemoryStore(), limits: LIMITS, observe: () => current.observer }, current.trace)
    })
  }

  /** A runner for a loaded rules directory (its ruleset must be non-null). */
  static async start(loaded: LoadResult): Promise<Runner> {
    if (!loaded.ruleset || !loaded.sources) throw new Error('the rules have errors: run lint')
    const r = new Runner(loaded)
    r.#server.listen(0, '127.0.0.1')
    await once(r.#server, 'listening')
    r.#url = `http://127.0.0.1:${(r.#server.address() as AddressInfo).port}`
    return r
  }

  async close(): Promise<void> {
    await this.#client.close()
    await new Promise<void>((resolve) => { this.#server.close(() => resolve()); this.#server.closeAllConnections() })
  }

  /** Runs one request; runs are serialised (each has its own store and recorded reply). */
  run(req: ClientRequest, reply?: RecordedReply): Promise<RunResult> {
    const next = this.#queue.then(() => this.#run(req, reply))
    this.#queue = next.catch(() => undefined)
    return next
  }

  async #run(req: ClientRequest, reply?: RecordedReply): Promise<RunResult> {
    const result: RunResult = { checks: [], steps: [], client: { status: 0, headers: {}, text: '' }, unconfigured: this.unconfigured }
    const mock = new MockAgent({ connections: 1 })
    mock.disableNetConnect()
    const intercept = mock.get(() => true).intercept({ path: () => true, method: () => true })
    if (reply) intercept.reply(reply.status, reply.body, { headers: reply.headers }).persist()
    else intercept.replyWithError(new Error('no recorded upstream reply was given')).persist()
    let labels = new Map<RequestStep, string>()
    let leaves = 0
    const trace: Trace = { ms: {} }
    const observer: Observer = {
      dispatcher: mock,
      matched: (m) => {
        result.rule = m.rule
        result.request = m.request
        // The rule's own steps, then its fallbacks' (a retry or a fallback reports its steps again).
        labels = stepLabels(m.rule.targets.flatMap((t) => t.request))
      },
      step: (step, ran, out) => {
        const leaf = step.kind !== 'pipeline'
        result.steps.push({ n: leaf ? ++leaves : null, label: labels.get(step) ?? step.kind, at: leaf ? stepAt(step) : null, ran, out: masked(out, this.#secrets) })
      },
      upstream: (call, up) => {
        result.upstream = {
          name: up.name,
          method: call.method,
          url: mask(call.url, this.#secrets),
          path: mask(call.url.slice(up.base.length), this.#secrets),
          headers: maskHeaders(call.headers, this.#secrets, credentialHeaders(this.ruleset)),
          body: call.body === undefined ? undefined : JSON.parse(mask(call.body, this.#secrets)),
        }
      },
    }
    this.#current = { observer, trace }
    try {
      const res = await request(this.#url + req.path, { method: req.method as 'POST', headers: req.headers, body: req.body, dispatcher: this.#client })
      result.client = { status: res.statusCode, headers: flat(res.headers), text: mask(await res.body.text(), this.#secrets) }
    } finally {
      this.#current = null
      await mock.close()
    }
    parseClient(result.client)
    // proxy() records the code before it writes the error, so the client has seen the end after it.
    const code = trace.code
    if (code) result.error = { code, message: errorMessage(result.client) ?? code }
    result.checks = await this.#checks(req, result.rule)
    return result
  }

  /** Every rule tried before the match, with its first failed condition, then the match. */
  async #checks(req: ClientRequest, matched: Rule | undefined): Promise<RuleCheck[]> {
    let body: unknown
    try { body = req.body === undefined || req.body === '' ? undefined : JSON.parse(req.body) } catch { return [] }
    const { request: aliased, model } = resolveAlias(this.ruleset, body)
    const subject = { method: req.method, path: new URL(req.path, 'http://x').pathname, headers: lower(req.headers), request: aliased, model }
    const out: RuleCheck[] = []
    for (const rule of this.ruleset.rules) {
      if (rule === matched) { out.push({ name: rule.name, at: rule.at }); break }
      const failed = await firstFailed(rule, this.specs.get(rule.name), subject)
      out.push({ name: rule.name, at: rule.at, failed: failed ?? { condition: 'when', detail: 'holds here, but did not when the request ran' } })
    }
    return out
  }
}

/** `use` chains and transform places, for each step of a rule's pipeline. */
export function stepLabels(steps: readonly RequestStep[], prefix = '', out = new Map<RequestStep, string>()): Map<RequestStep, string> {
  for (const s of steps) {
    if (out.has(s)) continue
    if (s.kind === 'pipeline') {
      out.set(s, `${prefix}use ${s.name}`)
      stepLabels(s.steps, `${prefix}${s.name} › `, out)
    } else {
      const at = stepAt(s)
      out.set(s, `${prefix}${s.kind === 'fail' || s.kind === 'validate' ? `${s.kind} ` : ''}${at.line === 1 && at.col === 1 && !/\.ya?ml$/.test(at.file) ? at.file : `${at.file}:${at.line}:${at.col}`}`)
    }
  }
  return out
}

/** Secret values (upstream header values from the environment) replaced by ***, longest first. */
function mask(text: string, secrets: readonly string[]): string {
  let t = text
  for (const s of secrets) if (t.includes(s)) t = t.split(s).join(MASK)
  return t
}

/** A copy of a step's output, with any secret a transform put into it masked. */
function masked(v: unknown, secrets: readonly string[]): unknown {
  const text = JSON.stringify(v)
  return text === undefined ? undefined : JSON.parse(mask(text, secrets))
}

function maskHeaders(h: Record<string, string>, secrets: readonly string[], credentials: ReadonlySet<string>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(h)) out[k] = credentials.has(k) ? v.replace(/^(\w+ )?.*$/, `$1${MASK}`) : mask(v, secrets)
  return out
}

function parseClient(c: ClientRecord): void {
  const type = c.headers['content-type'] ?? ''
  if (type.includes('text/event-stream')) {
    c.frames = []
    for (const block of c.text.split('\n\n')) {
      const data = block.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5).replace(/^ /, '')).join('\n')
      if (!block.split('\n').some((l) => l.startsWith('data:'))) continue
      try { c.frames.push(JSON.parse(data)) } catch { c.frames.push(data) }
    }
  } else if (type.includes('json')) {
    try { c.body = JSON.parse(c.text) } catch { /* left as text */ }
  }
}

function errorMessage(c: ClientRecord): string | undefined {
  const last = c.frames ? c.frames.findLast((f) => typeof f === 'object' && f !== null && 'error' in f) : c.body
  const e = (last as { error?: { message?: unknown } } | undefined)?.error
  return typeof e?.message === 'string' ? e.message : undefined
}

const flat = (h: Record<string, string | string[] | undefined>): Record<string, string> =>
  Object.fromEntries(Object.entries(h).filter(([, v]) => v !== undefined).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : v!]))

const lower = (h: Record<string, string>): Record<string, string> => Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]))

/** Where a leaf step is written: its expression, or its `validate:` key. */
function stepAt(s: Exclude<RequestStep, { kind: 'pipeline' }>): Place {
  return s.kind === 'validate' ? s.at : s.expr.at
}
