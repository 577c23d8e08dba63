// --workers N with node:cluster. The primary forks N workers that share the listening port, watches
// the rules and certificate files for all of them and tells every worker to reload at once (checking
// that they all end on the same rules), adds up their metrics for /metrics, starts a new worker when
// one dies, and on SIGTERM has every worker drain. The workers serve; they watch nothing themselves.
import cluster, {} from 'node:cluster';
import { AggregatorRegistry } from 'prom-client';
import { formatProblem } from './ruleset/problems.js';
import { watchRules } from './ruleset/reload.js';
import { watchCertificate } from './tls.js';
export async function runPrimary(o) {
    // The workers' own replies to metric requests are set up by prom-client once this exists.
    const aggregator = new AggregatorRegistry();
    const replies = new Map();
    let stopping = false;
    cluster.on('message', (w, m) => {
        if (m?.re === 'reloaded')
            replies.get(w.id)?.shift()?.(m);
        if (m?.re === 'metrics') {
            aggregator.clusterMetrics().then((text) => send(w, { re: 'metrics', id: m.id, text }), (err) => send(w, { re: 'metrics', id: m.id, error: err.message }));
        }
    });
    cluster.on('exit', (w, code, signal) => {
        for (const f of replies.get(w.id)?.splice(0) ?? [])
            f(null);
        replies.delete(w.id);
        if (stopping)
            return;
        o.logger.error({ pid: w.process.pid, code, signal }, 'worker died: starting another');
        cluster.fork();
    });
    const started = new Promise((resolve) => {
        let listening = 0;
        const onListening = (_w, a) => {
            if (++listening < o.workers)
                return;
            cluster.off('listening', onListening);
            cluster.off('exit', onEarlyExit);
            resolve(`${a.address.includes(':') ? `[${a.address}]` : a.address}:${a.port}`);
        };
        const onEarlyExit = () => { stopping = true; resolve(null); };
        cluster.on('listening', onListening);
        cluster.on('exit', onEarlyExit);
    });
    for (let i = 0; i < o.workers; i++)
        cluster.fork();
    const address = await started;
    if (!address) {
        o.logger.error('a worker exited while starting: stopping');
        await stopWorkers(o.drainTimeoutMs);
        return 1;
    }
    /** Every worker reloads; one that ends on other rules than the primary's (a file changed between the two reads) is asked once more. */
    const reloadAll = async () => {
        const results = await Promise.all(workers().map(async (w) => {
            let r = await ask(w);
            if (r?.ok && r.hash !== o.holder.current.hash)
                r = await ask(w);
            return r;
        }));
        const hashes = new Set(results.filter((r) => r?.ok).map((r) => r.hash));
        o.logger.info({ hash: o.holder.current.hash, workers: results.length, failed: results.filter((r) => !r?.ok).length, consistent: hashes.size <= 1 }, 'workers reloaded');
    };
    const ask = (w) => new Promise((resolve) => {
        const q = replies.get(w.id) ?? [];
        replies.set(w.id, q);
        q.push(resolve);
        send(w, { re: 'reload' });
    });
    const reloadCertificates = () => { for (const w of workers())
        send(w, { re: 'reload-cert' }); };
    const rulesWatcher = o.watch
        ? watchRules(o.rules, o.holder, (ok, probs) => {
            if (ok)
                o.logger.info({ hash: o.holder.current.hash, rules: o.holder.current.rules.length, warnings: probs.length }, 'rules reloaded');
            else
                o.logger.error({ problems: probs.filter((p) => p.severity === 'error').map((p) => formatProblem(p)) }, 'rules reload failed: the previous rules keep serving');
            // A broken edit goes to the workers too: each keeps its rules and reports the problem on /healthz.
            void reloadAll();
        }, o.load)
        : null;
    const certWatcher = o.tls ? watchCertificate(o.tls.certPath, o.tls.keyPath, reloadCertificates) : null;
    const onHup = () => { void reloadAll(); reloadCertificates(); };
    process.on('SIGHUP', onHup);
    await rulesWatcher?.ready;
    await certWatcher?.ready;
    const url = `${o.tls ? 'https' : 'http'}://${address}`;
    o.logger.info({ url, workers: o.workers, rules: o.holder.current.rules.length, hash: o.holder.current.hash }, 'route-engine listening');
    await new Promise((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
    });
    stopping = true;
    process.off('SIGHUP', onHup);
    o.logger.info({ workers: workers().length }, 'stopping: workers drain');
    await Promise.all([stopWorkers(o.drainTimeoutMs), rulesWatcher?.close(), certWatcher?.close()]);
    return 0;
}
/** In a worker: answers the primary's messages; metricsText() asks the primary for every worker's sum. */
export function joinCluster(registry, hooks) {
    new AggregatorRegistry();
    AggregatorRegistry.setRegistries([registry]);
    const waiting = new Map();
    let next = 0;
    const onMessage = async (m) => {
        if (m?.re === 'reload')
            process.send?.({ re: 'reloaded', ...(await hooks.reload()) });
        else if (m?.re === 'reload-cert')
            await hooks.reloadCertificate();
        else if (m?.re === 'shutdown')
            hooks.stop();
        else if (m?.re === 'metrics') {
            waiting.get(m.id)?.(m);
            waiting.delete(m.id);
        }
    };
    process.on('message', onMessage);
    return {
        metricsText: () => new Promise((resolve, reject) => {
            const id = next++;
            waiting.set(id, (m) => (m.text !== undefined ? resolve(m.text) : reject(new Error(m.error ?? 'no metrics'))));
            process.send?.({ re: 'metrics', id });
        }),
        leave() {
            process.off('message', onMessage);
            cluster.worker?.disconnect();
        },
    };
}
function workers() {
    return Object.values(cluster.workers ?? {}).filter((w) => !!w && w.isConnected());
}
function send(w, m) {
    if (w.isConnected())
        w.send(m);
}
/** Tells every worker to drain; kills those still running a little after the drain deadline. */
async function stopWorkers(drainTimeoutMs) {
    const all = Object.values(cluster.workers ?? {}).filter((w) => !!w);
    await Promise.all(all.map((w) => new Promise((resolve) => {
        if (w.isDead())
            return resolve();
        const kill = setTimeout(() => w.process.kill('SIGKILL'), drainTimeoutMs + 5000);
        w.once('exit', () => { clearTimeout(kill); resolve(); });
        send(w, { re: 'shutdown' });
    })));
}
//# sourceMappingURL=cluster.js.map