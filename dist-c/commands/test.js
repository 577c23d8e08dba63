// route-engine test: every example under <rules>/examples/ through the real pipeline; a diff per
// failure that names the rule and the step or transform that produced the value.
import { check } from '../examples/check.js';
import { loadExamples } from '../examples/load.js';
import { ABSENT, formatPath } from '../examples/partial.js';
import { Runner } from '../examples/run.js';
import { loadRuleset } from '../ruleset/compile.js';
import { formatProblem, ProblemList } from '../ruleset/problems.js';
import { displayName } from '../ruleset/read.js';
export async function test(dir, f) {
    const out = (s) => process.stdout.write(s + '\n');
    const loaded = await loadRuleset(dir);
    const problems = new ProblemList();
    const examples = (await loadExamples(dir, problems)).filter((e) => !f.filter || e.id.includes(f.filter));
    problems.items.unshift(...loaded.problems.errors);
    if (!loaded.ruleset || problems.errors.length) {
        if (f.format === 'json')
            out(JSON.stringify({ passed: 0, failed: problems.errors.length, problems: problems.errors }, null, 2));
        else
            for (const p of problems.errors)
                out(formatProblem(p));
        return 1;
    }
    if (!examples.length) {
        process.stderr.write(`no examples${f.filter ? ` matching "${f.filter}"` : ''} in ${displayName(dir)}/examples\n`);
        return 1;
    }
    const runner = await Runner.start(loaded);
    const results = [];
    try {
        for (const ex of examples) {
            const r = await runner.run(ex.request, ex.reply);
            const failures = await check(ex, r);
            results.push({ id: ex.id, file: ex.src.name, rule: r.rule?.name, failures });
            if (f.format === 'text')
                out(failures.length ? renderFailure(ex.id, ex.src.name, ex.description, r.rule, failures) : `✓ ${ex.id}`);
        }
    }
    finally {
        await runner.close();
    }
    const covered = new Set(examples.map((e) => e.expect.rule).filter(Boolean));
    const untested = f.filter ? [] : loaded.ruleset.rules.map((r) => r.name).filter((n) => !covered.has(n));
    const failed = results.filter((r) => r.failures.length).length;
    if (f.format === 'json') {
        out(JSON.stringify({ passed: results.length - failed, failed, untested, examples: results.map((r) => ({ ...r, failures: r.failures.map(plain) })) }, null, 2));
    }
    else {
        if (untested.length)
            out(`rules without an example: ${untested.join(', ')}`);
        out(`${results.length - failed} passed, ${failed} failed`);
    }
    return failed ? 1 : 0;
}
export function renderFailure(id, file, description, rule, failures) {
    const lines = [`✗ ${id}  (${file})`];
    if (description)
        lines.push(`    ${description}`);
    lines.push(rule ? `    rule ${rule.name} (${rule.at.file}:${rule.at.line}:${rule.at.col}) matched` : '    no rule matched');
    for (const x of failures) {
        lines.push(`    ${formatPath(x.path)}${x.note ? `: ${x.note}` : ''}`);
        if (x.blame)
            lines.push(`      ← ${x.blame}`);
        const [e, a] = showPair(x.expected, x.actual);
        lines.push(`      - expected ${e}`, `      + actual   ${a}`);
    }
    return lines.join('\n');
}
const plain = (x) => ({ ...x, path: formatPath(x.path), expected: json(x.expected), actual: json(x.actual) });
const json = (v) => (v === ABSENT ? '(absent)' : v);
const MAX = 240;
/** Two values as one-line JSON; two long strings are cut to a window around their first difference. */
function showPair(expected, actual) {
    if (typeof expected === 'string' && typeof actual === 'string' && (expected.length > MAX || actual.length > MAX)) {
        let i = 0;
        while (i < expected.length && expected[i] === actual[i])
            i++;
        const cut = (s) => (i > 40 ? '…' : '') + JSON.stringify(s.slice(Math.max(0, i - 40), i + 80)) + (s.length > i + 80 ? '…' : '');
        return [cut(expected), `${cut(actual)}  (first difference at character ${i})`];
    }
    return [show(expected), show(actual)];
}
function show(v) {
    if (v === ABSENT)
        return '(absent)';
    const s = JSON.stringify(v) ?? String(v);
    return s.length > MAX ? s.slice(0, MAX) + `… (${s.length} characters)` : s;
}
//# sourceMappingURL=test.js.map