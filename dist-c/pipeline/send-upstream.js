import { Agent, request } from 'undici';
import { RouteError } from '../errors.js';
const agents = new Map();
/** The shared keep-alive agent of an upstream (capture composes a recorder onto it). */
export function agentFor(up) {
    const key = `${up.name}|${up.timeouts.connect}|${up.timeouts.firstByte}|${up.timeouts.idle}|${up.maxConcurrent}`;
    let a = agents.get(key);
    if (!a) {
        a = new TimedAgent({
            keepAliveTimeout: 10_000,
            // maxConcurrent bounds the calls (upstream-slots.ts); no second, silent queue here.
            connections: up.maxConcurrent,
            connect: { timeout: up.timeouts.connect },
            headersTimeout: up.timeouts.firstByte + 1000,
            bodyTimeout: up.timeouts.idle + 1000,
        });
        agents.set(key, a);
    }
    return a;
}
/**
 * An Agent that notes when a request got its socket (undici calls the handler's onConnect, or
 * onRequestStart, then). A subclass rather than an interceptor: compose() puts a Proxy around the
 * agent and converts every event between handler styles twice.
 */
class TimedAgent extends Agent {
    dispatch(opts, handler) {
        const timing = opts.opaque;
        if (timing?.start === undefined)
            return super.dispatch(opts, handler);
        return super.dispatch(opts, 'onRequestStart' in handler ? new ConnectTimer(handler, timing) : new LegacyConnectTimer(handler, timing));
    }
}
const connected = (timing) => { timing.connectMs ??= performance.now() - timing.start; };
/** Forwards every event of a handler of undici's current interface. */
class ConnectTimer {
    h;
    timing;
    constructor(h, timing) {
        this.h = h;
        this.timing = timing;
    }
    onRequestStart(c, context) {
        connected(this.timing);
        this.h.onRequestStart?.(c, context);
    }
    onRequestUpgrade(c, status, headers, socket) {
        this.h.onRequestUpgrade?.(c, status, headers, socket);
    }
    onResponseStart(c, status, headers, message) {
        this.h.onResponseStart?.(c, status, headers, message);
    }
    onResponseData(c, chunk) {
        this.h.onResponseData?.(c, chunk);
    }
    onResponseEnd(c, trailers) {
        this.h.onResponseEnd?.(c, trailers);
    }
    onResponseError(c, err) {
        this.h.onResponseError?.(c, err);
    }
}
/** Forwards every event of a handler of undici's legacy interface (request()'s own), return values included. */
class LegacyConnectTimer {
    h;
    timing;
    constructor(h, timing) {
        this.h = h;
        this.timing = timing;
    }
    onConnect(abort) {
        connected(this.timing);
        this.h.onConnect?.(abort);
    }
    onHeaders(status, raw, resume, text) {
        return this.h.onHeaders?.(status, raw, resume, text) ?? true;
    }
    onData(chunk) {
        return this.h.onData?.(chunk) ?? true;
    }
    onComplete(trailers) {
        this.h.onComplete?.(trailers);
    }
    onError(err) {
        this.h.onError?.(err);
    }
    onUpgrade(status, raw, socket) {
        this.h.onUpgrade?.(status, raw, socket);
    }
    onResponseStarted() {
        this.h.onResponseStarted?.();
    }
    onBodySent(chunkSize, total) {
        this.h.onBodySent?.(chunkSize, total);
    }
}
export async function closeAgents() {
    await Promise.all([...agents.values()].map((a) => a.close()));
    agents.clear();
}
export async function sendUpstream(up, call, signal, rule, dispatcher, timing) {
    const ac = new AbortController();
    const onAbort = () => ac.abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    const timer = setTimeout(() => ac.abort(new RouteError('RE_UPSTREAM_TIMEOUT', `timeout: upstream '${up.name}' sent no response headers within ${up.timeouts.firstByte} ms (rule '${rule}')`, { rule, upstream: up.name })), up.timeouts.firstByte);
    try {
        // The client's signal stays linked after the headers: it must also abort the body.
        return await request(call.url, {
            method: call.method,
            headers: call.headers,
            body: call.body,
            signal: ac.signal,
            dispatcher: dispatcher ?? agentFor(up),
            opaque: timing && Object.assign(timing, { start: performance.now() }),
        });
    }
    catch (err) {
        signal.removeEventListener('abort', onAbort);
        throw upstreamFailure(err, up, rule);
    }
    finally {
        clearTimeout(timer);
    }
}
/** An undici or abort error → the RouteError the client sees. */
export function upstreamFailure(err, up, rule) {
    if (err instanceof RouteError)
        return err;
    const e = err;
    const code = e.code ?? e.cause?.code ?? '';
    const opts = { rule, upstream: up.name, cause: err };
    if (code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
        return new RouteError('RE_UPSTREAM_TIMEOUT', `timeout: upstream '${up.name}' timed out (${code}, rule '${rule}')`, opts);
    }
    const detail = [code, e.message ?? e.cause?.message].filter(Boolean).join(' ');
    return new RouteError('RE_UPSTREAM_UNREACHABLE', `upstream '${up.name}' is unreachable: ${detail} (rule '${rule}')`, opts);
}
//# sourceMappingURL=send-upstream.js.map