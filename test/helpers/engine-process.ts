// route-engine on a rules directory (startEngine of ./server.js), run in a child process of its own.
// Why: tap tracks every async resource of a test process (async-hook-domain), and the engine's JSONata
// evaluation creates many promises; a long end-to-end test runs about twice as fast with the engine
// outside the test process. The child gets the parent's loader flags (TypeScript) and environment
// as they are when it starts.
import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { ServerOptions } from '../../engine/server.js'

export interface EngineProcess {
  url: string
  /** Every log line the engine wrote so far. */
  logs(): Promise<string[]>
  close(): Promise<void>
}

type Reply = { url?: string; error?: string; logs?: string[] }

/** `opts`: server options passed to the child as JSON. */
export async function startEngineProcess(rulesDir: string, opts: Partial<Pick<ServerOptions, 'keys' | 'corsOrigins'>> = {}): Promise<EngineProcess> {
  const child = fork(fileURLToPath(import.meta.url), ['--engine-child', rulesDir, JSON.stringify(opts)], {
    env: { ...process.env },
    execArgv: process.execArgv,
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  })
  const next = (): Promise<Reply> => new Promise((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`the engine process exited (${code})`))
    child.once('exit', onExit)
    child.once('message', (m) => { child.off('exit', onExit); resolve(m as Reply) })
  })
  const started = await next()
  if (!started.url) { child.kill(); throw new Error(started.error ?? 'the engine process did not start') }
  return {
    url: started.url,
    async logs() {
      const reply = next()
      child.send('logs')
      return (await reply).logs ?? []
    },
    async close() {
      if (child.exitCode !== null) return
      const exited = new Promise((resolve) => child.once('exit', resolve))
      child.send('close')
      await exited
    },
  }
}

if (process.argv[2] === '--engine-child' && process.send) {
  const send = (m: Reply) => process.send!(m)
  const { startEngine } = await import('./server.js')
  try {
    const engine = await startEngine(process.argv[3]!, JSON.parse(process.argv[4] ?? '{}'))
    process.on('message', async (m) => {
      if (m === 'logs') send({ logs: engine.logs })
      if (m === 'close') { await engine.close(); process.exit(0) }
    })
    process.on('disconnect', () => process.exit(0))
    send({ url: engine.url })
  } catch (e) {
    send({ error: String((e as Error).stack ?? e) })
    process.exit(1)
  }
}
