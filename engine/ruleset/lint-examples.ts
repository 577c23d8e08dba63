// Lint checks that need a rule's examples run through the pipeline:
//   - outputs: the JSON Schemas a rule declares for what it writes (`outputs: {request, body, stream}`),
//     checked against the upstream body, the client's JSON body and each JSON frame of a stream;
//   - dropped fields: a value of the client's body that reaches the upstream body nowhere, unless
//     the rule declares the field in `drops:` (path → why);
//   - examples that expect a rule that does not exist.
import { readFile } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import { Ajv, type ValidateFunction } from 'ajv'
import type { Example } from '../examples/load.js'
import type { Runner, RunResult } from '../examples/run.js'
import { nodeAt, placeOf, type YamlPath } from './read.js'
import type { ProblemList } from './problems.js'
import type { RuleSpec } from './rule-specs.js'

type Kind = 'request' | 'body' | 'stream'
const WHAT: Record<Kind, string> = { request: 'the upstream request body', body: "the client's JSON body", stream: 'a frame of the client stream' }

export async function lintExamples(runner: Runner, examples: Example[], problems: ProblemList): Promise<void> {
  const schemas = new OutputSchemas(problems)
  const reported = new Set<string>()
  for (const ex of examples) {
    const expected = ex.expect.rule
    if (expected !== undefined && !runner.specs.has(expected)) {
      problems.error(placeOf(ex.src, nodeAt(ex.src.doc, ['expect', 'rule'])), 'RE_EXAMPLE', `no rule is named "${expected}"`)
    }
    const r = await runner.run(ex.request, ex.reply)
    const spec = r.rule && runner.specs.get(r.rule.name)
    if (!spec) continue
    await schemas.check(spec, ex, r)
    for (const field of droppedFields(r, spec)) {
      const key = `${spec.name}\0${field}`
      if (reported.has(key)) continue
      reported.add(key)
      const at = spec.raw.drops ? [...spec.path, 'drops'] : [...spec.path, 'request']
      problems.error(placeOf(spec.src, nodeAt(spec.src.doc, at)), 'RE_DROPPED_FIELD',
        `rule "${spec.name}" drops ${field} of the client's body (example ${ex.src.name}): it reaches the upstream request nowhere; if on purpose, list it under drops: with the reason`)
    }
  }
}

class OutputSchemas {
  readonly #ajv = new Ajv({ allErrors: true, strict: false })
  readonly #compiled = new Map<string, ValidateFunction | null>()
  constructor(readonly problems: ProblemList) {}

  async check(spec: RuleSpec, ex: Example, r: RunResult): Promise<void> {
    const outputs = (spec.raw.outputs ?? {}) as Partial<Record<Kind, unknown>>
    for (const kind of ['request', 'body', 'stream'] as const) {
      if (outputs[kind] === undefined) continue
      const path = [...spec.path, 'outputs', kind]
      const validate = await this.#validator(spec, path, outputs[kind])
      if (!validate) continue
      const values = kind === 'request' ? (r.upstream ? [r.upstream.body] : [])
        : kind === 'body' ? (r.client.body !== undefined && r.client.status < 400 ? [r.client.body] : [])
        : (r.client.frames ?? []).filter((f) => typeof f === 'object' && f !== null && !('error' in f))
      for (const [i, v] of values.entries()) {
        if (validate(v)) continue
        const errs = (validate.errors ?? []).slice(0, 3).map((e) => `${e.instancePath || '/'} ${e.message}`).join('; ')
        this.problems.error(placeOf(spec.src, nodeAt(spec.src.doc, path)), 'RE_OUTPUT_SCHEMA',
          `example ${ex.src.name}: ${WHAT[kind]}${kind === 'stream' ? ` (#${i + 1})` : ''} breaks the rule's ${kind} schema: ${errs}`)
        break
      }
    }
  }

  async #validator(spec: RuleSpec, path: YamlPath, schema: unknown): Promise<ValidateFunction | null> {
    const key = typeof schema === 'string' ? resolve(dirname(spec.src.path), schema) : `${spec.src.path}#${path.join('/')}`
    if (this.#compiled.has(key)) return this.#compiled.get(key)!
    let v: ValidateFunction | null = null
    try {
      v = this.#ajv.compile(typeof schema === 'string' ? JSON.parse(await readFile(key, 'utf8')) : (schema as object))
    } catch (err) {
      this.problems.error(placeOf(spec.src, nodeAt(spec.src.doc, path)), 'RE_OUTPUT_SCHEMA', `cannot use this schema: ${(err as Error).message}`)
    }
    this.#compiled.set(key, v)
    return v
  }
}

/** Fields of the client body (`messages[2].content`) whose value the upstream body lacks. */
export function droppedFields(r: RunResult, spec: RuleSpec): string[] {
  // The body after aliasing: an alias name the upstream never sees is not a drop.
  const input = r.request
  if (!r.upstream || input === undefined) return []
  const drops = Object.entries((spec.raw.drops ?? {}) as Record<string, unknown>).map(([path, why]) => ({
    path: path.split('.'),
    match: why && typeof why === 'object' && typeof (why as { match?: unknown }).match === 'string' ? new RegExp((why as { match: string }).match) : null,
  }))
  // The URL and headers carry data too (a model in the path, a version in a header); path values are
  // percent-encoded.
  const out = collect([r.upstream.body, r.upstream.path, decoded(r.upstream.path), Object.values(r.upstream.headers)])
  const missing = new Set<string>()
  for (const { path, value } of leaves(input)) {
    const shape = path.map((k) => (typeof k === 'number' ? '*' : k))
    const dropped = drops.some((d) => d.path.length <= shape.length && d.path.every((s, i) => s === '*' || s === shape[i]) && (!d.match || d.match.test(String(value))))
    if (!dropped && !carried(value, String(path.at(-1)), out)) missing.add(path.map((k) => (typeof k === 'number' ? `[${k}]` : `.${k}`)).join('').slice(1))
  }
  return [...missing]
}

function decoded(path: string): string {
  try { return decodeURIComponent(path) } catch { return path }
}

interface Collected { strings: string[]; scalars: Set<unknown>; keys: Set<string> }

function collect(v: unknown, c: Collected = { strings: [], scalars: new Set(), keys: new Set() }): Collected {
  if (typeof v === 'string') {
    c.strings.push(v.toLowerCase())
    if (/^\s*[{[]/.test(v)) { const parsed = parseJson(v); if (parsed !== undefined) collect(parsed, c) }
  } else if (v !== null && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) { if (!Array.isArray(v)) c.keys.add(k); collect(x, c) }
  } else c.scalars.add(v)
  return c
}

/**
 * A value is carried when it appears in the output: equal, inside a longer text, or (a long text)
 * holding an output text of 16+ characters. Texts compare case-insensitively (enums change case).
 * A boolean says something only under its name: some key of the output must be that name.
 */
function carried(v: unknown, key: string, out: Collected): boolean {
  if (typeof v === 'boolean') return out.keys.has(key)
  if (typeof v !== 'string') return out.scalars.has(v) || out.strings.some((s) => s === String(v)) || out.strings.some((s) => s.includes(JSON.stringify(v)))
  const t = v.toLowerCase()
  return out.strings.some((s) => s.includes(t) || (s.length >= 16 && t.includes(s)))
}

/**
 * The scalar leaves of a value worth carrying; a text holding a JSON object or array (tool arguments)
 * is looked into, since a translation may decode it. `type` and `role` values are skipped: a
 * discriminator names a shape, which translations rename (input_text → text, assistant → model).
 */
function leaves(v: unknown, path: (string | number)[] = [], out: { path: (string | number)[]; value: unknown }[] = []) {
  if (typeof v === 'string' && /^\s*[{[]/.test(v)) {
    const parsed = parseJson(v)
    if (parsed !== undefined) return leaves(parsed, path, out)
  }
  if (Array.isArray(v)) v.forEach((x, i) => leaves(x, [...path, i], out))
  else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) leaves(x, [...path, k], out)
  else if (v !== null && v !== '' && !DISCRIMINATORS.has(String(path.at(-1)))) out.push({ path, value: v })
  return out
}

const DISCRIMINATORS = new Set(['type', 'role'])

function parseJson(s: string): unknown {
  try { return JSON.parse(s) } catch { return undefined }
}
