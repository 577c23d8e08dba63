// Runs one transform file the way the engine does (same compiler, limits, functions and store),
// for tests of rules/transforms without a server.
import { readFileSync } from 'node:fs'
import { compileExpr, isExpr, type Expr } from '../../engine/expr/compile.js'
import { MemoryStore } from '../../engine/store/memory.js'
import type { Store } from '../../engine/store/store.js'

const cache = new Map<string, Expr>()

export function loadTransform(path: string): Expr {
  let e = cache.get(path)
  if (e) return e
  const compiled = compileExpr(readFileSync(path, 'utf8'))
  if (!isExpr(compiled)) throw new Error(`${path}: ${compiled.map((x) => `${x.code} at ${x.offset}: ${x.message}`).join('; ')}`)
  cache.set(path, compiled)
  return compiled
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

export async function runTransform(path: string, input: unknown, opts: RunOptions = {}): Promise<any> {
  const store = opts.store ?? new MemoryStore()
  return loadTransform(path).evaluate(input, {
    request: opts.request ?? input,
    ctx: { id: 'test0000', created: 1767225600, model: (input as any)?.model, path: '/v1/chat/completions', method: 'POST', ...opts.ctx },
    vars: opts.vars ?? {},
    models: [],
    ...storeBindings(store),
  })
}
