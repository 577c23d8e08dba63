// Watches a rules directory and rebuilds the Ruleset off the hot path: a burst of writes (editors'
// atomic saves, renames) becomes one rebuild 100 ms after the last event; a broken edit keeps the
// previous Ruleset serving and reports every problem.
import { watch, type FSWatcher } from 'chokidar'
import { loadRuleset, type LoadOptions } from './compile.js'
import type { Problem } from './problems.js'
import type { Ruleset } from './ruleset.js'

export interface RulesetHolder {
  current: Ruleset
  lastError: { at: Date; problems: Problem[] } | null
  reloads: number
}

export interface Watcher {
  /** Resolves once the watcher sees changes (edits before that are missed). */
  ready: Promise<void>
  close(): Promise<void>
  /** Resolves after the next rebuild (for tests and tools that wait on a reload). */
  next(): Promise<void>
}

/** Loads the directory once more and swaps it in when it is whole; a broken one only sets lastError. */
export async function reloadRules(dir: string, holder: RulesetHolder, opts: LoadOptions = {}): Promise<{ ok: boolean; problems: Problem[] }> {
  const { ruleset, problems } = await loadRuleset(dir, opts)
  if (ruleset) {
    holder.current = ruleset
    holder.lastError = null
  } else {
    holder.lastError = { at: new Date(), problems: problems.errors }
  }
  holder.reloads++
  return { ok: ruleset !== null, problems: problems.items }
}

export function watchRules(dir: string, holder: RulesetHolder, onResult: (ok: boolean, problems: Problem[]) => void, opts: LoadOptions & { debounceMs?: number } = {}): Watcher {
  const w: FSWatcher = watch(dir, {
    ignoreInitial: true,
    ignored: (p, stats) => !!stats?.isFile() && !/\.(ya?ml|jsonata)$/.test(p),
  })
  let timer: NodeJS.Timeout | null = null
  let running: Promise<void> | null = null
  let again = false
  let waiters: (() => void)[] = []

  const rebuild = async (): Promise<void> => {
    const { ok, problems } = await reloadRules(dir, holder, opts)
    onResult(ok, problems)
  }

  const run = (): void => {
    if (running) { again = true; return }
    running = rebuild().finally(() => {
      running = null
      if (again) { again = false; run(); return }
      const ws = waiters
      waiters = []
      for (const f of ws) f()
    })
  }

  w.on('all', () => {
    if (timer) clearTimeout(timer)
    timer = setTimeout(run, opts.debounceMs ?? 100)
  })

  const ready = new Promise<void>((resolve) => w.once('ready', () => resolve()))
  return {
    ready,
    async close() {
      if (timer) clearTimeout(timer)
      await w.close()
      await running
    },
    next: () => new Promise<void>((resolve) => waiters.push(resolve)),
  }
}
