// Every failure the engine can answer with: a stable code, a kind, an HTTP status and, when known,
// the rule and the place in a rule file. reply-error.ts is the one place these become responses.

export type ErrorKind = 'client' | 'auth' | 'no-rule' | 'transform' | 'upstream' | 'timeout' | 'config' | 'server'

export const ERROR_CODES = {
  RE_BAD_JSON: { kind: 'client', status: 400, type: 'invalid_request_error' },
  RE_BAD_REQUEST: { kind: 'client', status: 400, type: 'invalid_request_error' },
  RE_BODY_TOO_LARGE: { kind: 'client', status: 413, type: 'invalid_request_error' },
  RE_TOO_DEEP: { kind: 'client', status: 400, type: 'invalid_request_error' },
  RE_HEADERS_TOO_LARGE: { kind: 'client', status: 431, type: 'invalid_request_error' },
  RE_REQUEST_TIMEOUT: { kind: 'client', status: 408, type: 'invalid_request_error' },
  RE_UNAUTHORIZED: { kind: 'auth', status: 401, type: 'authentication_error' },
  RE_NO_RULE: { kind: 'no-rule', status: 404, type: 'invalid_request_error' },
  RE_TRANSFORM_FAILED: { kind: 'transform', status: 500, type: 'server_error' },
  RE_TRANSFORM_TIMEOUT: { kind: 'transform', status: 500, type: 'server_error' },
  RE_RULE_FAILED: { kind: 'transform', status: 400, type: 'invalid_request_error' },
  RE_UPSTREAM_UNCONFIGURED: { kind: 'config', status: 400, type: 'invalid_request_error' },
  RE_UPSTREAM_UNREACHABLE: { kind: 'upstream', status: 502, type: 'upstream_error' },
  RE_UPSTREAM_ERROR: { kind: 'upstream', status: 502, type: 'upstream_error' },
  RE_UPSTREAM_STREAM: { kind: 'upstream', status: 502, type: 'upstream_error' },
  RE_UPSTREAM_TIMEOUT: { kind: 'timeout', status: 504, type: 'timeout_error' },
  RE_UPSTREAM_BUSY: { kind: 'upstream', status: 503, type: 'upstream_error' },
  RE_RATE_LIMITED: { kind: 'client', status: 429, type: 'rate_limit_error' },
  RE_UNAVAILABLE: { kind: 'server', status: 503, type: 'server_error' },
  RE_INTERNAL: { kind: 'transform', status: 500, type: 'server_error' },
} as const satisfies Record<string, { kind: ErrorKind; status: number; type: string }>

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
  readonly type: string
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
    this.type = opts.type ?? def.type
    this.rule = opts.rule
    this.upstream = opts.upstream
    this.at = opts.at
    this.param = opts.param ?? null
    this.headers = opts.headers
    this.clientCode = opts.clientCode
  }

  /** The OpenAI-shaped body every client gets. */
  toBody(): { error: { message: string; type: string; param: string | null; code: string } } {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.clientCode ?? this.code } }
  }
}

export function asRouteError(err: unknown, rule?: string): RouteError {
  if (err instanceof RouteError) return err
  const message = err instanceof Error ? err.message : String(err)
  return new RouteError('RE_INTERNAL', `internal error${rule ? ` in rule '${rule}'` : ''}: ${message}`, { rule, cause: err })
}
