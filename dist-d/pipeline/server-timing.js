const NAMES = [['match', 'match'], ['transforms', 'transforms'], ['connect', 'connect'], ['firstByte', 'firstbyte']];
export function setServerTiming(res, p) {
    if (res.headersSent)
        return;
    let v = '';
    for (const [k, name] of NAMES) {
        const ms = p[k];
        if (ms !== undefined)
            v += `${v ? ', ' : ''}${name};dur=${ms.toFixed(2)}`;
    }
    if (v)
        res.setHeader('server-timing', v);
}
//# sourceMappingURL=server-timing.js.map