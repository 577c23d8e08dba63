// engine/ → dist/, built aside in dist.tmp/ and swapped in whole: an interrupted build leaves the previous
// dist/ (or none), never half of one, and a file removed from engine/ does not linger in dist/.
//
// `--if-typescript` is for npm's `prepare`, which runs on every install in a checkout or an unpacked
// tarball, `npm ci --omit=dev` included, where TypeScript (a dev dependency) is absent: then it builds
// nothing and says so (the tarball and the Dockerfile bring dist/ built). `npm pack` and `npm publish`
// always build.
import { spawnSync } from 'node:child_process'
import { renameSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const packing = ['pack', 'publish'].includes(process.env.npm_command ?? '')
let tsc
try {
  tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
} catch {
  if (process.argv.includes('--if-typescript') && !packing) {
    console.log('route-engine: TypeScript is not installed (a production install): dist/ is not built here')
    process.exit(0)
  }
  console.error('route-engine: cannot build dist/: TypeScript is not installed (run `npm install` with the dev dependencies)')
  process.exit(1)
}
const tmp = `${root}dist.tmp`
rmSync(tmp, { recursive: true, force: true })
const { status } = spawnSync(process.execPath, [tsc, '-p', `${root}tsconfig.build.json`, '--outDir', tmp], { stdio: 'inherit' })
if (status !== 0) process.exit(status ?? 1)
rmSync(`${root}dist`, { recursive: true, force: true })
renameSync(tmp, `${root}dist`)
