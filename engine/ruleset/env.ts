// ${VAR} and ${VAR:-default} in rule values, read once when the rules load.

export interface EnvRef {
  name: string
  set: boolean
}

const REF = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g

export function expandEnv(s: string, env: NodeJS.ProcessEnv = process.env): { value: string; refs: EnvRef[] } {
  const refs: EnvRef[] = []
  const value = s.replace(REF, (_, name: string, fallback: string | undefined) => {
    const v = env[name]
    const set = v !== undefined && v !== ''
    refs.push({ name, set: set || fallback !== undefined })
    return set ? v! : (fallback ?? '')
  })
  return { value, refs }
}

/** Expands every string inside a JSON-like value, reporting each reference. */
export function expandEnvDeep(v: unknown, onRef: (ref: EnvRef, path: (string | number)[]) => void, path: (string | number)[] = []): unknown {
  if (typeof v === 'string') {
    const { value, refs } = expandEnv(v)
    for (const r of refs) onRef(r, path)
    return value
  }
  if (Array.isArray(v)) return v.map((x, i) => expandEnvDeep(x, onRef, [...path, i]))
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {}
    for (const [k, x] of Object.entries(v)) out[k] = expandEnvDeep(x, onRef, [...path, k])
    return out
  }
  return v
}
