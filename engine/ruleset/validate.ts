// Rule files and stream programs against the JSON Schemas in schemas/ (the same ones editors use),
// each problem placed at its YAML node.
import { readFileSync } from 'node:fs'
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv'
import { keyNodeAt, nodeAt, placeOf, type YamlPath, type YamlSource } from './read.js'
import type { ProblemList } from './problems.js'

const schemaDir = new URL('../../schemas/', import.meta.url)
type Kind = 'rules' | 'stream' | 'example'
let validators: Record<Kind, ValidateFunction> | null = null

function load(): Record<Kind, ValidateFunction> {
  if (validators) return validators
  const ajv = new Ajv({ allErrors: true, strict: false })
  const stream = JSON.parse(readFileSync(new URL('stream.schema.json', schemaDir), 'utf8'))
  ajv.addSchema(stream, 'stream.schema.json')
  validators = {
    rules: ajv.compile(JSON.parse(readFileSync(new URL('rules.schema.json', schemaDir), 'utf8'))),
    stream: ajv.getSchema('stream.schema.json')!,
    example: ajv.compile(JSON.parse(readFileSync(new URL('example.schema.json', schemaDir), 'utf8'))),
  }
  return validators
}

/** Validates `data` (the whole file, or the value at `base`) and reports problems; true when valid. */
export function validateSource(src: YamlSource, kind: Kind, problems: ProblemList, base: YamlPath = []): boolean {
  const v = load()[kind]
  let data: unknown = src.data
  for (const k of base) data = (data as any)?.[k]
  if (v(data)) return true
  for (const e of relevant(v.errors ?? [])) {
    const path = [...base, ...toPath(e.instancePath)]
    const extra = e.keyword === 'additionalProperties' ? String((e.params as { additionalProperty: string }).additionalProperty) : null
    const node = extra ? keyNodeAt(src.doc, path, extra) : nodeAt(src.doc, path)
    problems.error(placeOf(src, node), 'RE_SCHEMA', `${pointer(path)}${describe(e)}`)
  }
  return false
}

/** The errors that say most: for each place, drop anyOf/oneOf summaries and errors of branches that did not apply. */
function relevant(errors: ErrorObject[]): ErrorObject[] {
  const deepest = new Map<string, ErrorObject[]>()
  for (const e of errors) {
    if (e.keyword === 'anyOf' || e.keyword === 'oneOf' || e.keyword === 'if') continue
    const list = deepest.get(e.instancePath) ?? []
    list.push(e)
    deepest.set(e.instancePath, list)
  }
  const paths = [...deepest.keys()]
  // A type error on a parent is noise when a branch got further into the value.
  const out = paths.filter((p) => !paths.some((q) => q !== p && q.startsWith(p + '/')) || !deepest.get(p)!.every((e) => e.keyword === 'type'))
  const seen = new Set<string>()
  const result: ErrorObject[] = []
  for (const p of out) for (const e of deepest.get(p)!) {
    const key = `${p}|${describe(e)}`
    if (!seen.has(key)) { seen.add(key); result.push(e) }
  }
  if (result.length === 0 && errors[0]) result.push(errors[0])
  return result
}

function describe(e: ErrorObject): string {
  switch (e.keyword) {
    case 'additionalProperties': return `: unknown property "${(e.params as { additionalProperty: string }).additionalProperty}"`
    case 'required': return `: missing required property "${(e.params as { missingProperty: string }).missingProperty}"`
    case 'enum': return ` must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`
    default: return ` ${e.message ?? 'is invalid'}`
  }
}

const pointer = (path: YamlPath): string => '/' + path.join('/')

function toPath(p: string): YamlPath {
  if (p === '') return []
  return p.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~')).map((s) => (/^(0|[1-9]\d*)$/.test(s) ? Number(s) : s))
}
