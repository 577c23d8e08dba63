// What a registry user gets: the tarball `npm pack` makes (its file list, without running the build),
// checked for the license, docs whose links resolve inside it, source maps (none, or with their
// sources), the files its install and start scripts run, and the JSONata version the compiler is proven on.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { dirname, join, normalize } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('../../', import.meta.url))
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
const packed = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8' })
const files = new Set<string>(packed.status === 0 ? JSON.parse(packed.stdout)[0].files.map((f: { path: string }) => f.path) : [])

t.test('npm pack lists the files', async (t) => {
  t.equal(packed.status, 0, packed.stderr)
  t.ok(files.has('dist/main.js'), 'dist/ is built and shipped')
})

t.test('license, readme and docs are in the tarball', async (t) => {
  t.equal(pkg.license, 'MIT')
  t.match(readFileSync(join(root, 'LICENSE'), 'utf8'), /^MIT License\n/)
  for (const f of ['LICENSE', 'README.md', 'package.json', 'docs/operations.md', 'docs/rules.md', 'docs/guide.md']) t.ok(files.has(f), f)
})

t.test('every relative link in a shipped markdown file resolves to a shipped file', async (t) => {
  const docs = [...files].filter((f) => f.endsWith('.md'))
  let links = 0
  for (const doc of docs) {
    const text = readFileSync(join(root, doc), 'utf8')
    for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^(https?:|mailto:|#)/.test(target!)) continue
      links++
      const path = normalize(join(dirname(doc), target!.replace(/#.*$/, '')))
      t.ok(files.has(path) || [...files].some((f) => f.startsWith(path + '/')), `${doc} → ${target}`)
    }
  }
  t.ok(links >= 5, `the README's and docs' links were found (${links})`)
})

t.test('source maps point at shipped files, or there are none', async (t) => {
  const maps = [...files].filter((f) => f.endsWith('.map'))
  for (const map of maps) {
    for (const source of JSON.parse(readFileSync(join(root, map), 'utf8')).sources as string[]) {
      t.ok(files.has(normalize(join(dirname(map), source))), `${map} → ${source}`)
    }
  }
  for (const js of [...files].filter((f) => f.endsWith('.js'))) {
    const ref = /\/\/# sourceMappingURL=(\S+)\s*$/.exec(readFileSync(join(root, js), 'utf8'))?.[1]
    if (ref) t.ok(files.has(normalize(join(dirname(js), ref))), `${js} → ${ref}`)
  }
})

t.test('the files the bin and the install and start scripts run are shipped', async (t) => {
  for (const bin of Object.values(pkg.bin as Record<string, string>)) t.ok(files.has(normalize(bin)), `bin ${bin}`)
  for (const name of ['preinstall', 'install', 'postinstall', 'prepare', 'start']) {
    const script: string | undefined = pkg.scripts[name]
    if (!script) continue
    for (const [, file] of script.matchAll(/\bnode (\S+)/g)) t.ok(files.has(normalize(file!)), `${name}: ${file}`)
  }
})

t.test('jsonata is pinned to the version installed (the compiler in engine/expr/ is proven against it)', async (t) => {
  const pinned: string = pkg.dependencies.jsonata
  t.match(pinned, /^\d+\.\d+\.\d+$/, 'an exact version, no range')
  t.equal(JSON.parse(readFileSync(join(root, 'node_modules/jsonata/package.json'), 'utf8')).version, pinned)
})
