// Regular expressions as JSONata values: the interpreter's matcher closure (match, start, end,
// groups, next), and the string functions that take a matcher ($contains, $match, $replace, $split),
// ported from jsonata 2.2 so that every match, zero-length-match error and `$n` substitution is the same.
import { fallback } from './runtime.js';
import { seq } from './values.js';
/** The value of a regex literal (the parser already added the `g` flag). */
export function matcherOf(re) {
    const closure = (str, fromIndex) => {
        re.lastIndex = fromIndex || 0;
        const m = re.exec(str);
        if (m === null)
            return undefined;
        const result = {
            match: m[0],
            start: m.index,
            end: m.index + m[0].length,
            groups: m.slice(1),
            next() {
                if (re.lastIndex >= str.length)
                    return undefined;
                const next = closure(str, re.lastIndex);
                // matches a zero-length string: it would never progress (D1004)
                if (next && next.match === '')
                    fallback('a regex that matches an empty string');
                return next;
            },
        };
        return result;
    };
    closure.re = re;
    return closure;
}
/** evaluateMatcher: call a matcher (a regex, or a function that behaves like one). */
function run(matcher, str, call) {
    const r = call(matcher, [str]);
    if (r && !(typeof r.start === 'number' || Array.isArray(r.groups) || typeof r.next === 'function'))
        fallback('a matcher that returns no match object');
    return r;
}
const next = (m, call) => run(m.next, undefined, call);
export function contains(str, token, call) {
    if (str === undefined || token === undefined)
        return undefined;
    if (typeof token === 'string')
        return str.indexOf(token) !== -1;
    const re = token.re;
    if (re) {
        re.lastIndex = 0;
        return re.exec(str) !== null;
    }
    return run(token, str, call) !== undefined;
}
export function match(str, matcher, limit, call) {
    if (str === undefined)
        return undefined;
    if (limit !== undefined && limit < 0)
        fallback('$match with a negative limit');
    const out = seq();
    if (limit === undefined || limit > 0) {
        let count = 0;
        let m = run(matcher, str, call);
        while (m !== undefined && (limit === undefined || count < limit)) {
            out.push({ match: m.match, index: m.start, groups: m.groups });
            m = next(m, call);
            count++;
        }
    }
    return out;
}
export function replace(str, pattern, replacement, limit, call) {
    if (str === undefined)
        return undefined;
    if (pattern === '')
        fallback('$replace with an empty pattern');
    if (limit !== undefined && limit < 0)
        fallback('$replace with a negative limit');
    if (limit !== undefined && limit === 0)
        return str;
    let result = '';
    let position = 0;
    let count = 0;
    if (typeof pattern === 'string') {
        if (typeof replacement !== 'string')
            fallback('a string pattern with a function replacement');
        let index = str.indexOf(pattern, position);
        while (index !== -1 && (limit === undefined || count < limit)) {
            result += str.substring(position, index) + replacement;
            position = index + pattern.length;
            count++;
            index = str.indexOf(pattern, position);
        }
        return result + str.substring(position);
    }
    let m = run(pattern, str, call);
    if (m === undefined)
        return str;
    while (m !== undefined && (limit === undefined || count < limit)) {
        result += str.substring(position, m.start);
        const with_ = typeof replacement === 'string' ? substitute(replacement, m) : call(replacement, [m]);
        if (typeof with_ !== 'string')
            fallback('a replacement that is not a string');
        result += with_;
        position = m.start + m.match.length;
        count++;
        m = next(m, call);
    }
    return result + str.substring(position);
}
/** The replacement text with $0, $1… replaced by the match and its groups ($$ is a dollar). */
function substitute(replacement, m) {
    let out = '';
    let position = 0;
    let index = replacement.indexOf('$', position);
    while (index !== -1 && position < replacement.length) {
        out += replacement.substring(position, index);
        position = index + 1;
        const c = replacement.charAt(position);
        if (c === '$') {
            out += '$';
            position++;
        }
        else if (c === '0') {
            out += m.match;
            position++;
        }
        else {
            const maxDigits = m.groups.length === 0 ? 1 : Math.floor(Math.log(m.groups.length) * Math.LOG10E) + 1;
            let group = parseInt(replacement.substring(position, position + maxDigits), 10);
            if (maxDigits > 1 && group > m.groups.length)
                group = parseInt(replacement.substring(position, position + maxDigits - 1), 10);
            if (!Number.isNaN(group)) {
                if (m.groups.length > 0) {
                    const sub = m.groups[group - 1];
                    if (sub !== undefined)
                        out += sub;
                }
                position += group.toString().length;
            }
            else {
                out += '$';
            }
        }
        index = replacement.indexOf('$', position);
    }
    return out + replacement.substring(position);
}
export function split(str, separator, limit, call) {
    if (str === undefined)
        return undefined;
    if (limit !== undefined && limit < 0)
        fallback('$split with a negative limit');
    if (limit !== undefined && limit === 0)
        return [];
    if (typeof separator === 'string')
        return str.split(separator, limit);
    const out = [];
    let count = 0;
    let m = run(separator, str, call);
    if (m === undefined)
        return [str];
    let start = 0;
    while (m !== undefined && (limit === undefined || count < limit)) {
        out.push(str.substring(start, m.start));
        start = m.end;
        m = next(m, call);
        count++;
    }
    if (limit === undefined || count < limit)
        out.push(str.substring(start));
    return out;
}
//# sourceMappingURL=regex.js.map