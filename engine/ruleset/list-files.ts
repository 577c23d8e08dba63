// Which files under a rules directory are rule sources. Symbolic links are followed, files and
// directories alike: a Kubernetes ConfigMap volume is `foo.yaml -> ..data/foo.yaml`, `..data ->
// ..2026_12_07_…/`, and a deploy may point the rules path itself at `releases/vN`. Dot-entries are
// skipped (editors' temp files, and the ConfigMap's own `..data` / `..<timestamp>` copies of what the
// visible links already show), and a file reached twice through links is listed once.
import { readdir, realpath, stat } from 'node:fs/promises'
import { join } from 'node:path'

/** Rule files (YAML), transforms (JSONata) and JSON Schemas for `validate:` steps. */
export const RULE_FILE = /\.(ya?ml|jsonata|json)$/

/**
 * Absolute paths of the rule files under `root`, sorted (rule order follows file order), each file
 * once: at the first path that reaches it. A symbolic link with a rule file's name whose target is
 * missing is listed, so that reading it reports it rather than the rules going without it.
 */
export async function listRuleFiles(root: string): Promise<string[]> {
  const found: { path: string; real: string | null }[] = []
  const dirs = new Set<string>()
  const walk = async (dir: string): Promise<void> => {
    // A link back to a directory already walked would loop.
    const real = await realpath(dir)
    if (dirs.has(real)) return
    dirs.add(real)
    for (const e of await readdir(dir, { withFileTypes: true })) {
      if (e.name.startsWith('.') || e.name === 'node_modules') continue
      const p = join(dir, e.name)
      let kind: 'dir' | 'file' | 'other' = e.isDirectory() ? 'dir' : e.isFile() ? 'file' : 'other'
      if (e.isSymbolicLink()) {
        const target = await stat(p).catch(() => null)
        if (!target) {
          if (RULE_FILE.test(e.name)) found.push({ path: p, real: null })
          continue
        }
        kind = target.isDirectory() ? 'dir' : target.isFile() ? 'file' : 'other'
      }
      // examples/ holds rule examples (route-engine test), not rules.
      if (kind === 'dir' && e.name !== 'examples') await walk(p)
      else if (kind === 'file' && RULE_FILE.test(e.name)) found.push({ path: p, real: await realpath(p).catch(() => null) })
    }
  }
  await walk(root)
  found.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
  const files = new Set<string>()
  const out: string[] = []
  for (const f of found) {
    if (f.real !== null && files.has(f.real)) continue
    if (f.real !== null) files.add(f.real)
    out.push(f.path)
  }
  return out
}
