// Validators for the official API schemas in test/fixtures/specs/ (copies of the files tests use; their
// provenance is in that folder's README). Two sets, as the specs ship them: `strict` checks what the
// gateway itself writes (requests to upstreams, replies to clients); `wire` accepts what the real APIs
// send and the specs leave out (e.g. Anthropic omits fields the spec marks required), for mock upstreams
// that answer as the real APIs do. Gemini has one hand-written set, used for both.
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { Ajv2020 } from 'ajv/dist/2020.js'
import type { ValidateFunction } from 'ajv'
import ajvFormats from 'ajv-formats'

export type SchemaApi = 'openai' | 'anthropic' | 'gemini'
export type SchemaSet = 'strict' | 'wire'

const root = fileURLToPath(new URL('../fixtures/specs/', import.meta.url))

let ajv: Ajv2020 | null = null
const validators = new Map<string, ValidateFunction>()
const documents = new Map<string, any>()

/** A schema file, parsed: e.g. schemaDocument('anthropic', 'CreateMessageParams'). */
export function schemaDocument(api: SchemaApi, name: string, set: SchemaSet = 'strict'): any {
  const dir = api === 'gemini' || set === 'wire' ? 'schemas' : 'schemas-strict'
  const path = `${root}${api}/${dir}/${name}.schema.json`
  let doc = documents.get(path)
  if (!doc) {
    doc = JSON.parse(readFileSync(path, 'utf8'))
    documents.set(path, doc)
  }
  return doc
}

/** e.g. schema('openai', 'CreateResponse'), schema('anthropic', 'SSEEvent', 'wire'), schema('gemini', 'GenerateContentRequest'). */
export function schema(api: SchemaApi, name: string, set: SchemaSet = 'strict'): ValidateFunction {
  const key = `${api}/${set}/${name}`
  let v = validators.get(key)
  if (v) return v
  if (!ajv) {
    ajv = new Ajv2020({ strict: false, allErrors: true })
    ajvFormats.default(ajv as never)
    for (const f of ['unixtime', 'binary', 'int32', 'int64', 'double', 'float', 'byte']) ajv.addFormat(f, true)
  }
  v = ajv.compile(schemaDocument(api, name, set))
  validators.set(key, v)
  return v
}

/** Ajv errors as short readable lines, for assertion messages. */
export function explain(v: ValidateFunction): string {
  return (v.errors ?? []).slice(0, 8).map((e) => `${e.instancePath || '/'} ${e.message} ${JSON.stringify(e.params)}`).join('\n')
}

const declaredCache = new Map<string, Set<string>>()

/**
 * The property names a strict schema declares for the object at `path` (object keys, '[]' for array
 * items), through $ref and allOf. The OpenAI schemas leave additionalProperties open where the API
 * itself answers 400 "Unrecognized request argument", so tests also check fields against this.
 */
export function declared(api: SchemaApi, name: string, path: string[] = []): Set<string> {
  const key = `${api}/${name}/${path.join('.')}`
  let keys = declaredCache.get(key)
  if (keys) return keys
  const file = schemaDocument(api, name)
  const deref = (x: any): any => {
    while (x?.$ref) x = String(x.$ref).slice(2).split('/').reduce((o: any, k: string) => o?.[k], file)
    return x
  }
  const props = (x: any, out: Map<string, any>): Map<string, any> => {
    x = deref(x)
    for (const [k, v] of Object.entries(x?.properties ?? {})) out.set(k, v)
    for (const y of x?.allOf ?? []) props(y, out)
    return out
  }
  let node: any = file
  for (const step of path) node = step === '[]' ? deref(node)?.items : props(node, new Map()).get(step)
  keys = new Set(props(node, new Map()).keys())
  declaredCache.set(key, keys)
  return keys
}
