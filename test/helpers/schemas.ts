// Validators for the official API schemas in ../shared/specs (strict sets). They are not copied into
// the project: when the folder is absent, `specs` is null and schema checks skip with a printed reason.
import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { Ajv2020 } from 'ajv/dist/2020.js'
import type { ValidateFunction } from 'ajv'
import ajvFormats from 'ajv-formats'

const root = fileURLToPath(new URL('../../../shared/specs/', import.meta.url))

export const SPECS_MISSING = existsSync(root) ? null : `../shared/specs not found at ${root}: official-schema checks skipped`

let ajv: Ajv2020 | null = null
const validators = new Map<string, ValidateFunction>()

/** e.g. schema('openai', 'CreateResponse'), schema('anthropic', 'CreateMessageParams'), schema('gemini', 'GenerateContentRequest'). */
export function schema(api: 'openai' | 'anthropic' | 'gemini', name: string): ValidateFunction {
  const key = `${api}/${name}`
  let v = validators.get(key)
  if (v) return v
  if (!ajv) {
    ajv = new Ajv2020({ strict: false, allErrors: true })
    ajvFormats.default(ajv as never)
    for (const f of ['unixtime', 'binary', 'int32', 'int64', 'double', 'float', 'byte']) ajv.addFormat(f, true)
  }
  const dir = api === 'gemini' ? 'schemas' : 'schemas-strict'
  v = ajv.compile(JSON.parse(readFileSync(`${root}${api}/${dir}/${name}.schema.json`, 'utf8')))
  validators.set(key, v)
  return v
}

/** Ajv errors as short readable lines, for assertion messages. */
export function explain(v: ValidateFunction): string {
  return (v.errors ?? []).slice(0, 8).map((e) => `${e.instancePath || '/'} ${e.message} ${JSON.stringify(e.params)}`).join('\n')
}
