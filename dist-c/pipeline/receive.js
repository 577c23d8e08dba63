import { promisify } from 'node:util';
import { brotliDecompress, gunzip, inflate } from 'node:zlib';
import { RouteError } from '../errors.js';
/** The parsed body; undefined when the request has none. */
export async function receive(req, limits) {
    const declared = Number(req.headers['content-length'] ?? NaN);
    if (declared > limits.maxBodyBytes)
        throw tooLarge(limits);
    const chunks = [];
    let size = 0;
    for await (const chunk of req) {
        size += chunk.length;
        if (size > limits.maxBodyBytes)
            throw tooLarge(limits);
        chunks.push(chunk);
    }
    if (size === 0)
        return undefined;
    const text = (await decoded(Buffer.concat(chunks, size), req.headers['content-encoding'], limits)).toString('utf8');
    let body;
    try {
        body = JSON.parse(text);
    }
    catch (err) {
        throw new RouteError('RE_BAD_JSON', `bad input: the request body is not valid JSON (${err.message})`);
    }
    const depth = depthOver(body, limits.maxDepth);
    if (depth)
        throw new RouteError('RE_TOO_DEEP', `bad input: the request body nests deeper than ${limits.maxDepth} levels (at ${depth})`);
    return body;
}
const DECODERS = {
    gzip: promisify(gunzip), 'x-gzip': promisify(gunzip), deflate: promisify(inflate), br: promisify(brotliDecompress),
};
/** A compressed body, decompressed off the main thread; the size limit holds for what it expands to. */
async function decoded(body, encoding, limits) {
    const name = (encoding ?? 'identity').trim().toLowerCase();
    if (name === 'identity' || name === '')
        return body;
    const decode = DECODERS[name];
    if (!decode)
        throw new RouteError('RE_BAD_REQUEST', `bad input: the request body's content-encoding '${name}' is not supported (gzip, deflate, br or none)`, { status: 415 });
    try {
        return await decode(body, { maxOutputLength: limits.maxBodyBytes });
    }
    catch (err) {
        if (err.code === 'ERR_BUFFER_TOO_LARGE')
            throw tooLarge(limits);
        throw new RouteError('RE_BAD_REQUEST', `bad input: the request body is not valid ${name} data (${err.message})`);
    }
}
function tooLarge(limits) {
    return new RouteError('RE_BODY_TOO_LARGE', `bad input: the request body is larger than the limit of ${limits.maxBodyBytes} bytes`);
}
/**
 * The JSON path where nesting first exceeds `max`, or null; iterative so depth cannot overflow the stack.
 * The walk builds no path (it runs on every request); only a body over the limit is walked again for it.
 */
function depthOver(root, max) {
    const values = [root];
    const depths = [0];
    while (values.length) {
        const v = values.pop();
        const d = depths.pop();
        if (d >= max)
            return pathOver(root, max);
        if (Array.isArray(v)) {
            for (const x of v)
                if (x !== null && typeof x === 'object') {
                    values.push(x);
                    depths.push(d + 1);
                }
        }
        else {
            for (const k in v) {
                const x = v[k];
                if (x !== null && typeof x === 'object') {
                    values.push(x);
                    depths.push(d + 1);
                }
            }
        }
    }
    return null;
}
function pathOver(root, max) {
    const stack = [[root, 0, '']];
    while (stack.length) {
        const [v, d, path] = stack.pop();
        if (v === null || typeof v !== 'object')
            continue;
        if (d >= max)
            return path || '/';
        if (Array.isArray(v))
            v.forEach((x, i) => stack.push([x, d + 1, `${path}/${i}`]));
        else
            for (const [k, x] of Object.entries(v))
                stack.push([x, d + 1, `${path}/${k}`]);
    }
    return null;
}
//# sourceMappingURL=receive.js.map