// An example's expectations against a run, each mismatch with what to blame: the rule that matched
// instead (and why the expected one did not), the request step that last changed a field of the
// upstream body, or the response transform that wrote the client's output.
import { isDeepStrictEqual } from 'node:util';
import { compileExpr, isExpr } from '../expr/compile.js';
import { ABSENT, compare, valueAt } from './partial.js';
export async function check(ex, r) {
    const e = ex.expect;
    const out = [];
    if (e.rule !== undefined && e.rule !== r.rule?.name) {
        const miss = r.checks.find((c) => c.name === e.rule);
        out.push({
            path: ['rule'], expected: e.rule, actual: r.rule?.name ?? ABSENT,
            blame: miss?.failed ? `${e.rule} (${at(miss.at)}) did not match: ${miss.failed.condition}: ${miss.failed.detail}`
                : miss || !r.rule ? undefined : `${r.rule.name} (${at(r.rule.at)}) comes first and matched`,
        });
    }
    // Without a recorded reply the upstream call fails by design: that error is not the example's.
    const error = r.error && !(ex.reply === undefined && r.error.code === 'RE_UPSTREAM_UNREACHABLE') ? r.error : undefined;
    if (e.error !== undefined ? e.error !== r.error?.code : error) {
        out.push({ path: ['error'], expected: e.error ?? ABSENT, actual: error ? `${error.code}: ${error.message}` : ABSENT });
    }
    if (e.upstream) {
        for (const m of compare(e.upstream, r.upstream ?? ABSENT, ['upstream']))
            out.push({ ...m, blame: blameStep(m, r) });
    }
    if (e.client) {
        const blame = r.rule ? responseFile(r.rule, r.client.frames !== undefined) : undefined;
        for (const m of compare(e.client, clientView(r), ['client']))
            out.push({ ...m, blame });
    }
    for (const [source, want] of Object.entries(e.values ?? {})) {
        const path = ['values', source];
        const expr = compileExpr(source);
        if (!isExpr(expr)) {
            out.push({ path, expected: want, actual: ABSENT, note: `not JSONata: ${expr[0].message}` });
            continue;
        }
        let got;
        try {
            got = await expr.evaluate({ rule: r.rule?.name, request: r.request, upstream: r.upstream, client: clientView(r) }, {});
        }
        catch (err) {
            out.push({ path, expected: want, actual: ABSENT, note: `failed: ${err.message}` });
            continue;
        }
        out.push(...compare(want, got === undefined ? ABSENT : normalise(got), path));
    }
    return out;
}
const clientView = (r) => ({ status: r.client.status, headers: r.client.headers, body: r.client.body, frames: r.client.frames, text: r.client.text });
/** JSONata returns arrays with extra properties (sequences): plain JSON compares as written. */
const normalise = (v) => JSON.parse(JSON.stringify(v));
const at = (p) => `${p.file}:${p.line}:${p.col}`;
/** The request step after which the mismatched upstream body field last changed. */
function blameStep(m, r) {
    if (m.path[1] !== 'body' || !r.rule)
        return r.rule ? `rule ${r.rule.name} (${at(r.rule.at)})` : undefined;
    const field = m.path.slice(2);
    let before = valueAt(r.request, field);
    let last;
    for (const s of r.steps) {
        if (!s.ran || s.n === null)
            continue;
        const now = valueAt(s.out, field);
        if (!isDeepStrictEqual(now, before))
            last = `step ${s.n} ${s.label}`;
        before = now;
    }
    return last ? `${last} (rule ${r.rule.name})` : `unchanged from the client's body by every step of rule ${r.rule.name}`;
}
function responseFile(rule, stream) {
    const p = stream ? rule.response.stream : null;
    const file = p ? programFile(p) : rule.response.body?.at.file;
    return `rule ${rule.name} (${at(rule.at)})${file ? `, ${stream ? 'stream program' : 'response.body'} ${file}` : ''}`;
}
function programFile(p) {
    return (p.envelope ?? [...p.on.values()].flat().map((s) => s.emit ?? s.do ?? s.state).find(Boolean))?.at.file;
}
//# sourceMappingURL=check.js.map