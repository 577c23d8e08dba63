// Rule files and stream programs against the JSON Schemas in schemas/ (the same ones editors use),
// each problem placed at its YAML node.
import { readFileSync } from 'node:fs'
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv'
import { keyNodeAt, nodeAt, placeOf, type YamlPath, type YamlSource } from './read.js'
import type { ProblemList } from './problems.js'
import type { Place } from '../errors.js'

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
  return schemaErrors(src, kind, problems, base).length === 0
}

/** Validates like validateSource and returns the path of every problem reported (none when valid). */
export function schemaErrors(src: YamlSource, kind: Kind, problems: ProblemList, base: YamlPath = []): YamlPath[] {
  const v = load()[kind]
  let data: unknown = src.data
  for (const k of base) data = (data as any)?.[k]
  if (v(data)) return []
  // One problem per place and message: a value shared through a YAML anchor is reported once, with
  // every path that reaches it.
  const byPlace = new Map<string, { place: Place; message: string; pointers: string[] }>()
  const paths: YamlPath[] = []
  for (const [instancePath, errs] of relevant(v.errors ?? [])) {
    const path = [...base, ...toPath(instancePath)]
    paths.push(path)
    for (const { message, extra } of messages(errs)) {
      const place = placeOf(src, extra ? keyNodeAt(src.doc, path, extra) : nodeAt(src.doc, path))
      const key = `${place.line}:${place.col}|${message}`
      const seen = byPlace.get(key)
      if (seen) seen.pointers.push(pointer(path))
      else byPlace.set(key, { place, message, pointers: [pointer(path)] })
    }
  }
  for (const { place, message, pointers } of byPlace.values()) {
    const also = pointers.length > 1 ? ` (also ${pointers.slice(1).join(', ')})` : ''
    problems.error(place, 'RE_SCHEMA', `${pointers[0]}${message}${also}`)
  }
  return paths
}

/** The errors that say most, by instance path: no anyOf/oneOf summaries, no errors of branches that did not apply. */
function relevant(errors: ErrorObject[]): Map<string, ErrorObject[]> {
  const deepest = new Map<string, ErrorObject[]>()
  for (const e of errors) {
    if (e.keyword === 'anyOf' || e.keyword === 'oneOf' || e.keyword === 'if') continue
    const list = deepest.get(e.instancePath) ?? []
    list.push(e)
    deepest.set(e.instancePath, list)
  }
  const paths = [...deepest.keys()]
  // A type error on a parent is noise when a branch got further into the value.
  const out = new Map(paths.filter((p) => !paths.some((q) => q !== p && q.startsWith(p + '/')) || !deepest.get(p)!.every((e) => e.keyword === 'type')).map((p) => [p, deepest.get(p)!]))
  if (out.size === 0 && errors[0]) out.set(errors[0].instancePath, [errors[0]])
  return out
}

/**
 * The messages for one place. The alternatives of a oneOf (each a type or an enum) make one message,
 * "must be one of "GET", "POST" or an array", not one per branch.
 */
function messages(errs: ErrorObject[]): { message: string; extra: string | null }[] {
  const alts = errs.filter((e) => e.keyword === 'type' || e.keyword === 'enum')
  const out = new Map<string, string | null>()
  if (alts.length > 1) {
    const allowed = alts.filter((e) => e.keyword === 'enum').map((e) => (e.params as { allowedValues: unknown[] }).allowedValues)
    const covered = new Set<string>(allowed.flat().map((v) => typeof v))
    const types = [...new Set(alts.filter((e) => e.keyword === 'type').map((e) => String((e.params as { type: unknown }).type)))].filter((t) => !covered.has(t))
    const said = [...allowed.map((vs) => `one of ${vs.map((v) => JSON.stringify(v)).join(', ')}`), ...types.map((t) => `${/^[aeiou]/.test(t) ? 'an' : 'a'} ${t}`)]
    out.set(` must be ${said.join(' or ')}`, null)
  }
  for (const e of errs) {
    if (alts.length > 1 && alts.includes(e)) continue
    out.set(describe(e), e.keyword === 'additionalProperties' ? String((e.params as { additionalProperty: string }).additionalProperty) : null)
  }
  return [...out].map(([message, extra]) => ({ message, extra }))
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
