// Loads the rules for serving, and reloads them off the hot path. A load goes live only when it is
// whole: the directory was quiet for the settle window first (a burst of writes, or an `rm` followed
// by a copy, becomes one load), its files did not change while they were read and compiled, and it
// holds at least one rule. Anything else leaves the previous Ruleset serving and is reported.
import { setTimeout as delay } from 'node:timers/promises'
import { resolve } from 'node:path'
import { loadRuleset, type LoadOptions, type LoadResult } from './compile.js'
import { ProblemList, type Problem } from './problems.js'
import { displayName, readFiles, type RuleFiles } from './read.js'
import type { Ruleset } from './ruleset.js'
import { watchDir } from './watch-dir.js'

export interface RulesetHolder {
  current: Ruleset
  lastError: { at: Date; problems: Problem[] } | null
  reloads: number
}

export interface ServeLoadOptions extends LoadOptions {
  /** How long the directory must be quiet before a reload, and the wait between tries while it changes. */
  settleMs?: number
}

export const DEFAULT_SETTLE_MS = 500
/** Loads tried while the files keep changing under them, before the reload is given up. */
const TRIES = 5

/**
 * Loads the directory for serving: again (after the settle window) while its files change during
 * the load; a load without a single rule is refused (RE_NO_RULES) like a broken one.
 */
export async function loadRules(dir: string, opts: ServeLoadOptions = {}): Promise<LoadResult> {
  const settleMs = opts.settleMs ?? DEFAULT_SETTLE_MS
  for (let tries = 1; ; tries++) {
    const r = await loadRuleset(dir, opts)
    if (!r.sources) return r
    if ((await fingerprint(dir)) === r.sources.hash) {
      if (r.ruleset?.rules.length !== 0) return r
      return refuse(r, dir, 'RE_NO_RULES', 'no rules here: not one .yaml file has a rule under "rules:" (an empty or half-copied directory?)')
    }
    if (tries === TRIES) return refuse(r, dir, 'RE_READ', `the files changed while they were read, ${TRIES} times over ${TRIES - 1} waits of ${settleMs} ms`)
    await delay(settleMs)
  }
}

/** The hash the files have now, or null when the directory cannot be listed. */
async function fingerprint(dir: string): Promise<string | null> {
  return readFiles(dir, new ProblemList()).then((f) => f.hash, () => null)
}

function refuse(r: LoadResult, dir: string, code: 'RE_NO_RULES' | 'RE_READ', message: string): LoadResult {
  r.problems.error({ file: displayName(resolve(dir)), line: 1, col: 1 }, code, message)
  return { ...r, ruleset: null }
}

/** Loads the directory once more and swaps it in when it is whole; anything else only sets lastError. */
export async function reloadRules(dir: string, holder: RulesetHolder, opts: ServeLoadOptions = {}): Promise<{ ok: boolean; problems: Problem[] }> {
  const { ruleset, problems } = await loadRules(dir, opts)
  if (ruleset) {
    holder.current = ruleset
    holder.lastError = null
  } else {
    holder.lastError = { at: new Date(), problems: problems.errors }
  }
  holder.reloads++
  return { ok: ruleset !== null, problems: problems.items }
}

/** A holder's rules and how its last reload went, as a worker process is sent them. */
export interface RulesState {
  /** The files its current ruleset was compiled from. */
  source: RuleFiles
  lastError: { at: string; problems: Problem[] } | null
  reloads: number
}

export function rulesState(h: RulesetHolder): RulesState {
  return { source: h.current.source, lastError: h.lastError && { at: h.lastError.at.toISOString(), problems: h.lastError.problems }, reloads: h.reloads }
}

/**
 * Takes rules read elsewhere (a worker's primary): compiles their files unless they are the ones
 * served already, and takes their reload state. `ok` is false when the reload they come from failed.
 */
export async function takeRules(holder: RulesetHolder, s: RulesState, opts: LoadOptions = {}): Promise<{ ok: boolean; hash: string }> {
  const compiled = s.source.hash === holder.current.hash ? null : await loadRuleset(s.source, opts)
  if (compiled?.ruleset) holder.current = compiled.ruleset
  const failed = compiled && !compiled.ruleset ? { at: new Date(), problems: compiled.problems.errors } : null
  holder.lastError = failed ?? (s.lastError && { at: new Date(s.lastError.at), problems: s.lastError.problems })
  holder.reloads = s.reloads
  return { ok: !holder.lastError, hash: holder.current.hash }
}

export interface Watcher {
  /** Resolves once the watcher sees changes (edits before that are missed). */
  ready: Promise<void>
  close(): Promise<void>
  /** Resolves after the next reload (for tests and tools that wait on a reload). */
  next(): Promise<void>
  /** Reloads now (SIGHUP), after any reload under way. */
  reload(): void
}

/**
 * Reloads one at a time: when files change (after `settleMs` without a change), unless `watch` is
 * false, and on reload().
 */
export function watchRules(dir: string, holder: RulesetHolder, onResult: (ok: boolean, problems: Problem[]) => void, opts: ServeLoadOptions & { watch?: boolean } = {}): Watcher {
  let timer: NodeJS.Timeout | null = null
  let running: Promise<void> | null = null
  let again = false
  let waiters: (() => void)[] = []
  let closed = false

  const rebuild = async (): Promise<void> => {
    const { ok, problems } = await reloadRules(dir, holder, opts)
    onResult(ok, problems)
  }

  const run = (): void => {
    if (timer) clearTimeout(timer)
    timer = null
    if (closed) return
    if (running) { again = true; return }
    running = rebuild().finally(() => {
      running = null
      if (again) { again = false; run(); return }
      const ws = waiters
      waiters = []
      for (const f of ws) f()
    })
  }

  const changed = (): void => {
    if (timer) clearTimeout(timer)
    timer = setTimeout(run, opts.settleMs ?? DEFAULT_SETTLE_MS)
  }
  const files = opts.watch === false ? null : watchDir(dir, changed)

  return {
    ready: files?.ready ?? Promise.resolve(),
    async close() {
      closed = true
      if (timer) clearTimeout(timer)
      await files?.close()
      await running
    },
    next: () => new Promise<void>((resolve) => waiters.push(resolve)),
    reload: run,
  }
}
