// The real coding agents, run headless against a base URL: Claude Code (`claude -p`), Codex CLI
// (`codex exec`) and Continue CLI (`cn -p`, a Chat Completions client), at the versions
// scripts/install-agents.mjs pins and installs into its cache.
// Each run gets a fresh working folder holding hello.txt with random content, a fresh HOME (and
// CODEX_HOME), an environment built from scratch (nothing of the caller's keys or settings leaks in),
// an HTTPS/HTTP proxy that refuses every connection (so nothing leaves the machine; the attempts are
// recorded), small retry limits, and a hard time limit after which the agent's process group is killed.
import { execFile, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const INSTALL = fileURLToPath(new URL('../../scripts/install-agents.mjs', import.meta.url))

/** The key the agents send (x-api-key / Bearer); the gateway in front of the mocks ignores it. */
export const AGENT_KEY = 'sk-route-engine-e2e'

export interface AgentBins { claude: string; codex: string; cn: string }

let bins: Promise<AgentBins> | null = null

/** The pinned CLIs, installed from the npm registry on first use; rejects, with npm's output, when that fails. */
export function agentBins(): Promise<AgentBins> {
  bins ??= new Promise((resolve, reject) => {
    execFile(process.execPath, [INSTALL], { timeout: 900_000, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`scripts/install-agents.mjs failed (${err.message}):\n${stderr}`))
      else resolve(JSON.parse(stdout) as AgentBins)
    })
  })
  return bins
}

export interface Workspace {
  /** The agent's working folder. */
  dir: string
  /** dir/hello.txt */
  file: string
  /** What hello.txt holds: random, so only a tool that read the file can know it. */
  content: string
  home: string
  remove(): Promise<void>
}

export async function workspace(): Promise<Workspace> {
  const root = await mkdtemp(join(tmpdir(), 'route-engine-agent-'))
  const dir = join(root, 'work')
  const home = join(root, 'home')
  await mkdir(dir)
  await mkdir(home)
  const content = `hello-${randomBytes(12).toString('hex')}`
  const file = join(dir, 'hello.txt')
  await writeFile(file, `${content}\n`)
  return { dir, file, content, home, remove: () => rm(root, { recursive: true, force: true }) }
}

export interface AgentRun {
  exitCode: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
  /** Wall time from spawn to exit. */
  seconds: number
  /** Killed at the time limit. */
  timedOut: boolean
  /** Connections the agent tried to open through the proxy, e.g. "CONNECT api.anthropic.com:443". */
  proxied: string[]
}

/** A run's outcome in a few lines, for assertion messages. */
export function describeRun(r: AgentRun): string {
  const tail = (s: string) => s.trim().split('\n').slice(-15).join('\n')
  return `exit ${r.exitCode ?? r.signal}${r.timedOut ? ' (killed at the time limit)' : ''} after ${r.seconds.toFixed(1)} s\n--- stdout\n${tail(r.stdout)}\n--- stderr\n${tail(r.stderr)}`
}

/** A proxy that answers every request and CONNECT with 403, and records what was asked. */
async function refusingProxy() {
  const attempts: string[] = []
  const server = createServer((req, res) => { attempts.push(`${req.method} ${req.url}`); res.writeHead(403).end() })
  server.on('connect', (req, socket) => { attempts.push(`CONNECT ${req.url}`); socket.end('HTTP/1.1 403 Forbidden\r\n\r\n') })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    attempts,
    close: () => { server.closeAllConnections(); return new Promise<void>((r) => server.close(() => r())) },
  }
}

interface RunOptions {
  ws: Workspace
  /** Where the agent sends its model calls (see runClaude / runCodex for the form). */
  baseUrl: string
  model: string
  prompt?: string
  /** Hard limit; the default bounds a run that retries or hangs. */
  timeoutMs?: number
  /** Added to the agent's environment. */
  env?: Record<string, string>
}

const DEFAULT_TIMEOUT_MS = 90_000

async function run(bin: string, args: string[], o: RunOptions, env: Record<string, string>): Promise<AgentRun> {
  const proxy = await refusingProxy()
  try {
    const started = performance.now()
    // Through env(1) with NODE_OPTIONS unset: tap's process tracking adds its loader to every spawn's
    // NODE_OPTIONS, whatever env is given (Continue CLI under load: 34-44 s a run with it, 17-21 s without).
    const child = spawn('env', ['-u', 'NODE_OPTIONS', bin, ...args], {
      cwd: o.ws.dir,
      detached: true, // its own process group, so the time limit ends what the agent started too
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: o.ws.home,
        SHELL: '/bin/sh',
        LANG: 'C.UTF-8',
        TERM: 'dumb',
        NO_COLOR: '1',
        HTTPS_PROXY: proxy.url, HTTP_PROXY: proxy.url, https_proxy: proxy.url, http_proxy: proxy.url,
        NO_PROXY: '127.0.0.1,localhost', no_proxy: '127.0.0.1,localhost',
        ...env,
        ...o.env,
      },
    })
    let stdout = ''
    let stderr = ''
    child.stdout!.on('data', (d) => { stdout += String(d) })
    child.stderr!.on('data', (d) => { stderr += String(d) })
    // 'close' comes after the pipes end; a spawn failure rejects the 'exit' wait below instead.
    const closed = once(child, 'close').catch(() => undefined)
    const killGroup = () => { try { process.kill(-child.pid!, 'SIGKILL') } catch { /* already gone */ } }
    let timedOut = false
    const timer = setTimeout(() => { timedOut = true; killGroup() }, o.timeoutMs ?? DEFAULT_TIMEOUT_MS)
    try {
      const [exitCode, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null]
      const seconds = (performance.now() - started) / 1000
      killGroup() // anything the agent left running (a shell session) would hold its output pipes open
      await closed
      return { exitCode, signal, stdout, stderr, seconds, timedOut, proxied: proxy.attempts }
    } finally {
      clearTimeout(timer)
    }
  } finally {
    await proxy.close()
  }
}

/** `claude -p PROMPT --model MODEL`; baseUrl is ANTHROPIC_BASE_URL: an origin (Claude Code appends /v1/messages). */
export async function runClaude(o: RunOptions): Promise<AgentRun> {
  const { claude } = await agentBins()
  return run(claude, ['-p', o.prompt ?? 'What does hello.txt say?', '--model', o.model], o, {
    ANTHROPIC_BASE_URL: o.baseUrl,
    ANTHROPIC_API_KEY: AGENT_KEY,
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    DISABLE_AUTOUPDATER: '1',
    CLAUDE_CODE_MAX_RETRIES: '1',
  })
}

/** `codex exec PROMPT` with a provider whose base_url is baseUrl (Codex appends /responses: give it .../v1). */
export async function runCodex(o: RunOptions): Promise<AgentRun> {
  const { codex } = await agentBins()
  const codexHome = join(o.ws.home, '.codex')
  await mkdir(codexHome)
  const q = JSON.stringify // a TOML basic string, for these plain values
  await writeFile(join(codexHome, 'config.toml'), [
    `model = ${q(o.model)}`,
    'model_provider = "e2e"',
    '[model_providers.e2e]',
    'name = "route-engine e2e"',
    `base_url = ${q(o.baseUrl)}`,
    'wire_api = "responses"',
    'env_key = "ROUTE_ENGINE_E2E_KEY"',
    'request_max_retries = 1',
    'stream_max_retries = 1',
    '',
  ].join('\n'))
  const args = ['exec', '--skip-git-repo-check', '--dangerously-bypass-approvals-and-sandbox', '--color', 'never', '-C', o.ws.dir, o.prompt ?? 'What does hello.txt say?']
  return run(codex, args, o, { CODEX_HOME: codexHome, ROUTE_ENGINE_E2E_KEY: AGENT_KEY })
}

/**
 * `cn -p PROMPT` with a config.yaml holding one `provider: openai` model at apiBase = baseUrl (give it
 * .../v1: Continue appends /chat/completions, or /responses for the names it sends there, gpt-5* and o*).
 */
export async function runContinue(o: RunOptions): Promise<AgentRun> {
  const { cn } = await agentBins()
  const config = join(o.ws.home, 'config.yaml')
  const q = JSON.stringify // a YAML double-quoted string, for these plain values
  await writeFile(config, [
    'name: route-engine e2e',
    'version: 0.0.1',
    'schema: v1',
    'models:',
    '  - name: e2e',
    '    provider: openai',
    `    model: ${q(o.model)}`,
    `    apiBase: ${q(o.baseUrl)}`,
    `    apiKey: ${q(AGENT_KEY)}`,
    '    roles: [chat]',
    '',
  ].join('\n'))
  return run(cn, ['-p', '--config', config, o.prompt ?? 'What does hello.txt say?'], o, {
    CONTINUE_CLI_ENABLE_TELEMETRY: '0', // Continue's own switch for its metrics export
  })
}
