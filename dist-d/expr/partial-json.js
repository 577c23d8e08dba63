// Parses the longest meaningful prefix of an incomplete JSON text, as it arrives in a stream:
// open strings end at their last whole character (a split escape such as `\` or `\u00` is held
// back), open arrays and objects are closed, and a key without its value is dropped.
// Returns undefined when no value has started yet.
export function parsePartialJson(text) {
    const p = new Parser(text);
    p.ws();
    if (p.i >= text.length)
        return undefined;
    return p.value();
}
const INCOMPLETE = Symbol('incomplete');
class Parser {
    s;
    i = 0;
    constructor(s) {
        this.s = s;
    }
    ws() {
        while (this.i < this.s.length && ' \t\r\n'.includes(this.s[this.i]))
            this.i++;
    }
    value() {
        this.ws();
        const c = this.s[this.i];
        if (c === undefined)
            return INCOMPLETE;
        if (c === '{')
            return this.object();
        if (c === '[')
            return this.array();
        if (c === '"')
            return this.string();
        return this.literal();
    }
    object() {
        const out = {};
        this.i++;
        for (;;) {
            this.ws();
            const c = this.s[this.i];
            if (c === undefined)
                return out;
            if (c === '}') {
                this.i++;
                return out;
            }
            if (c === ',') {
                this.i++;
                continue;
            }
            if (c !== '"')
                throw new SyntaxError(`unexpected '${c}' at ${this.i} in partial JSON`);
            const start = this.i;
            const key = this.string();
            if (this.i >= this.s.length && !this.closedAt(start))
                return out;
            this.ws();
            if (this.s[this.i] !== ':')
                return out;
            this.i++;
            const v = this.value();
            if (v === INCOMPLETE)
                return out;
            out[key] = v;
        }
    }
    /** Whether the string that began at `start` was closed by a quote. */
    closedAt(start) {
        return this.i > start + 1 && this.s[this.i - 1] === '"';
    }
    array() {
        const out = [];
        this.i++;
        for (;;) {
            this.ws();
            const c = this.s[this.i];
            if (c === undefined)
                return out;
            if (c === ']') {
                this.i++;
                return out;
            }
            if (c === ',') {
                this.i++;
                continue;
            }
            const v = this.value();
            if (v === INCOMPLETE)
                return out;
            out.push(v);
        }
    }
    string() {
        const s = this.s;
        let out = '';
        let i = this.i + 1;
        let from = i;
        while (i < s.length) {
            const c = s.charCodeAt(i);
            if (c === 34) {
                out += s.slice(from, i);
                this.i = i + 1;
                return out;
            }
            if (c === 92) {
                out += s.slice(from, i);
                const e = s[i + 1];
                if (e === undefined) {
                    this.i = s.length;
                    return out;
                }
                if (e === 'u') {
                    const hex = s.slice(i + 2, i + 6);
                    if (hex.length < 4) {
                        this.i = s.length;
                        return out;
                    }
                    const code = parseInt(hex, 16);
                    // A high surrogate waits for its low half, which may not have arrived yet.
                    if (code >= 0xd800 && code <= 0xdbff) {
                        if (s.length < i + 12) {
                            this.i = s.length;
                            return out;
                        }
                        out += String.fromCharCode(code, parseInt(s.slice(i + 8, i + 12), 16));
                        i += 12;
                    }
                    else {
                        out += String.fromCharCode(code);
                        i += 6;
                    }
                }
                else {
                    out += ESCAPES[e] ?? e;
                    i += 2;
                }
                from = i;
                continue;
            }
            i++;
        }
        out += s.slice(from);
        this.i = s.length;
        return out;
    }
    literal() {
        const m = /^(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)/.exec(this.s.slice(this.i, this.i + 64));
        if (!m) {
            // A literal cut short (`tr`, `-`, `1.`) is not a value yet.
            this.i = this.s.length;
            return INCOMPLETE;
        }
        const end = this.i + m[0].length;
        if (end >= this.s.length && /[\d.eE+-]$/.test(m[0])) {
            this.i = end;
            return INCOMPLETE;
        }
        this.i = end;
        return JSON.parse(m[0]);
    }
}
const ESCAPES = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
//# sourceMappingURL=partial-json.js.map