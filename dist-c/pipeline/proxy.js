import { asRouteError, RouteError } from '../errors.js';
import { evaluate } from '../expr/evaluate.js';
import { randomId } from '../random-id.js';
import { attempt } from './attempt.js';
import { match } from './match.js';
import { receive } from './receive.js';
import { redactorFor } from './redact.js';
import { replyJson } from './reply.js';
import { replyError } from './reply-error.js';
import { tryTargets } from './retry.js';
import { setServerTiming } from './server-timing.js';
const ID_CHARS = 'abcdefghijklmnopqrstuvwxyz0123456789';
const CREDENTIALS = new Set(['authorization', 'x-api-key', 'x-goog-api-key', 'api-key', 'cookie', 'proxy-authorization']);
export async function proxy(req, res, deps, trace) {
    const t0 = performance.now();
    const ac = new AbortController();
    res.on('close', () => { if (!res.writableFinished)
        ac.abort(new RouteError('RE_BAD_REQUEST', 'client disconnected')); });
    const stop = () => ac.abort(deps.signal.reason);
    deps.signal?.addEventListener('abort', stop, { once: true });
    const obs = deps.observe?.();
    try {
        const url = new URL(req.url ?? '/', 'http://x');
        const body = await receive(req, deps.limits);
        const input = { method: req.method ?? 'GET', path: url.pathname, headers: req.headers, body };
        obs?.received?.(input);
        const m = await match(deps.ruleset, input);
        obs?.matched?.(m);
        const rule = m.rule;
        trace.rule = rule.name;
        trace.ms.match = performance.now() - t0;
        const bindings = {
            request: m.request,
            ctx: {
                id: randomId(ID_CHARS, 24),
                created: Math.floor(Date.now() / 1000),
                model: m.clientModel,
                path: url.pathname,
                method: req.method,
                rule: rule.name,
                upstream: rule.upstream?.name,
                headers: exposedHeaders(req),
                query: Object.fromEntries(url.searchParams),
            },
            vars: rule.vars,
            models: deps.ruleset.models,
            recall: (key) => deps.store.get(String(key)),
            remember: async (key, value, ttl) => { await deps.store.set(String(key), value, ttl); return value; },
        };
        if (rule.reply) {
            const out = rule.reply.body ? await evaluate(rule.reply.body, m.request, bindings, rule.name) : undefined;
            if (out === undefined)
                res.writeHead(rule.reply.status, rule.reply.headers).end();
            else
                replyJson(res, rule.reply.status, out, rule.reply.headers);
            return;
        }
        const redact = redactorFor(deps.ruleset);
        const c = { req, res, deps, matched: m, bindings, signal: ac.signal, trace, t0, obs, redact };
        const failed = await tryTargets(rule.targets, (target) => attempt(target, c), ac.signal, {
            retry: (target) => (trace.retries ??= []).push(target.upstream.name),
            fallback: (_, to) => (trace.fallbacks ??= []).push(to.upstream.name),
        });
        if (failed?.error)
            throw failed.error;
        if (failed?.reply)
            replyJson(res, failed.reply.status, failed.reply.body, failed.reply.headers);
    }
    catch (err) {
        const e = asRouteError(err, trace.rule);
        trace.code = e.code;
        if (!ac.signal.aborted || e.code !== 'RE_BAD_REQUEST') {
            setServerTiming(res, { match: trace.ms.match });
            await replyError(res, e, undefined, redactorFor(deps.ruleset));
        }
    }
    finally {
        deps.signal?.removeEventListener('abort', stop);
        trace.status = res.statusCode;
        trace.ms.total = performance.now() - t0;
    }
}
function exposedHeaders(req) {
    const out = {};
    for (const [k, v] of Object.entries(req.headers))
        if (v !== undefined && !CREDENTIALS.has(k))
            out[k] = Array.isArray(v) ? v.join(', ') : v;
    return out;
}
//# sourceMappingURL=proxy.js.map