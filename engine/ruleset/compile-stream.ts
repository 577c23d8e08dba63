// A stream program (YAML) → a dispatch table of compiled steps.
import type { YamlPath } from './read.js'
import type { PlacedExpr, StreamProgram, StreamStep } from './ruleset.js'

/** Compiles the expression at a path of the program's source (inline text only: programs hold no file refs). */
export type ExprAt = (path: YamlPath, source: unknown) => PlacedExpr | null

export function compileStream(program: Record<string, unknown>, base: YamlPath, exprAt: ExprAt): StreamProgram {
  const step = (s: unknown, path: YamlPath): StreamStep => {
    const o = (s ?? {}) as Record<string, unknown>
    const e = (k: string) => (o[k] === undefined ? null : exprAt([...path, k], o[k]))
    return { when: e('when'), state: e('state'), emit: e('emit'), do: e('do'), fail: e('fail'), stop: o.stop === true }
  }
  const steps = (v: unknown, path: YamlPath): StreamStep[] =>
    Array.isArray(v) ? v.map((s, i) => step(s, [...path, i])) : [step(v, path)]
  const on = new Map<string, StreamStep[]>()
  let fallback: StreamStep[] = []
  for (const [key, v] of Object.entries((program.on ?? {}) as Record<string, unknown>)) {
    const compiled = steps(v, [...base, 'on', key])
    if (key === '*') fallback = compiled
    else on.set(key, compiled)
  }
  return {
    initialState: (program.state ?? {}) as Record<string, unknown>,
    envelope: program.envelope === undefined ? null : exprAt([...base, 'envelope'], program.envelope),
    event: typeof program.event === 'string' ? program.event : null,
    done: typeof program.done === 'string' ? program.done : null,
    keepaliveMs: typeof program.keepalive === 'number' ? program.keepalive : null,
    on,
    fallback,
    end: program.end === undefined ? null : step(program.end, [...base, 'end']),
    error: program.error === undefined ? null : step(program.error, [...base, 'error']),
  }
}
