// Every failure the engine can answer with: a stable code, a kind, an HTTP status and, when known,
// the rule and the place in a rule file. No client dialect: the rules' error writers say how an
// error is written for its client (pipeline/write-error.ts).

export type ErrorKind = 'client' | 'auth' | 'no-rule' | 'transform' | 'upstream' | 'timeout' | 'config' | 'server'

export const ERROR_CODES = {
  RE_BAD_JSON: { kind: 'client', status: 400 },
  RE_BAD_REQUEST: { kind: 'client', status: 400 },
  RE_BODY_TOO_LARGE: { kind: 'client', status: 413 },
  RE_TOO_DEEP: { kind: 'client', status: 400 },
  RE_HEADERS_TOO_LARGE: { kind: 'client', status: 431 },
  RE_REQUEST_TIMEOUT: { kind: 'client', status: 408 },
  RE_UNSAFE_TEMPLATE_VALUE: { kind: 'client', status: 400 },
  RE_UNAUTHORIZED: { kind: 'auth', status: 401 },
  RE_FORBIDDEN_HOST: { kind: 'auth', status: 403 },
  RE_FORBIDDEN_ORIGIN: { kind: 'auth', status: 403 },
  RE_UNSUPPORTED_MEDIA_TYPE: { kind: 'client', status: 415 },
  RE_NO_RULE: { kind: 'no-rule', status: 404 },
  RE_TRANSFORM_FAILED: { kind: 'transform', status: 500 },
  RE_TRANSFORM_TIMEOUT: { kind: 'transform', status: 500 },
  RE_RULE_FAILED: { kind: 'transform', status: 400 },
  RE_UPSTREAM_UNCONFIGURED: { kind: 'config', status: 400 },
  RE_UPSTREAM_UNREACHABLE: { kind: 'upstream', status: 502 },
  RE_UPSTREAM_ERROR: { kind: 'upstream', status: 502 },
  RE_UPSTREAM_STREAM: { kind: 'upstream', status: 502 },
  RE_UPSTREAM_TIMEOUT: { kind: 'timeout', status: 504 },
  RE_UPSTREAM_BUSY: { kind: 'upstream', status: 503 },
  RE_RATE_LIMITED: { kind: 'client', status: 429 },
  RE_UNAVAILABLE: { kind: 'server', status: 503 },
  RE_INTERNAL: { kind: 'transform', status: 500 },
  RE_SERVER_BUSY: { kind: 'server', status: 503 },
  RE_UPSTREAM_TOO_LARGE: { kind: 'upstream', status: 502 },
} as const satisfies Record<string, { kind: ErrorKind; status: number }>

export type ErrorCode = keyof typeof ERROR_CODES

export interface Place {
  file: string
  line: number
  col: number
}

export interface RouteErrorOptions {
  rule?: string
  upstream?: string
  at?: Place
  status?: number
  /** The error's type, when a rule chose one (`fail`, response.error): the writer's to use or not. */
  type?: string
  param?: string | null
  headers?: Record<string, string>
  /** The `code` clients see, when a rule chose one; default: the engine's code. */
  clientCode?: string
  cause?: unknown
}

export class RouteError extends Error {
  readonly code: ErrorCode
  readonly kind: ErrorKind
  readonly status: number
  readonly type?: string
  readonly rule?: string
  readonly upstream?: string
  readonly at?: Place
  readonly param: string | null
  readonly headers?: Record<string, string>
  readonly clientCode?: string

  constructor(code: ErrorCode, message: string, opts: RouteErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause })
    const def = ERROR_CODES[code]
    this.name = 'RouteError'
    this.code = code
    this.kind = def.kind
    this.status = opts.status ?? def.status
    this.type = opts.type
    this.rule = opts.rule
    this.upstream = opts.upstream
    this.at = opts.at
    this.param = opts.param ?? null
    this.headers = opts.headers
    this.clientCode = opts.clientCode
  }
}

export function asRouteError(err: unknown, rule?: string): RouteError {
  if (err instanceof RouteError) return err
  const message = err instanceof Error ? err.message : String(err)
  return new RouteError('RE_INTERNAL', `internal error${rule ? ` in rule '${rule}'` : ''}: ${message}`, { rule, cause: err })
}
