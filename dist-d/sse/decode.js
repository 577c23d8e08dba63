// SSE decoder for upstream streams: bytes in (any chunking), events out. Handles LF, CRLF and CR
// line ends (a CR at a chunk end waits for a possible LF), a BOM, comments, multi-line data,
// `field:value` without a space, multi-byte characters split across chunks (one streaming
// TextDecoder), a last event without its blank line (dispatched at end()), and JSON written outside
// SSE framing (some APIs inject a pretty-printed error object into a 200 stream): lines from one
// starting with `{` or `[` up to the next blank line become one event whose data is that text.
export function createSseDecoder(onEvent) {
    const decoder = new TextDecoder('utf-8');
    let buf = '';
    /** How much of buf (from its start) holds no line end. */
    let scanned = 0;
    let first = true;
    let data = '';
    let hasData = false;
    let event = '';
    let lastId;
    let stray = null;
    function dispatch() {
        if (stray) {
            onEvent({ data: stray.join('\n'), unframed: true });
            stray = null;
        }
        if (hasData)
            onEvent(event ? { event, data, id: lastId } : { data, id: lastId });
        data = '';
        hasData = false;
        event = '';
    }
    function line(l) {
        if (l === '')
            return dispatch();
        if (stray) {
            stray.push(l);
            return;
        }
        const c0 = l.charCodeAt(0);
        if (c0 === 58)
            return; // ':' comment
        const c = l.indexOf(':');
        const field = c === -1 ? l : l.slice(0, c);
        const value = c === -1 ? '' : l.charCodeAt(c + 1) === 32 ? l.slice(c + 2) : l.slice(c + 1);
        switch (field) {
            case 'data':
                data = hasData ? data + '\n' + value : value;
                hasData = true;
                return;
            case 'event':
                event = value;
                return;
            case 'id':
                if (!value.includes('\0'))
                    lastId = value;
                return;
            case 'retry': return;
        }
        const t = l.trimStart();
        if (t.startsWith('{') || t.startsWith('['))
            stray = [l];
        // Any other unknown field is ignored, as the SSE spec says.
    }
    function feed(text) {
        buf += text;
        if (first && buf.length) {
            if (buf.charCodeAt(0) === 0xfeff)
                buf = buf.slice(1);
            first = false;
        }
        let pos = 0;
        const n = buf.length;
        while (pos < n) {
            // A line longer than a chunk is scanned once, not again from its start with every chunk.
            let i = Math.max(pos, scanned);
            let ch = 0;
            for (; i < n; i++) {
                ch = buf.charCodeAt(i);
                if (ch === 10 || ch === 13)
                    break;
            }
            scanned = 0;
            if (i === n) {
                scanned = n - pos;
                break;
            }
            if (ch === 13) {
                if (i + 1 === n)
                    break; // may be the first half of CRLF
                line(buf.slice(pos, i));
                pos = buf.charCodeAt(i + 1) === 10 ? i + 2 : i + 1;
            }
            else {
                line(buf.slice(pos, i));
                pos = i + 1;
            }
        }
        if (pos > 0)
            buf = buf.slice(pos);
    }
    return {
        push(chunk) {
            feed(typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true }));
        },
        end() {
            feed(decoder.decode());
            if (buf.length) {
                line(buf.endsWith('\r') ? buf.slice(0, -1) : buf);
                buf = '';
            }
            dispatch();
        },
    };
}
//# sourceMappingURL=decode.js.map