// Runs a stream program over upstream SSE events: dispatch by event, explicit state, zero or more
// chunks out per event, chunks at the end, and the error path. Returns encoded SSE text; the caller
// owns the socket. The envelope is evaluated once per stream and merged under every chunk. A step
// whose expressions await nothing runs synchronously: no Promise per event.
import { RouteError } from '../errors.js'
import { evaluateNow } from '../expr/evaluate.js'
import { isPlainObject } from '../expr/functions.js'
import { isPromise, then } from '../expr/runtime.js'
import type { SseEvent } from '../sse/decode.js'
import { encodeData, encodeJson } from '../sse/encode.js'
import type { PlacedExpr, StreamProgram, StreamStep } from '../ruleset/ruleset.js'
import { errorInput } from './write-error.js'

type Out = { text: string; stop: boolean }
type Maybe<T> = T | Promise<T>

/** Each method answers synchronously unless a step awaited something (the store): then with a Promise. */
export interface StreamRun {
  /** Frames for one upstream event; `stop` when the program wants no more events. */
  onEvent(ev: SseEvent): Maybe<Out>
  /** Frames for the end of the upstream stream, then the done sentinel. */
  onEnd(): Maybe<string>
  /**
   * Frames that tell the client about a failure after the stream started: the program's error step,
   * then `frame` (the error writer's body: an object, a string or a list of them; no envelope), then
   * the sentinel.
   */
  onError(err: RouteError, frame: unknown): Maybe<string>
  /** The tokens the last chunk that reported them said (`usage` given), else undefined. */
  readonly tokens: number | undefined
}

const NOTHING: Out = Object.freeze({ text: '', stop: false })

/**
 * `upstream` names where the events come from: a `fail` or malformed data is then that upstream's
 * failure (retry, fallback, metrics). `usage`, when given, reads the tokens a chunk reports.
 */
export function transformStream(program: StreamProgram, base: Record<string, unknown>, rule: string, upstream?: string, usage?: PlacedExpr | null): StreamRun {
  const bindings: Record<string, unknown> = { ...base, state: structuredClone(program.initialState) }
  const ev = (p: PlacedExpr, input: unknown): unknown => evaluateNow(p, input, bindings, rule)
  // undefined until the first frame: the envelope is evaluated then, once
  let envelope: Envelope | null | undefined
  const eventField = program.event
  let tokens: number | undefined

  function encode(out: unknown): Maybe<string> {
    if (out === undefined || out === null) return ''
    if (envelope !== undefined) return frames(out)
    if (!program.envelope) { envelope = null; return frames(out) }
    return then(ev(program.envelope, null), (e) => {
      envelope = isPlainObject(e) ? envelopeOf(e) : null
      return frames(out)
    })
  }

  /** Objects under the envelope (unless `plain`), each named by the program's `event` field; strings as they are. */
  function frames(out: unknown, plain = false): string {
    let text = ''
    for (const item of Array.isArray(out) ? out : [out]) {
      if (item === undefined || item === null) continue
      if (typeof item === 'string') { text += encodeData(item); continue }
      const env = plain ? null : envelope
      if (eventField) text += eventLine(isPlainObject(item) && Object.hasOwn(item, eventField) ? item[eventField] : env?.fields[eventField])
      text += env && isPlainObject(item) ? env.encode(item) : encodeJson(item)
      if (usage && typeof item === 'object') tokens = tokensIn(usage, item, rule) ?? tokens
    }
    return text
  }

  function pick(steps: readonly StreamStep[], input: unknown, from = 0): Maybe<StreamStep | undefined> {
    for (let i = from; i < steps.length; i++) {
      const s = steps[i]!
      if (!s.when) return s
      const v = ev(s.when, input)
      if (isPromise(v)) return v.then((r) => (truthy(r) ? s : pick(steps, input, i + 1)))
      if (truthy(v)) return s
    }
    return undefined
  }

  function run(step: StreamStep, input: unknown): Maybe<Out> {
    if (step.do) {
      return then(ev(step.do, input), (r) => isPlainObject(r)
        ? finish(r.emit, r.state, r.fail, step.stop || r.stop === true)
        : finish(undefined, undefined, undefined, step.stop))
    }
    // fail, emit and state all read the state as it was before the step
    return then(step.fail ? ev(step.fail, input) : undefined, (fail) =>
      then(step.emit ? ev(step.emit, input) : undefined, (emit) =>
        then(step.state ? ev(step.state, input) : undefined, (state) => finish(emit, state, fail, step.stop))))
  }

  /** `end` and `error`: the step, when its `when` holds ($ is null). */
  function runIf(step: StreamStep): Maybe<Out> {
    return then(pick([step], null), (s) => (s ? run(s, null) : NOTHING))
  }

  function finish(emit: unknown, state: unknown, fail: unknown, stop: boolean): Maybe<Out> {
    if (isPlainObject(state)) bindings.state = { ...(bindings.state as object), ...state }
    if (fail !== undefined && fail !== null && fail !== false) throw failure(fail, rule, 'RE_UPSTREAM_STREAM', upstream)
    return then(encode(emit), (text) => ({ text, stop }))
  }

  const sentinel = program.done === null ? '' : encodeData(program.done)

  return {
    get tokens() { return tokens },
    onEvent(e) {
      const input = parseData(e.data, rule, upstream)
      const key = e.event || (isPlainObject(input) && typeof input.type === 'string' ? input.type : typeof input === 'string' ? input : 'message')
      const step = pick(program.on.get(key) ?? program.fallback, input)
      if (isPromise(step)) return step.then((s) => (s ? run(s, input) : NOTHING))
      return step ? run(step, input) : NOTHING
    },
    onEnd() {
      return program.end ? then(runIf(program.end), (r) => r.text + sentinel) : sentinel
    },
    onError(err, frame) {
      const tail = frames(frame, true) + sentinel
      if (!program.error) return tail
      bindings.error = errorInput(err, true)
      try {
        const r = runIf(program.error)
        // whatever happens in the error step, the error frame still goes out
        return isPromise(r) ? r.then((x) => x.text + tail, () => tail) : r.text + tail
      } catch {
        return tail
      }
    },
  }
}

/** The tokens `usage` finds in a client reply or chunk: a non-negative number, else undefined. */
export function tokensIn(usage: PlacedExpr, reply: unknown, rule: string): number | undefined {
  try {
    const n = evaluateNow(usage, reply, {}, rule)
    return typeof n === 'number' && Number.isFinite(n) && n >= 0 ? Math.round(n) : undefined
  } catch {
    return undefined
  }
}

interface Envelope {
  fields: Record<string, unknown>
  encode(item: Record<string, unknown>): string
}

/**
 * The envelope serialised once (pino's trick): a chunk is the envelope's JSON with the chunk's own fields
 * appended, unless the chunk sets an envelope field or has an index-like key (JSON order would differ).
 */
function envelopeOf(e: Record<string, unknown>): Envelope {
  const keys = new Set(Object.keys(e))
  const open = JSON.stringify(e).slice(0, -1)
  const sep = keys.size ? ',' : ''
  return {
    fields: e,
    encode(item) {
      for (const k of Object.keys(item)) if (keys.has(k) || INDEX_LIKE.test(k)) return encodeJson({ ...e, ...item })
      const body = JSON.stringify(item)
      return `data: ${open}${body.length === 2 ? '' : sep + body.slice(1, -1)}}\n\n`
    },
  }
}

const INDEX_LIKE = /^(?:0|[1-9]\d*)$/

/** `event: <name>` for a frame whose event field is a string; a line break cannot end the line early. */
function eventLine(name: unknown): string {
  if (typeof name !== 'string') return ''
  const safe = name.replace(/[\r\n]/g, '')
  return safe === '' ? '' : `event: ${safe}\n`
}

/** `[DONE]`-like sentinels: a bracketed word, not a JSON array. */
const SENTINEL = /^\[[A-Za-z_]+\]$/

function parseData(data: string, rule: string, upstream: string | undefined): unknown {
  const c = data.charCodeAt(0)
  // Only text that can be JSON is parsed; sentinels (a bracketed word) stay strings.
  if (c === 123 || c === 91 || c === 34 || (c >= 48 && c <= 57) || c === 45 || data === 'true' || data === 'false' || data === 'null') {
    if (c === 91 && SENTINEL.test(data)) return data
    try { return JSON.parse(data) } catch (err) {
      // An object or array cut short or garbled is a broken stream, not text to pass on silently.
      if (c === 123 || c === 91) throw malformed(`event data is not valid JSON (${(err as Error).message})`, rule, upstream)
      return data
    }
  }
  return data
}

/** A stream the engine cannot read: a 502 before the first frame, an error frame after it. */
export function malformed(what: string, rule: string, upstream: string | undefined): RouteError {
  return new RouteError('RE_UPSTREAM_STREAM', `malformed stream${upstream ? ` from upstream '${upstream}'` : ''}: ${what} (rule '${rule}')`, { rule, upstream })
}

function truthy(v: unknown): boolean {
  if (Array.isArray(v)) return v.length > 0 && v.some(truthy)
  return v !== undefined && v !== null && v !== false && v !== '' && v !== 0
}

/** A `fail` value ({message, status?, type?, param?, code?} or a string) → the error it stands for. */
export function failure(v: unknown, rule: string, fallback: 'RE_RULE_FAILED' | 'RE_UPSTREAM_STREAM' = 'RE_UPSTREAM_STREAM', upstream?: string): RouteError {
  const o = isPlainObject(v) ? v : { message: String(v) }
  const message = typeof o.message === 'string' ? o.message : JSON.stringify(o)
  const status = typeof o.status === 'number' ? o.status : undefined
  const code = status === undefined ? fallback : status < 500 ? 'RE_RULE_FAILED' : 'RE_UPSTREAM_STREAM'
  return new RouteError(code, message, {
    rule,
    upstream,
    status,
    type: typeof o.type === 'string' ? o.type : undefined,
    param: typeof o.param === 'string' ? o.param : undefined,
    clientCode: typeof o.code === 'string' ? o.code : undefined,
  })
}

export { truthy }
