// Globs → RegExp, compiled once at load. `*` matches any run of characters (within one path
// segment when a separator is given, `**` then crosses segments), `?` one character.
const cache = new Map();
export function globToRegExp(pattern, separator) {
    const key = `${separator ?? ''}\0${pattern}`;
    let re = cache.get(key);
    if (re)
        return re;
    let src = '^';
    for (let i = 0; i < pattern.length; i++) {
        const c = pattern[i];
        if (c === '*') {
            if (pattern[i + 1] === '*') {
                src += '.*';
                i++;
            }
            else
                src += separator ? `[^${escape(separator)}]*` : '.*';
        }
        else if (c === '?')
            src += separator ? `[^${escape(separator)}]` : '.';
        else
            src += escape(c);
    }
    re = new RegExp(src + '$');
    cache.set(key, re);
    return re;
}
export const isGlob = (s) => /[*?]/.test(s);
function escape(s) {
    return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
//# sourceMappingURL=glob.js.map