// route-engine explain: one request through the real pipeline, offline, told step by step: the rules
// tried and the first condition each failed, the body after every request step, the upstream call
// (credentials masked) and, given a recorded upstream reply, exactly what the client receives.
import { readFile } from 'node:fs/promises';
import { loadExample, replyFromFile } from '../examples/load.js';
import { Runner } from '../examples/run.js';
import { loadRuleset } from '../ruleset/compile.js';
import { formatProblem, ProblemList } from '../ruleset/problems.js';
export async function explain(f) {
    const err = (s) => { process.stderr.write(s + '\n'); return 1; };
    const input = await readInput(f);
    if (typeof input === 'string')
        return err(input);
    const loaded = await loadRuleset(f.rules);
    if (!loaded.ruleset)
        return err(loaded.problems.errors.map((p) => formatProblem(p)).join('\n'));
    const runner = await Runner.start(loaded);
    let r;
    try {
        r = await runner.run(input.request, input.reply);
    }
    finally {
        await runner.close();
    }
    const upstreams = loaded.ruleset.upstreams;
    const notes = r.upstream && r.unconfigured.includes(r.upstream.name)
        ? [`upstream '${r.upstream.name}' has no base URL (set ${upstreams.get(r.upstream.name).baseVars.join(' or ') || 'its base'}): serve would answer RE_UPSTREAM_UNCONFIGURED; shown as if it had one`]
        : [];
    if (f.format === 'json') {
        process.stdout.write(JSON.stringify(toJson(input.request, r, notes), null, 2) + '\n');
    }
    else {
        process.stdout.write(render(input.request, r, notes, input.reply !== undefined));
    }
    return 0;
}
async function readInput(f) {
    let request;
    let reply;
    if (/\.ya?ml$/.test(f.file)) {
        const problems = new ProblemList();
        const ex = await loadExample(f.file, problems);
        if (!ex)
            return problems.items.map((p) => formatProblem(p)).join('\n') || `${f.file}: not an example`;
        request = ex.request;
        reply = ex.reply;
    }
    else {
        if (!f.route)
            return 'explain: give --route PATH for a JSON body (or pass an example .yaml file)';
        let body;
        try {
            body = await readFile(f.file, 'utf8');
        }
        catch (e) {
            return `cannot read ${f.file}: ${e.message}`;
        }
        try {
            JSON.parse(body);
        }
        catch (e) {
            return `${f.file} is not JSON: ${e.message}`;
        }
        request = { method: 'POST', path: f.route, headers: { 'content-type': 'application/json' }, body };
    }
    if (f.route)
        request.path = f.route;
    if (f.method)
        request.method = f.method.toUpperCase();
    for (const h of f.headers) {
        const i = h.indexOf(':');
        if (i > 0)
            request.headers[h.slice(0, i).trim().toLowerCase()] = h.slice(i + 1).trim();
    }
    if (f.upstreamReply) {
        try {
            reply = await replyFromFile(f.upstreamReply, f.upstreamStatus);
        }
        catch (e) {
            return `cannot read ${f.upstreamReply}: ${e.message}`;
        }
    }
    return { request, reply };
}
function toJson(req, r, notes) {
    return {
        request: { method: req.method, path: req.path },
        rule: r.rule ? { name: r.rule.name, at: r.rule.at } : null,
        rules: r.checks.map((c) => ({ name: c.name, at: c.at, matched: !c.failed, failed: c.failed ?? null })),
        steps: r.steps.map((s) => ({ n: s.n, step: s.label, at: s.at, ran: s.ran, body: s.ran && s.n !== null ? s.out : undefined })),
        upstream: r.upstream ?? null,
        client: r.client,
        error: r.error ?? null,
        notes,
    };
}
const at = (p) => `${p.file}:${p.line}:${p.col}`;
const indent = (text, n) => text.split('\n').map((l) => ' '.repeat(n) + l).join('\n');
const pretty = (v) => (v === undefined ? '(no body)' : JSON.stringify(v, null, 2));
function render(req, r, notes, hasReply) {
    const out = [];
    const model = r.request?.model;
    out.push(`${req.method} ${req.path}${typeof model === 'string' ? `  (model ${model})` : ''}`, '', 'Rules, in order');
    const width = Math.max(...r.checks.map((c) => c.name.length), 4);
    for (const c of r.checks) {
        out.push(`  ${c.failed ? '✗' : '✓'} ${c.name.padEnd(width)}  ${at(c.at)}  ${c.failed ? `${c.failed.condition}: ${c.failed.detail}` : 'matched'}`);
    }
    if (!r.rule)
        out.push('  no rule matched');
    if (r.steps.length) {
        out.push('', `Request steps (rule ${r.rule.name})`);
        for (const s of r.steps) {
            if (s.n === null) {
                if (!s.ran)
                    out.push(`     ${s.label}: skipped (its when does not hold)`);
                continue;
            }
            out.push(`  ${String(s.n).padStart(2)}. ${s.label}${s.ran ? '' : '  skipped (its when does not hold)'}`);
            if (s.ran)
                out.push(indent(pretty(s.out), 6));
        }
    }
    if (r.upstream) {
        const u = r.upstream;
        out.push('', `Upstream request (${u.name})`, `  ${u.method} ${u.url}`);
        for (const [k, v] of Object.entries(u.headers))
            out.push(`  ${k}: ${v}`);
        out.push(indent(pretty(u.body), 2));
    }
    for (const n of notes)
        out.push('', `note: ${n}`);
    if (r.error && !(r.error.code === 'RE_UPSTREAM_UNREACHABLE' && !hasReply))
        out.push('', `Error ${r.error.code}: ${r.error.message}`);
    if (hasReply || !r.upstream) {
        out.push('', 'Client reply', `  ${r.client.status} ${r.client.headers['content-type'] ?? ''}`, indent(r.client.text.trimEnd(), 2));
    }
    else {
        out.push('', 'Client reply: give --upstream-reply FILE (a .sse transcript or a JSON body) to see it');
    }
    return out.join('\n') + '\n';
}
//# sourceMappingURL=explain.js.map