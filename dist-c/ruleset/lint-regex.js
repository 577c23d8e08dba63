import { parseExpr } from '../expr/compile.js';
const LARGE = 10;
// Characters tried when a sample text is made: letters and digits first, then the rest of ASCII.
const SAMPLE = [...Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).sort((x, y) => rank(x) - rank(y)), '\n', '\t', 'é', '你', '\u2028'];
function rank(c) {
    return /[a-z]/.test(c) ? 0 : /[A-Z]/.test(c) ? 1 : /\d/.test(c) ? 2 : 3;
}
/** Why a pattern can backtrack catastrophically, or null when it cannot (or cannot be parsed). */
export function slowRegex(source, flags = '') {
    let tree;
    try {
        new RegExp(source, flags.replace(/[^gimsuyd]/g, ''));
        tree = new Parser(source, flags.includes('i')).parse();
    }
    catch {
        return null;
    }
    return find(tree);
}
function find(n) {
    if (n.t === 'seq') {
        for (const i of n.items) {
            const r = find(i);
            if (r)
                return r;
        }
        return null;
    }
    if (n.t === 'alt') {
        for (const a of n.alts) {
            const r = find(a);
            if (r)
                return r;
        }
        return null;
    }
    if (n.t !== 'rep')
        return null;
    if (n.max === Infinity || n.max >= LARGE) {
        if (nullable(n.body))
            return 'a repetition of something that can match the empty string';
        if (hasInnerRepetition(n.body))
            return 'a repetition inside a repetition with nothing required between them';
        const alts = n.body.t === 'alt' ? n.body.alts : [];
        for (let i = 0; i < alts.length; i++) {
            for (let j = 0; j < alts.length; j++) {
                if (i === j)
                    continue;
                // A lookaround may be what tells two alternatives apart: then they are not judged.
                if (hasLook(alts[i]) || hasLook(alts[j]))
                    continue;
                const s = sample(alts[i]);
                if (s !== null && toRegExp(alts[j], true).test(s))
                    return 'a repetition of alternatives that can match the same text';
            }
        }
    }
    return find(n.body);
}
function hasLook(n) {
    switch (n.t) {
        case 'look': return true;
        case 'seq': return n.items.some(hasLook);
        case 'alt': return n.alts.some(hasLook);
        case 'rep': return hasLook(n.body);
        default: return false;
    }
}
function nullable(n) {
    switch (n.t) {
        case 'set': return false;
        case 'empty':
        case 'look': return true;
        case 'seq': return n.items.every(nullable);
        case 'alt': return n.alts.some(nullable);
        case 'rep': return n.min === 0 || nullable(n.body);
    }
}
/** An unbounded repetition of non-empty text that the other parts around it do not delimit. */
function hasInnerRepetition(n) {
    switch (n.t) {
        case 'rep': return (n.max === Infinity || n.max >= LARGE) && !nullable(n.body) ? true : n.max > 1 && hasInnerRepetition(n.body);
        case 'alt': return n.alts.some(hasInnerRepetition);
        case 'seq': return n.items.some((x, i) => hasInnerRepetition(x) && undelimited(x, n.items.filter((_, j) => j !== i)));
        default: return false;
    }
}
/** False when the rest of a sequence can be skipped or eaten by the repetition `x` itself. */
function undelimited(x, rest) {
    const required = rest.filter((y) => !nullable(y));
    if (!required.length)
        return true;
    const samples = required.map(sample);
    return x.t === 'rep' && samples.every((s) => s !== null) && toRegExp(x.body, true).test(samples.join(''));
}
/** One short text the node matches, or null when none is found. */
function sample(n) {
    switch (n.t) {
        case 'set': return SAMPLE.find(n.test) ?? null;
        case 'empty':
        case 'look': return '';
        case 'seq': {
            let s = '';
            for (const i of n.items) {
                const x = sample(i);
                if (x === null)
                    return null;
                s += x;
            }
            return s;
        }
        case 'alt': return n.alts.length ? sample(n.alts[0]) : '';
        case 'rep': {
            const x = sample(n.body);
            return x === null ? null : x.repeat(Math.max(n.min, 1));
        }
    }
}
/** The node as a RegExp over samples: anchored, and repeated when `repeat`. */
function toRegExp(n, repeat) {
    const match = (node, s, i, k) => {
        switch (node.t) {
            case 'set': return i < s.length && node.test(s[i]) && k(i + 1);
            case 'empty':
            case 'look': return k(i);
            case 'seq': {
                const go = (idx, j) => idx === node.items.length ? k(j) : match(node.items[idx], s, j, (x) => go(idx + 1, x));
                return go(0, i);
            }
            case 'alt': return node.alts.some((a) => match(a, s, i, k));
            case 'rep': {
                const go = (count, j) => (count >= node.min && k(j)) || (count < Math.min(node.max, s.length + 1) && match(node.body, s, j, (x) => x > j && go(count + 1, x)));
                return go(0, i);
            }
        }
    };
    return { test: (s) => (repeat ? match({ t: 'rep', body: n, min: 1, max: Infinity }, s, 0, (j) => j === s.length) : match(n, s, 0, (j) => j === s.length)) };
}
class Parser {
    s;
    fold;
    i = 0;
    constructor(s, fold) {
        this.s = s;
        this.fold = fold;
    }
    parse() {
        const n = this.alt();
        if (this.i < this.s.length)
            throw new SyntaxError('unbalanced )');
        return n;
    }
    alt() {
        const alts = [this.seq()];
        while (this.s[this.i] === '|') {
            this.i++;
            alts.push(this.seq());
        }
        return alts.length === 1 ? alts[0] : { t: 'alt', alts };
    }
    seq() {
        const items = [];
        while (this.i < this.s.length && this.s[this.i] !== '|' && this.s[this.i] !== ')')
            items.push(this.quantified(this.atom()));
        return items.length === 1 ? items[0] : { t: 'seq', items };
    }
    quantified(atom) {
        const c = this.s[this.i];
        let min, max;
        if (c === '*') {
            min = 0;
            max = Infinity;
            this.i++;
        }
        else if (c === '+') {
            min = 1;
            max = Infinity;
            this.i++;
        }
        else if (c === '?') {
            min = 0;
            max = 1;
            this.i++;
        }
        else if (c === '{' && /^\{\d+(,\d*)?\}/.test(this.s.slice(this.i))) {
            const m = /^\{(\d+)(,(\d*))?\}/.exec(this.s.slice(this.i));
            min = Number(m[1]);
            max = m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3]);
            this.i += m[0].length;
        }
        else
            return atom;
        if (this.s[this.i] === '?')
            this.i++; // lazy: same search space
        return this.quantified({ t: 'rep', body: atom, min, max });
    }
    atom() {
        const c = this.s[this.i++];
        switch (c) {
            case '(': {
                let lookaround = false;
                if (this.s[this.i] === '?') {
                    const m = /^\?(:|=|!|<=|<!|<[A-Za-z_]\w*>)/.exec(this.s.slice(this.i));
                    if (!m)
                        throw new SyntaxError('group');
                    lookaround = /^\?(=|!|<=|<!)$/.test(m[0]);
                    this.i += m[0].length;
                }
                const body = this.alt();
                if (this.s[this.i++] !== ')')
                    throw new SyntaxError('unclosed (');
                return lookaround ? { t: 'look' } : body;
            }
            case '^':
            case '$': return { t: 'empty' };
            case '.': return { t: 'set', test: (x) => x !== '\n' && x !== '\r' && x !== '\u2028', src: '.' };
            case '[': return this.cls();
            case '\\': return this.escape(false);
            default: return this.literal(c);
        }
    }
    literal(c) {
        const l = c.toLowerCase();
        return { t: 'set', test: this.fold ? (x) => x.toLowerCase() === l : (x) => x === c, src: c };
    }
    /** After a backslash: a class escape, an anchor, a back-reference or a literal. */
    escape(inClass) {
        const c = this.s[this.i++];
        const cls = CLASS_ESCAPES[c];
        if (cls)
            return { t: 'set', test: cls, src: '\\' + c };
        if (!inClass && (c === 'b' || c === 'B'))
            return { t: 'empty' };
        if (!inClass && /[1-9]/.test(c))
            return { t: 'empty' };
        if (c === 'k' && this.s[this.i] === '<') {
            this.i = this.s.indexOf('>', this.i) + 1;
            return { t: 'empty' };
        }
        const code = c === 'n' ? '\n' : c === 't' ? '\t' : c === 'r' ? '\r' : c === 'u' || c === 'x' ? this.hex(c) : c;
        return inClass ? code : this.literal(code);
    }
    hex(kind) {
        const m = (kind === 'u' ? /^(\{[0-9a-fA-F]+\}|[0-9a-fA-F]{4})/ : /^[0-9a-fA-F]{2}/).exec(this.s.slice(this.i));
        if (!m)
            return kind;
        this.i += m[0].length;
        return String.fromCodePoint(parseInt(m[0].replace(/[{}]/g, ''), 16));
    }
    cls() {
        const start = this.i - 1;
        const negate = this.s[this.i] === '^';
        if (negate)
            this.i++;
        const tests = [];
        let first = true;
        while (this.i < this.s.length && (this.s[this.i] !== ']' || first)) {
            first = false;
            let c = this.s[this.i++];
            if (c === '\\')
                c = this.escape(true);
            if (typeof c !== 'string') {
                tests.push(c.test);
                continue;
            }
            if (this.s[this.i] === '-' && this.s[this.i + 1] !== ']' && this.i + 1 < this.s.length) {
                this.i++;
                let hi = this.s[this.i++];
                if (hi === '\\')
                    hi = this.escape(true);
                if (typeof hi === 'string') {
                    const lo = c;
                    const up = hi;
                    tests.push(this.fold ? (x) => (x.toLowerCase() >= lo && x.toLowerCase() <= up) || (x.toUpperCase() >= lo && x.toUpperCase() <= up) : (x) => x >= lo && x <= up);
                    continue;
                }
            }
            const lit = c;
            tests.push(this.fold ? (x) => x.toLowerCase() === lit.toLowerCase() : (x) => x === lit);
        }
        if (this.s[this.i++] !== ']')
            throw new SyntaxError('unclosed [');
        const any = (x) => tests.some((t) => t(x));
        return { t: 'set', test: negate ? (x) => !any(x) : any, src: this.s.slice(start, this.i) };
    }
}
const isWord = (x) => /\w/.test(x);
const isSpace = (x) => /\s/.test(x);
const isDigit = (x) => /\d/.test(x);
const CLASS_ESCAPES = {
    w: isWord, W: (x) => !isWord(x), s: isSpace, S: (x) => !isSpace(x), d: isDigit, D: (x) => !isDigit(x),
};
/** Regular expression literals inside a JSONata expression, with their offsets in the source. */
export function regexLiterals(source) {
    let ast;
    try {
        ast = parseExpr(source);
    }
    catch {
        return [];
    }
    const out = [];
    const walk = (n) => {
        if (Array.isArray(n)) {
            n.forEach(walk);
            return;
        }
        if (!n || typeof n !== 'object' || n instanceof RegExp)
            return;
        const node = n;
        if (node.type === 'regex' && node.value instanceof RegExp) {
            // The position is just past the literal's closing slash (flags are not counted).
            const at = source.lastIndexOf('/' + node.value.source + '/', node.position ?? source.length);
            out.push({ re: node.value, offset: at === -1 ? Math.max(0, (node.position ?? 1) - 1) : at });
        }
        for (const v of Object.values(node))
            if (v && typeof v === 'object')
                walk(v);
    };
    walk(ast);
    return out;
}
//# sourceMappingURL=lint-regex.js.map