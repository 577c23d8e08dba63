// Watches a rules directory and rebuilds the Ruleset off the hot path: a burst of writes (editors'
// atomic saves, renames) becomes one rebuild 100 ms after the last event; a broken edit keeps the
// previous Ruleset serving and reports every problem.
import { watch } from 'chokidar';
import { loadRuleset } from './compile.js';
/** Loads the directory once more and swaps it in when it is whole; a broken one only sets lastError. */
export async function reloadRules(dir, holder, opts = {}) {
    const { ruleset, problems } = await loadRuleset(dir, opts);
    if (ruleset) {
        holder.current = ruleset;
        holder.lastError = null;
    }
    else {
        holder.lastError = { at: new Date(), problems: problems.errors };
    }
    holder.reloads++;
    return { ok: ruleset !== null, problems: problems.items };
}
export function watchRules(dir, holder, onResult, opts = {}) {
    const w = watch(dir, {
        ignoreInitial: true,
        ignored: (p, stats) => !!stats?.isFile() && !/\.(ya?ml|jsonata)$/.test(p),
    });
    let timer = null;
    let running = null;
    let again = false;
    let waiters = [];
    const rebuild = async () => {
        const { ok, problems } = await reloadRules(dir, holder, opts);
        onResult(ok, problems);
    };
    const run = () => {
        if (running) {
            again = true;
            return;
        }
        running = rebuild().finally(() => {
            running = null;
            if (again) {
                again = false;
                run();
                return;
            }
            const ws = waiters;
            waiters = [];
            for (const f of ws)
                f();
        });
    };
    w.on('all', () => {
        if (timer)
            clearTimeout(timer);
        timer = setTimeout(run, opts.debounceMs ?? 100);
    });
    const ready = new Promise((resolve) => w.once('ready', () => resolve()));
    return {
        ready,
        async close() {
            if (timer)
                clearTimeout(timer);
            await w.close();
            await running;
        },
        next: () => new Promise((resolve) => waiters.push(resolve)),
    };
}
//# sourceMappingURL=reload.js.map