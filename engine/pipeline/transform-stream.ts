// Runs a stream program over upstream SSE events: dispatch by event, explicit state, zero or more
// chunks out per event, chunks at the end, and the error path. Returns encoded SSE text; the caller
// owns the socket. The envelope is evaluated once per stream and merged under every chunk.
import { RouteError } from '../errors.js'
import { evaluate } from '../expr/evaluate.js'
import { isPlainObject } from '../expr/functions.js'
import type { SseEvent } from '../sse/decode.js'
import { encodeData, encodeJson } from '../sse/encode.js'
import type { StreamProgram, StreamStep } from '../ruleset/ruleset.js'

export interface StreamRun {
  /** Frames for one upstream event; `stop` when the program wants no more events. */
  onEvent(ev: SseEvent): Promise<{ text: string; stop: boolean }>
  /** Frames for the end of the upstream stream, then the done sentinel. */
  onEnd(): Promise<string>
  /** Frames that tell the client about a failure after the stream started, then the sentinel. */
  onError(err: RouteError): Promise<string>
}

/** `upstream` names where the events come from: a `fail` or malformed data is then that upstream's failure (retry, fallback, metrics). */
export function transformStream(program: StreamProgram, base: Record<string, unknown>, rule: string, upstream?: string): StreamRun {
  const bindings: Record<string, unknown> = { ...base, state: structuredClone(program.initialState) }
  let envelope: Record<string, unknown> | undefined
  let envelopeReady = false

  async function encode(out: unknown): Promise<string> {
    if (out === undefined || out === null) return ''
    if (!envelopeReady) {
      envelopeReady = true
      if (program.envelope) {
        const e = await evaluate(program.envelope, null, bindings, rule)
        envelope = isPlainObject(e) ? e : undefined
      }
    }
    let text = ''
    for (const item of Array.isArray(out) ? out : [out]) {
      if (item === undefined || item === null) continue
      if (typeof item === 'string') text += encodeData(item)
      else text += encodeJson(envelope && isPlainObject(item) ? { ...envelope, ...item } : item)
    }
    return text
  }

  async function pick(steps: readonly StreamStep[], input: unknown): Promise<StreamStep | undefined> {
    for (const s of steps) {
      if (!s.when || truthy(await evaluate(s.when, input, bindings, rule))) return s
    }
    return undefined
  }

  async function run(step: StreamStep, input: unknown): Promise<{ text: string; stop: boolean }> {
    let emit: unknown, state: unknown, fail: unknown
    let stop = step.stop
    if (step.do) {
      const r = await evaluate(step.do, input, bindings, rule)
      if (isPlainObject(r)) ({ emit, state, fail } = r); stop ||= isPlainObject(r) && r.stop === true
    } else {
      if (step.fail) fail = await evaluate(step.fail, input, bindings, rule)
      if (step.emit) emit = await evaluate(step.emit, input, bindings, rule)
      if (step.state) state = await evaluate(step.state, input, bindings, rule)
    }
    if (isPlainObject(state)) bindings.state = { ...(bindings.state as object), ...state }
    if (fail !== undefined && fail !== null && fail !== false) throw failure(fail, rule, 'RE_UPSTREAM_STREAM', upstream)
    return { text: await encode(emit), stop }
  }

  const sentinel = program.done === null ? '' : encodeData(program.done)

  return {
    async onEvent(ev) {
      const input = parseData(ev.data, rule, upstream)
      const key = ev.event || (isPlainObject(input) && typeof input.type === 'string' ? input.type : typeof input === 'string' ? input : 'message')
      const step = await pick(program.on.get(key) ?? program.fallback, input)
      return step ? run(step, input) : { text: '', stop: false }
    },
    async onEnd() {
      const text = program.end ? (await run(program.end, null)).text : ''
      return text + sentinel
    },
    async onError(err) {
      let text = ''
      if (program.error) {
        bindings.error = { message: err.message, type: err.type, code: err.code, status: err.status }
        try { text = (await run(program.error, null)).text } catch { /* the error frame below still goes out */ }
      }
      return text + encodeJson(err.toBody()) + sentinel
    },
  }
}

function parseData(data: string, rule: string, upstream: string | undefined): unknown {
  const c = data.charCodeAt(0)
  // Only text that can be JSON is parsed; sentinels such as [DONE] stay strings.
  if (c === 123 || c === 91 || c === 34 || (c >= 48 && c <= 57) || c === 45 || data === 'true' || data === 'false' || data === 'null') {
    if (c === 91 && data === '[DONE]') return data
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
