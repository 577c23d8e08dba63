// JSON Schemas a rule checks client bodies against (`validate:` request steps): compiled once at
// load with one ajv instance; a failure is a client error naming the field.
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
const ajv = new Ajv({ allErrors: false, strict: false });
const byFile = new Map();
/** The validator for a schema file (absolute path) or an inline schema; throws with the reason. */
export function compileSchema(schema) {
    if (typeof schema !== 'string')
        return ajv.compile(schema);
    let v = byFile.get(schema);
    if (!v) {
        v = ajv.compile(JSON.parse(readFileSync(schema, 'utf8')));
        byFile.set(schema, v);
    }
    return v;
}
/** The first problem ajv found, as `/messages/0/content must be string`. */
export function schemaProblem(v) {
    const e = v.errors?.[0];
    if (!e)
        return { path: '/', message: 'is invalid' };
    const extra = e.keyword === 'additionalProperties' ? ` "${e.params.additionalProperty}"` : '';
    return { path: e.instancePath || '/', message: `${e.message ?? 'is invalid'}${extra}` };
}
//# sourceMappingURL=compile-schema.js.map