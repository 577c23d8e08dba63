// Real servers on 127.0.0.1:0 for end-to-end tests: a scriptable mock upstream, and route-engine
// itself on a rules directory.
import { once } from 'node:events'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Writable } from 'node:stream'
import type { Limits } from '../../engine/expr/compile.js'
import { createLogger } from '../../engine/log.js'
import { loadRuleset } from '../../engine/ruleset/compile.js'
import { formatProblem } from '../../engine/ruleset/problems.js'
import { watchRules, type RulesetHolder, type Watcher } from '../../engine/ruleset/reload.js'
import { startServer, type ServerOptions } from '../../engine/server.js'
import { MemoryStore } from '../../engine/store/memory.js'

export interface Seen {
  method: string
  url: string
  headers: IncomingMessage['headers']
  body: string
  json: any
}

export interface Mock {
  url: string
  seen: Seen[]
  server: Server
  /** Resolves when the next request to the mock is closed by its client. */
  closed(): Promise<void>
  close(): Promise<void>
}

export async function mockUpstream(handler: (req: Seen, res: ServerResponse) => void | Promise<void>): Promise<Mock> {
  const seen: Seen[] = []
  let closedWaiters: (() => void)[] = []
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = []
    for await (const c of req) chunks.push(c as Buffer)
    const body = Buffer.concat(chunks).toString('utf8')
    let json: unknown
    try { json = JSON.parse(body) } catch { json = undefined }
    const s: Seen = { method: req.method!, url: req.url!, headers: req.headers, body, json }
    seen.push(s)
    res.on('close', () => { const w = closedWaiters; closedWaiters = []; for (const f of w) f() })
    await handler(s, res)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    server,
    closed: () => new Promise<void>((r) => closedWaiters.push(r)),
    async close() {
      const done = new Promise<void>((r) => server.close(() => r()))
      server.closeAllConnections()
      await done
    },
  }
}

export interface Engine {
  url: string
  holder: RulesetHolder
  logs: string[]
  watcher: Watcher | null
  close(): Promise<void>
}

export async function startEngine(rulesDir: string, opts: Partial<ServerOptions> & { watch?: boolean; limits?: Limits } = {}): Promise<Engine> {
  const { ruleset, problems } = await loadRuleset(rulesDir, { limits: opts.limits })
  if (!ruleset) throw new Error(problems.errors.map((p) => formatProblem(p)).join('\n'))
  const holder: RulesetHolder = { current: ruleset, lastError: null, reloads: 0 }
  const logs: string[] = []
  const sink = new Writable({ write(chunk, _enc, cb) { logs.push(String(chunk)); cb() } })
  const store = new MemoryStore()
  const running = await startServer({
    host: '127.0.0.1', port: 0, holder, store, logger: createLogger('info', sink), keys: [], maxBodyBytes: 1 << 20, maxJsonDepth: 64, ...opts,
  })
  const watcher = opts.watch ? watchRules(rulesDir, holder, () => {}, { limits: opts.limits }) : null
  if (watcher) await watcher.ready
  return {
    url: running.url,
    holder,
    logs,
    watcher,
    async close() {
      await watcher?.close()
      running.server.closeAllConnections()
      await running.close()
    },
  }
}

/** Reads an SSE response body into its data frames (JSON-parsed when possible) and comments. */
export function parseSse(text: string): { frames: any[]; comments: string[] } {
  const frames: any[] = []
  const comments: string[] = []
  for (const block of text.split('\n\n')) {
    for (const line of block.split('\n')) {
      if (line.startsWith('data: ')) { const d = line.slice(6); try { frames.push(JSON.parse(d)) } catch { frames.push(d) } }
      else if (line.startsWith(':')) comments.push(line.slice(1).trim())
    }
  }
  return { frames, comments }
}
