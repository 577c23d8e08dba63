// `route-engine serve` as a user runs it: the built CLI in a child process, its JSON log lines read as
// they come, so a test waits on what the server says (listening, reloaded, stopped), never on time.
import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'

const bin = new URL('../../bin/route-engine.js', import.meta.url).pathname

export interface CliServer {
  url: string
  child: ChildProcess
  /** Every log line so far, parsed. */
  logs: any[]
  /** Resolves with the next log line (from now on) that `test` accepts. */
  next(test: (rec: any) => boolean): Promise<any>
  /** Sends a signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>
}

export async function serveCli(args: string[], env: Record<string, string | undefined> = {}): Promise<CliServer> {
  const child = spawn(process.execPath, [bin, 'serve', '--port', '0', ...args], {
    env: { ...process.env, ROUTE_ENGINE_KEYS: '', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stderr = ''
  child.stderr!.on('data', (d) => { stderr += String(d) })
  const logs: any[] = []
  let waiters: { test: (rec: any) => boolean; resolve: (rec: any) => void }[] = []
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  createInterface({ input: child.stdout! }).on('line', (l) => {
    const rec = JSON.parse(l)
    logs.push(rec)
    const hit = waiters.filter((w) => w.test(rec))
    waiters = waiters.filter((w) => !hit.includes(w))
    for (const w of hit) w.resolve(rec)
  })
  const next = (test: (rec: any) => boolean) => new Promise<any>((resolve, reject) => {
    waiters.push({ test, resolve })
    void exited.then((code) => reject(new Error(`the server exited (${code}) ${stderr}`)))
  })
  const listening = await next((r) => r.msg === 'route-engine listening')
  return {
    url: listening.url,
    child,
    logs,
    next,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null) child.kill(signal)
      return exited
    },
  }
}
