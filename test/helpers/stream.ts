// Runs a stream program file over an SSE transcript exactly as the engine does (same decoder,
// same runtime), cutting the bytes into network chunks at the given offsets.
import { copyFileSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { compileStreamFile } from '../../engine/ruleset/compile.js'
import { formatProblem } from '../../engine/ruleset/problems.js'
import type { StreamProgram } from '../../engine/ruleset/ruleset.js'
import { RouteError } from '../../engine/errors.js'
import { createSseDecoder, type SseEvent } from '../../engine/sse/decode.js'
import { transformStream } from '../../engine/pipeline/transform-stream.js'
import { MemoryStore } from '../../engine/store/memory.js'
import { writeError, type ErrorOut } from '../../engine/pipeline/write-error.js'
import { placedTransform, storeBindings, type RunOptions } from './transform.js'

const programs = new Map<string, StreamProgram>()

export function loadStreamProgram(path: string): StreamProgram {
  const abs = resolve(path)
  let p = programs.get(abs)
  if (p) return p
  const { program, problems } = compileStreamFile(abs, readFileSync(abs, 'utf8'))
  if (!program) throw new Error(problems.items.map((x) => formatProblem(x)).join('\n'))
  programs.set(abs, program)
  return program
}

export interface StreamResult {
  /** Each data frame written: parsed JSON, or the raw string (e.g. "[DONE]"). */
  frames: any[]
  /** Everything written, as the client would read it. */
  text: string
  /** Set when the program failed before writing anything: the engine answers with an HTTP error. */
  httpError?: { status: number; body: unknown }
}

/** Writes errors as the shipped Chat routes do (rules/30-chat.yaml `errors:`). */
export const CHAT_WRITER = fileURLToPath(new URL('../../rules/transforms/errors/chat.jsonata', import.meta.url))

/** The Chat error writer into a test's rules folder, as `chat-errors.jsonata` (rules name it in `errors:`). */
export function copyChatWriter(dir: string): void {
  copyFileSync(CHAT_WRITER, join(dir, 'chat-errors.jsonata'))
}

/** `writer`: the error writer file that writes failures, as a route's `errors:` would (default: the Chat writer; null: none, the neutral body). */
export async function runStream(programPath: string, sse: string | Uint8Array, opts: RunOptions & { split?: number[]; writer?: string | null } = {}): Promise<StreamResult> {
  const program = loadStreamProgram(programPath)
  const bytes = typeof sse === 'string' ? new TextEncoder().encode(sse) : sse
  const store = opts.store ?? new MemoryStore()
  const request = (opts.request ?? {}) as Record<string, unknown>
  const bindings = {
    request,
    ctx: { id: 'test0000', created: 1767225600, model: request.model ?? 'test-model', path: '/v1/chat/completions', method: 'POST', rule: 'test', upstream: 'test', ...opts.ctx },
    vars: opts.vars ?? {},
    models: [],
    ...storeBindings(store),
  }
  const run = transformStream(program, bindings, 'test')
  const writer = opts.writer === undefined ? CHAT_WRITER : opts.writer
  const errors: ErrorOut = { writer: writer ? placedTransform(writer) : null, bindings }
  const events: SseEvent[] = []
  const decoder = createSseDecoder((ev) => events.push(ev))
  let text = ''
  let stopped = false
  const drain = async () => {
    while (events.length && !stopped) {
      const r = await run.onEvent(events.shift()!)
      text += r.text
      stopped = r.stop
    }
  }
  try {
    const cuts = [...new Set([0, ...(opts.split ?? []).filter((n) => n > 0 && n < bytes.length), bytes.length])].sort((a, b) => a - b)
    for (let i = 0; i + 1 < cuts.length && !stopped; i++) {
      decoder.push(bytes.subarray(cuts[i], cuts[i + 1]))
      await drain()
    }
    if (!stopped) { decoder.end(); await drain() }
    text += await run.onEnd()
  } catch (err) {
    const e = err instanceof RouteError ? err : new RouteError('RE_INTERNAL', String(err))
    if (text === '') {
      const r = await writeError(errors, e, false)
      return { frames: [], text: '', httpError: { status: r.status, body: r.body } }
    }
    text += await run.onError(e, (await writeError(errors, e, true)).body)
  }
  const frames = text.split('\n\n').filter((f) => f.startsWith('data: ')).map((f) => {
    const d = f.slice(6)
    try { return JSON.parse(d) } catch { return d }
  })
  return { frames, text }
}

/** Offsets every `step` bytes, for split tests. */
export const every = (step: number, length: number): number[] => Array.from({ length: Math.floor(length / step) }, (_, i) => (i + 1) * step)
