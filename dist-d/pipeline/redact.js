const MASK = '[redacted]';
const byRuleset = new WeakMap();
export function redactorFor(ruleset) {
    let r = byRuleset.get(ruleset);
    if (!r) {
        const secrets = [...new Set([...ruleset.upstreams.values()].flatMap((u) => u.secrets))].sort((a, b) => b.length - a.length);
        r = secrets.length ? (text) => (secrets.some((s) => text.includes(s)) ? secrets.reduce((t, s) => t.split(s).join(MASK), text) : text) : (text) => text;
        byRuleset.set(ruleset, r);
    }
    return r;
}
//# sourceMappingURL=redact.js.map