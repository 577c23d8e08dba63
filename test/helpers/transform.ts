// Runs one transform file the way the engine does (same compiler, limits, functions and store),
// for tests of rules/transforms without a server.
import { readFileSync } from 'node:fs'
import { compileExpr, isExpr, type Expr } from '../../engine/expr/compile.js'
import { upstreamError } from '../../engine/pipeline/transform-response.js'
import { writeError } from '../../engine/pipeline/write-error.js'
import { MemoryStore } from '../../engine/store/memory.js'
import type { Store } from '../../engine/store/store.js'
import type { PlacedExpr } from '../../engine/ruleset/ruleset.js'

const cache = new Map<string, Expr>()

export function loadTransform(path: string): Expr {
  let e = cache.get(path)
  if (e) return e
  const compiled = compileExpr(readFileSync(path, 'utf8'))
  if (!isExpr(compiled)) throw new Error(`${path}: ${compiled.map((x) => `${x.code} at ${x.offset}: ${x.message}`).join('; ')}`)
  cache.set(path, compiled)
  return compiled
}

/** A transform file as the engine holds one (errors placed in the file). */
export function placedTransform(path: string): PlacedExpr {
  return { expr: loadTransform(path), at: { file: path, line: 1, col: 1 } }
}

export interface RunOptions {
  request?: unknown
  ctx?: Record<string, unknown>
  vars?: Record<string, unknown>
  store?: Store
}

export function storeBindings(store: Store): Record<string, unknown> {
  return {
    recall: (key: string) => store.get(String(key)),
    remember: async (key: string, value: unknown, ttl?: number) => { await store.set(String(key), value, ttl); return value },
  }
}

function bindingsFor(input: unknown, opts: RunOptions): Record<string, unknown> {
  return {
    request: opts.request ?? input,
    ctx: { id: 'test0000', created: 1767225600, model: (input as any)?.model, path: '/v1/chat/completions', method: 'POST', ...opts.ctx },
    vars: opts.vars ?? {},
    models: [],
    ...storeBindings(opts.store ?? new MemoryStore()),
  }
}

export async function runTransform(path: string, input: unknown, opts: RunOptions = {}): Promise<any> {
  return loadTransform(path).evaluate(input, bindingsFor(input, opts))
}

/**
 * An upstream's error answer {status, body, headers} as a route answers it: through its `response.error`
 * transform, then its error writer. {status, body}, and `headers` when there are any.
 */
export async function runErrorReply(errorTransform: string, writer: string, answer: { status: number; body?: unknown; headers: Record<string, string> }, opts: RunOptions = {}): Promise<any> {
  const bindings = bindingsFor(answer, opts)
  const ctx = bindings.ctx as { rule?: string; upstream?: string }
  const err = await upstreamError({ body: null, stream: null, error: placedTransform(errorTransform) }, ctx.rule ?? 'test', ctx.upstream ?? 'test', answer as { status: number; body: unknown; headers: Record<string, string> }, bindings)
  const r = await writeError({ writer: placedTransform(writer), bindings }, err, false)
  return Object.keys(r.headers).length ? r : { status: r.status, body: r.body }
}
