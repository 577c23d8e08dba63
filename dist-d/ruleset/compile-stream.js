export function compileStream(program, base, exprAt) {
    const step = (s, path) => {
        const o = (s ?? {});
        const e = (k) => (o[k] === undefined ? null : exprAt([...path, k], o[k]));
        return { when: e('when'), state: e('state'), emit: e('emit'), do: e('do'), fail: e('fail'), stop: o.stop === true };
    };
    const steps = (v, path) => Array.isArray(v) ? v.map((s, i) => step(s, [...path, i])) : [step(v, path)];
    const on = new Map();
    let fallback = [];
    for (const [key, v] of Object.entries((program.on ?? {}))) {
        const compiled = steps(v, [...base, 'on', key]);
        if (key === '*')
            fallback = compiled;
        else
            on.set(key, compiled);
    }
    return {
        initialState: (program.state ?? {}),
        envelope: program.envelope === undefined ? null : exprAt([...base, 'envelope'], program.envelope),
        done: typeof program.done === 'string' ? program.done : null,
        keepaliveMs: typeof program.keepalive === 'number' ? program.keepalive : null,
        on,
        fallback,
        end: program.end === undefined ? null : step(program.end, [...base, 'end']),
        error: program.error === undefined ? null : step(program.error, [...base, 'error']),
    };
}
//# sourceMappingURL=compile-stream.js.map