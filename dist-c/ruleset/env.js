// ${VAR} and ${VAR:-default} in rule values, read once when the rules load.
const REF = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;
export function expandEnv(s, env = process.env) {
    const refs = [];
    const value = s.replace(REF, (_, name, fallback) => {
        const v = env[name];
        const set = v !== undefined && v !== '';
        refs.push({ name, set: set || fallback !== undefined });
        return set ? v : (fallback ?? '');
    });
    return { value, refs };
}
/** Expands every string inside a JSON-like value, reporting each reference. */
export function expandEnvDeep(v, onRef, path = []) {
    if (typeof v === 'string') {
        const { value, refs } = expandEnv(v);
        for (const r of refs)
            onRef(r, path);
        return value;
    }
    if (Array.isArray(v))
        return v.map((x, i) => expandEnvDeep(x, onRef, [...path, i]));
    if (v && typeof v === 'object') {
        const out = {};
        for (const [k, x] of Object.entries(v))
            out[k] = expandEnvDeep(x, onRef, [...path, k]);
        return out;
    }
    return v;
}
//# sourceMappingURL=env.js.map