// route-engine serve: load the rules, watch them, listen.
import { isIP } from 'node:net'
import { DEFAULT_LIMITS } from '../expr/compile.js'
import { createLogger } from '../log.js'
import { loadRuleset } from '../ruleset/compile.js'
import { formatProblem } from '../ruleset/problems.js'
import { watchRules, type RulesetHolder } from '../ruleset/reload.js'
import { startServer } from '../server.js'
import { MemoryStore } from '../store/memory.js'

export interface ServeFlags {
  rules: string
  host: string
  port: number
  maxBodyBytes: number
  insecureNoAuth: boolean
  watch: boolean
  transformTimeoutMs: number
}

export async function serve(f: ServeFlags): Promise<number> {
  const logger = createLogger()
  const keys = (process.env.ROUTE_ENGINE_KEYS ?? '').split(',').map((k) => k.trim()).filter(Boolean)
  if (!keys.length && !isLoopback(f.host) && !f.insecureNoAuth) {
    process.stderr.write(`refusing to listen on ${f.host} without inbound keys: set ROUTE_ENGINE_KEYS (or pass --insecure-no-auth)\n`)
    return 2
  }
  const limits = { ...DEFAULT_LIMITS, timeoutMs: f.transformTimeoutMs }
  const { ruleset, problems } = await loadRuleset(f.rules, { limits })
  for (const p of problems.items) process.stderr.write(formatProblem(p) + '\n')
  if (!ruleset) {
    process.stderr.write(`${problems.errors.length} problem(s) in ${f.rules}: not starting\n`)
    return 1
  }
  const holder: RulesetHolder = { current: ruleset, lastError: null, reloads: 0 }
  const store = new MemoryStore()
  const server = await startServer({ host: f.host, port: f.port, holder, store, logger, keys, maxBodyBytes: f.maxBodyBytes, maxJsonDepth: 128 })
  const watcher = f.watch
    ? watchRules(f.rules, holder, (ok, probs) => {
        if (ok) logger.info({ hash: holder.current.hash, rules: holder.current.rules.length, warnings: probs.length }, 'rules reloaded')
        else logger.error({ problems: probs.filter((p) => p.severity === 'error').map((p) => formatProblem(p)) }, 'rules reload failed: the previous rules keep serving')
      }, { limits })
    : null
  logger.info({ url: server.url, rules: ruleset.rules.length, hash: ruleset.hash, auth: keys.length > 0 }, 'route-engine listening')
  await new Promise<void>((resolve) => {
    const stop = () => resolve()
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
  })
  await watcher?.close()
  await server.close()
  await store.close()
  return 0
}

function isLoopback(host: string): boolean {
  if (host === 'localhost') return true
  if (isIP(host) === 4) return host.startsWith('127.')
  return host === '::1'
}
