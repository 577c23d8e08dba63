export function formatProblem(p, source) {
    let out = `${p.file}:${p.line}:${p.col}: ${p.severity === 'warning' ? 'warning ' : ''}${p.code} ${p.message}`;
    const text = source?.split(/\r?\n/)[p.line - 1];
    if (text !== undefined && text.trim())
        out += `\n    ${text}\n    ${' '.repeat(Math.max(0, p.col - 1))}^`;
    return out;
}
export class ProblemList {
    items = [];
    error(at, code, message) {
        this.items.push({ ...at, code, message, severity: 'error' });
    }
    warn(at, code, message) {
        this.items.push({ ...at, code, message, severity: 'warning' });
    }
    get errors() {
        return this.items.filter((p) => p.severity === 'error');
    }
}
//# sourceMappingURL=problems.js.map