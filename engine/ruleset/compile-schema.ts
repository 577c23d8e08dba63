// JSON Schemas a rule checks client bodies against (`validate:` request steps): compiled once at
// load with one ajv instance; a failure is a client error naming the field.
import { Ajv, type ValidateFunction } from 'ajv'

const ajv = new Ajv({ allErrors: false, strict: false })
const byFile = new Map<string, { text: string; schema: object; v: ValidateFunction }>()

/** The validator for an inline schema; throws with the reason. */
export function compileSchema(schema: object): ValidateFunction {
  return ajv.compile(schema)
}

/** The validator for a schema file's text, compiled again only when the text changed; throws with the reason. */
export function compileSchemaFile(path: string, text: string): ValidateFunction {
  const known = byFile.get(path)
  if (known?.text === text) return known.v
  const schema = JSON.parse(text) as object
  // ajv keeps every schema it compiled by its $id: an edited file with the same $id must replace it.
  if (known) ajv.removeSchema(known.schema)
  const v = ajv.compile(schema)
  byFile.set(path, { text, schema, v })
  return v
}

/** The first problem ajv found, as `/messages/0/content must be string`. */
export function schemaProblem(v: ValidateFunction): { path: string; message: string } {
  const e = v.errors?.[0]
  if (!e) return { path: '/', message: 'is invalid' }
  const extra = e.keyword === 'additionalProperties' ? ` "${(e.params as { additionalProperty: string }).additionalProperty}"` : ''
  return { path: e.instancePath || '/', message: `${e.message ?? 'is invalid'}${extra}` }
}
