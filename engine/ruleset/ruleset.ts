// The compiled, immutable form of a rules directory. Built by compile.ts at start, on reload and by
// lint; the request path only reads it.
import type { ValidateFunction } from 'ajv'
import type { Expr } from '../expr/compile.js'
import type { SharedDefinitions } from '../expr/library.js'
import type { Place } from '../errors.js'
import type { RuleFiles } from './read.js'

export interface Located<T> {
  value: T
  at: Place
}

/** An expression with the place its source starts at, for error messages. */
export interface PlacedExpr {
  expr: Expr
  at: Place
  /** The library it may call: where a failure inside a definition is. */
  library?: SharedDefinitions
}

export type Predicate = (body: unknown, headers: Record<string, string | string[] | undefined>) => boolean

export interface Matcher {
  methods: ReadonlySet<string> | null
  paths: ((path: string) => boolean) | null
  /** Every path the rule can match, when its path condition lists only exact paths; else null. */
  exactPaths: ReadonlySet<string> | null
  model: ((model: string) => boolean) | null
  /** Structured body and header conditions, compiled to one function; null when there are none. */
  fields: Predicate | null
  when: PlacedExpr | null
}

export type RequestStep =
  | { kind: 'transform'; when: StepCondition | null; expr: PlacedExpr }
  | { kind: 'fail'; when: StepCondition | null; expr: PlacedExpr }
  | { kind: 'pipeline'; when: StepCondition | null; name: string; steps: readonly RequestStep[] }
  | { kind: 'validate'; when: StepCondition | null; schema: ValidateFunction; at: Place }

export type StepCondition = { kind: 'fields'; test: (v: unknown) => boolean } | { kind: 'expr'; expr: PlacedExpr }

export interface StreamStep {
  when: PlacedExpr | null
  state: PlacedExpr | null
  emit: PlacedExpr | null
  do: PlacedExpr | null
  fail: PlacedExpr | null
  stop: boolean
}

export interface StreamProgram {
  initialState: Record<string, unknown>
  envelope: PlacedExpr | null
  /** The field of each emitted object that names its SSE event (`event: <value>`); null: no event lines. */
  event: string | null
  /** Data written last, also after an error (e.g. [DONE]); null: nothing. */
  done: string | null
  keepaliveMs: number | null
  on: ReadonlyMap<string, readonly StreamStep[]>
  fallback: readonly StreamStep[]
  end: StreamStep | null
  error: StreamStep | null
}

export interface Upstream {
  name: string
  /** Empty when unconfigured; `baseVars` then names the variables to set. */
  base: string
  baseVars: string[]
  /** Header name → value; values with unset variables are left out at load. */
  headers: Record<string, string>
  /** Header names whose values come from the environment, sent or not (lower-case): keys, so credentials in a client's headers too. */
  keyHeaders: string[]
  /** Header values that came from the environment: masked wherever headers are shown. */
  secrets: string[]
  forward: string[]
  timeouts: { connect: number; firstByte: number; idle: number }
  /** Requests in flight at once; past it a call fails with RE_UPSTREAM_BUSY. null = no limit. */
  maxConcurrent: number | null
  /** Requests and tokens per minute sent to it; null = none. */
  limits: RateLimits | null
}

/** Per minute, sliding; null = no limit of that kind. */
export interface RateLimits {
  requestsPerMinute: number | null
  tokensPerMinute: number | null
}

export interface Template {
  /** Constant text, or parts alternating text and `{expression}`s. */
  parts: (string | TemplateValue)[]
}

/**
 * An `{expression}` of a template. In a path its value is percent-encoded as one URL component
 * unless the rule wrote `{raw: …}` (a value from trusted parts only: lint warns otherwise).
 */
export interface TemplateValue {
  value: PlacedExpr
  raw: boolean
}

export interface UpstreamCallSpec {
  name: string
  path: Template
  method: string | null
  headers: Record<string, Template>
}

export interface ResponseSpec {
  body: PlacedExpr | null
  stream: StreamProgram | null
  error: PlacedExpr | null
}

/** Failures a retry policy covers: no connection (or no free slot), no headers in time, 429, 5xx (in-band errors by their status). */
export type RetryOn = 'connect' | 'timeout' | '429' | '5xx'

export interface RetryPolicy {
  /** Tries after the first one. */
  attempts: number
  backoffMs: number
  maxDelayMs: number
  on: ReadonlySet<RetryOn>
}

/** One place a rule can send its request: its own upstream, then each fallback in order. */
export interface Target {
  request: readonly RequestStep[]
  upstream: UpstreamCallSpec
  response: ResponseSpec
  retry: RetryPolicy
}

export interface Rule {
  name: string
  at: Place
  /** Writes this rule's errors for its client (`errors:`); null: the writer for the request path. */
  errors: PlacedExpr | null
  match: Matcher
  /** The ruleset's vars merged with the rule's own. */
  vars: Record<string, unknown>
  request: readonly RequestStep[]
  upstream: UpstreamCallSpec | null
  reply: { status: number; headers: Record<string, string>; body: PlacedExpr | null } | null
  response: ResponseSpec
  /** The rule's own request/upstream/response first, then its fallbacks; empty for a `reply` rule. */
  targets: readonly Target[]
}

/**
 * An error writer: a transform from the engine's error ({status, kind, code, message, …}) to the
 * client's {status?, body, headers?}. `paths` null: the writer for every path no other one names.
 */
export interface ErrorWriter {
  paths: ((path: string) => boolean) | null
  write: PlacedExpr
}

export interface Alias {
  model: string
  set: Record<string, unknown> | null
}

export interface Ruleset {
  rules: readonly Rule[]
  /**
   * The rules a request path can match, in order: for a path some rule names exactly, those rules
   * and every rule not limited to exact paths; for any other path, only the latter (`open`).
   */
  dispatch: { byPath: ReadonlyMap<string, readonly Rule[]>; open: readonly Rule[] }
  /** Named request pipelines, compiled (rules hold them inline too). */
  pipelines: ReadonlyMap<string, readonly RequestStep[]>
  upstreams: ReadonlyMap<string, Upstream>
  aliases: ReadonlyMap<string, Alias>
  models: readonly { id: string; owned_by: string }[]
  vars: Record<string, unknown>
  /** Shared definitions (`library:`), bound in every transform; null: none. */
  library: SharedDefinitions | null
  /** `errors:` of every file, in order, the one without a path last: the first whose paths match writes. */
  errorWriters: readonly ErrorWriter[]
  limits: {
    /** Limits by inbound key name; `*` for every other key. */
    keys: ReadonlyMap<string, RateLimits>
    /** The tokens a client reply (a JSON body, a stream chunk) reports; evaluated only when some limit counts tokens. */
    usage: PlacedExpr | null
    countTokens: boolean
  }
  /** sha256 of every file's path and content. */
  hash: string
  loadedAt: Date
  files: readonly string[]
  /** The files as read: a worker started later compiles these, whatever is on disk by then. */
  source: RuleFiles
}
