// Rule files and stream programs against the JSON Schemas in schemas/ (the same ones editors use),
// each problem placed at its YAML node.
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { keyNodeAt, nodeAt, placeOf } from './read.js';
const schemaDir = new URL('../../schemas/', import.meta.url);
let validators = null;
function load() {
    if (validators)
        return validators;
    const ajv = new Ajv({ allErrors: true, strict: false });
    const stream = JSON.parse(readFileSync(new URL('stream.schema.json', schemaDir), 'utf8'));
    ajv.addSchema(stream, 'stream.schema.json');
    validators = {
        rules: ajv.compile(JSON.parse(readFileSync(new URL('rules.schema.json', schemaDir), 'utf8'))),
        stream: ajv.getSchema('stream.schema.json'),
        example: ajv.compile(JSON.parse(readFileSync(new URL('example.schema.json', schemaDir), 'utf8'))),
    };
    return validators;
}
/** Validates `data` (the whole file, or the value at `base`) and reports problems; true when valid. */
export function validateSource(src, kind, problems, base = []) {
    return schemaErrors(src, kind, problems, base).length === 0;
}
/** Validates like validateSource and returns the path of every problem reported (none when valid). */
export function schemaErrors(src, kind, problems, base = []) {
    const v = load()[kind];
    let data = src.data;
    for (const k of base)
        data = data?.[k];
    if (v(data))
        return [];
    // One problem per place and message: a value shared through a YAML anchor is reported once, with
    // every path that reaches it.
    const byPlace = new Map();
    const paths = [];
    for (const [instancePath, errs] of relevant(v.errors ?? [])) {
        const path = [...base, ...toPath(instancePath)];
        paths.push(path);
        for (const { message, extra } of messages(errs)) {
            const place = placeOf(src, extra ? keyNodeAt(src.doc, path, extra) : nodeAt(src.doc, path));
            const key = `${place.line}:${place.col}|${message}`;
            const seen = byPlace.get(key);
            if (seen)
                seen.pointers.push(pointer(path));
            else
                byPlace.set(key, { place, message, pointers: [pointer(path)] });
        }
    }
    for (const { place, message, pointers } of byPlace.values()) {
        const also = pointers.length > 1 ? ` (also ${pointers.slice(1).join(', ')})` : '';
        problems.error(place, 'RE_SCHEMA', `${pointers[0]}${message}${also}`);
    }
    return paths;
}
/** The errors that say most, by instance path: no anyOf/oneOf summaries, no errors of branches that did not apply. */
function relevant(errors) {
    const deepest = new Map();
    for (const e of errors) {
        if (e.keyword === 'anyOf' || e.keyword === 'oneOf' || e.keyword === 'if')
            continue;
        const list = deepest.get(e.instancePath) ?? [];
        list.push(e);
        deepest.set(e.instancePath, list);
    }
    const paths = [...deepest.keys()];
    // A type error on a parent is noise when a branch got further into the value.
    const out = new Map(paths.filter((p) => !paths.some((q) => q !== p && q.startsWith(p + '/')) || !deepest.get(p).every((e) => e.keyword === 'type')).map((p) => [p, deepest.get(p)]));
    if (out.size === 0 && errors[0])
        out.set(errors[0].instancePath, [errors[0]]);
    return out;
}
/**
 * The messages for one place. The alternatives of a oneOf (each a type or an enum) make one message,
 * "must be one of "GET", "POST" or an array", not one per branch.
 */
function messages(errs) {
    const alts = errs.filter((e) => e.keyword === 'type' || e.keyword === 'enum');
    const out = new Map();
    if (alts.length > 1) {
        const allowed = alts.filter((e) => e.keyword === 'enum').map((e) => e.params.allowedValues);
        const covered = new Set(allowed.flat().map((v) => typeof v));
        const types = [...new Set(alts.filter((e) => e.keyword === 'type').map((e) => String(e.params.type)))].filter((t) => !covered.has(t));
        const said = [...allowed.map((vs) => `one of ${vs.map((v) => JSON.stringify(v)).join(', ')}`), ...types.map((t) => `${/^[aeiou]/.test(t) ? 'an' : 'a'} ${t}`)];
        out.set(` must be ${said.join(' or ')}`, null);
    }
    for (const e of errs) {
        if (alts.length > 1 && alts.includes(e))
            continue;
        out.set(describe(e), e.keyword === 'additionalProperties' ? String(e.params.additionalProperty) : null);
    }
    return [...out].map(([message, extra]) => ({ message, extra }));
}
function describe(e) {
    switch (e.keyword) {
        case 'additionalProperties': return `: unknown property "${e.params.additionalProperty}"`;
        case 'required': return `: missing required property "${e.params.missingProperty}"`;
        case 'enum': return ` must be one of ${e.params.allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
        default: return ` ${e.message ?? 'is invalid'}`;
    }
}
const pointer = (path) => '/' + path.join('/');
function toPath(p) {
    if (p === '')
        return [];
    return p.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~')).map((s) => (/^(0|[1-9]\d*)$/.test(s) ? Number(s) : s));
}
//# sourceMappingURL=validate.js.map