// Watches a directory's rule files, including when the directory itself is a symbolic link that a
// deploy swaps (`--rules current`, `current -> releases/v7`): a watch on the old target would go on
// reporting a directory nothing reads any more. The watch is on the resolved target, and the path is
// resolved again every second; when it leads elsewhere (or to a directory made anew), the watch moves
// there and the change is reported.
import { realpath, stat } from 'node:fs/promises'
import { watch, type FSWatcher } from 'chokidar'
import { RULE_FILE } from './list-files.js'

export interface DirWatch {
  /** Resolves once changes are seen (edits before that are missed). */
  ready: Promise<void>
  close(): Promise<void>
}

/** How often the directory's path is resolved again: a symbolic link swap raises no event where the watch is. */
const RESOLVE_EVERY_MS = 1000

export function watchDir(dir: string, onChange: () => void): DirWatch {
  let target: Target | null = null
  let w: FSWatcher | null = null
  let closed = false

  /** Watches where the path leads now; true when that is somewhere else than before. */
  const follow = async (): Promise<boolean> => {
    const now = await locate(dir)
    if (now?.key === target?.key || closed) return false
    target = now
    const old = w
    w = null
    await old?.close()
    if (now) {
      const fresh = watch(now.path, { ignoreInitial: true, ignored: (p, stats) => !!stats?.isFile() && !RULE_FILE.test(p) })
      fresh.on('all', onChange)
      // A file the watcher cannot follow (permissions, a vanished link) is for the next load to report.
      fresh.on('error', onChange)
      await new Promise<void>((resolve) => fresh.once('ready', () => resolve()))
      if (closed) await fresh.close()
      else w = fresh
    }
    return true
  }

  const ready = follow().then(() => {})
  let following: Promise<unknown> = ready
  const timer = setInterval(() => {
    following = following.then(follow).then((moved) => { if (moved && !closed) onChange() }, onChange)
  }, RESOLVE_EVERY_MS)
  timer.unref()

  return {
    ready,
    async close() {
      closed = true
      clearInterval(timer)
      await following
      await w?.close()
    },
  }
}

type Target = { key: string; path: string }

/** Where the path leads now; a directory made anew at the same path counts as another. */
async function locate(dir: string): Promise<Target | null> {
  try {
    const path = await realpath(dir)
    const s = await stat(path)
    return { key: `${s.dev}:${s.ino}:${path}`, path }
  } catch {
    return null
  }
}
