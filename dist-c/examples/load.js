// Rule examples: YAML files under <rules dir>/examples/ (schemas/example.schema.json), each a client
// request, an optional recorded upstream reply, and expectations. Problems are collected with
// file:line:col like any rule file's.
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { nodeAt, parseYaml, placeOf } from '../ruleset/read.js';
import { validateSource } from '../ruleset/validate.js';
export const EXAMPLES_DIR = 'examples';
/** Every example under `<rulesDir>/examples/`, in path order; none when the folder is missing. */
export async function loadExamples(rulesDir, problems) {
    const root = join(resolve(rulesDir), EXAMPLES_DIR);
    let files;
    try {
        files = (await readdir(root, { recursive: true })).filter((f) => /\.ya?ml$/.test(f)).map((f) => join(root, f)).sort();
    }
    catch {
        return [];
    }
    const out = [];
    for (const f of files) {
        const e = await loadExample(f, problems, root);
        if (e)
            out.push(e);
    }
    return out;
}
export async function loadExample(file, problems, root = dirname(file)) {
    const src = parseYaml(file, await readFile(file, 'utf8'), problems);
    if (!src || !validateSource(src, 'example', problems))
        return null;
    const d = src.data;
    const read = async (key, name) => {
        try {
            return await readFile(resolve(dirname(file), name), 'utf8');
        }
        catch (err) {
            problems.error(placeOf(src, nodeAt(src.doc, key)), 'RE_MISSING_FILE', `cannot read ${name}: ${err.code ?? err.message}`);
            return null;
        }
    };
    const r = d.request;
    const body = r.bodyFile !== undefined ? await read(['request', 'bodyFile'], r.bodyFile) : r.body === undefined ? undefined : JSON.stringify(r.body);
    if (body === null)
        return null;
    const headers = { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...lowerKeys(r.headers ?? {}) };
    let reply;
    const u = d.upstreamReply;
    if (u) {
        const text = u.file !== undefined ? await read(['upstreamReply', 'file'], u.file) : u.text !== undefined ? u.text : JSON.stringify(u.body);
        if (text === null)
            return null;
        const sse = u.text !== undefined || /\.sse$/.test(u.file ?? '');
        reply = { status: u.status ?? 200, headers: { 'content-type': sse ? 'text/event-stream' : 'application/json', ...lowerKeys(u.headers ?? {}) }, body: text };
    }
    return {
        file,
        id: relative(root, file).replace(/\.ya?ml$/, '').split('\\').join('/'),
        src,
        description: d.description,
        request: { method: r.method ?? 'POST', path: r.path, headers, body },
        reply,
        expect: d.expect,
    };
}
/** A recorded reply from a file: a .sse transcript, or a JSON body. */
export async function replyFromFile(path, status = 200) {
    const body = await readFile(path, 'utf8');
    return { status, headers: { 'content-type': /\.sse$/.test(path) ? 'text/event-stream' : 'application/json' }, body };
}
const lowerKeys = (h) => Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), String(v)]));
//# sourceMappingURL=load.js.map