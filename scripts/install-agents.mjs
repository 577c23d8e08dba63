#!/usr/bin/env node
// Installs the coding-agent CLIs that test/e2e/agents drives, at pinned versions, into a cache outside
// node_modules: with their native binaries they weigh ~740 MB, and nothing in the package needs them.
// Idempotent: an install is made in a scratch folder and renamed into place once its binary answered
// `--version`, so a finished folder is a working one and a second run only resolves the paths.
// Prints {"claude": "/abs/bin", "codex": "/abs/bin", "cn": "/abs/bin"} on stdout; progress and failures go to stderr.
//   ROUTE_ENGINE_AGENTS_CACHE   the cache folder (default ~/.cache/route-engine-agents)
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'

/** The one place the versions are pinned (Claude Code and Codex: those test/fixtures/agents was captured with). */
const AGENTS = {
  claude: { pkg: '@anthropic-ai/claude-code', version: '2.1.197' },
  codex: { pkg: '@openai/codex', version: '0.171.0' },
  cn: { pkg: '@continuedev/cli', version: '1.5.47' }, // Continue CLI, the Chat Completions agent (release of 2026-09-08)
}

const cache = process.env.ROUTE_ENGINE_AGENTS_CACHE || join(homedir(), '.cache', 'route-engine-agents')

/** The executable a package's bin field names, in an install folder. */
function binOf(dir, pkg, name) {
  const meta = JSON.parse(readFileSync(join(dir, 'node_modules', pkg, 'package.json'), 'utf8'))
  const rel = typeof meta.bin === 'string' ? meta.bin : meta.bin?.[name]
  if (!rel) throw new Error(`${pkg} in ${dir} has no bin "${name}"`)
  return join(dir, 'node_modules', pkg, rel)
}

/** Runs `bin --version` and checks it names the pinned version. */
function check(bin, version) {
  const out = execFileSync(bin, ['--version'], { encoding: 'utf8', timeout: 120_000, stdio: ['ignore', 'pipe', 'pipe'] })
  if (!out.includes(version)) throw new Error(`${bin} --version printed ${JSON.stringify(out.trim())}, not ${version}`)
}

function install(name, { pkg, version }) {
  const dir = join(cache, `${pkg.split('/').pop()}@${version}`)
  if (existsSync(dir)) return binOf(dir, pkg, name)
  const scratch = `${dir}.partial-${process.pid}`
  rmSync(scratch, { recursive: true, force: true })
  mkdirSync(scratch, { recursive: true })
  try {
    process.stderr.write(`install-agents: npm install ${pkg}@${version} into ${dir}\n`)
    execFileSync('npm', ['install', '--prefix', scratch, '--no-save', '--no-package-lock', '--no-audit', '--no-fund', '--loglevel=warn', `${pkg}@${version}`], {
      cwd: scratch, stdio: ['ignore', 2, 2], timeout: 600_000, // npm's own output to stderr: stdout is the JSON
    })
    check(binOf(scratch, pkg, name), version)
    try {
      renameSync(scratch, dir)
    } catch (e) {
      // Another process finished the same install first: keep its folder.
      if (!existsSync(dir)) throw e
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true })
  }
  return binOf(dir, pkg, name)
}

const bins = {}
try {
  mkdirSync(cache, { recursive: true })
  for (const [name, spec] of Object.entries(AGENTS)) bins[name] = install(name, spec)
} catch (e) {
  process.stderr.write(`install-agents: failed: ${e.message}\n`)
  process.exit(1)
}
process.stdout.write(`${JSON.stringify(bins)}\n`)
