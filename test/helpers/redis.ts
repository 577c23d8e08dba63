// A real redis-server for tests: on a free loopback port, no persistence, in a temporary directory.
// kill() and start() stop and restart it on the same port (an outage); pause() and resume() stall it
// (SIGSTOP: connections stay open, nothing answers). Resolves once the server says it is ready.
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface RedisServer {
  url: string
  port: number
  /** SIGKILL: gone at once, and its data with it. */
  kill(): Promise<void>
  /** Starts it again on the same port (empty). */
  start(): Promise<void>
  pause(): void
  resume(): void
  stop(): Promise<void>
}

async function freePort(): Promise<number> {
  const s = createServer().listen(0, '127.0.0.1')
  await once(s, 'listening')
  const port = (s.address() as { port: number }).port
  await new Promise((r) => s.close(r))
  return port
}

export async function startRedis(): Promise<RedisServer> {
  const port = await freePort()
  const dir = mkdtempSync(join(tmpdir(), 'redis-test-'))
  let child: ChildProcess | null = null
  const start = async () => {
    const c = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] })
    child = c
    let out = ''
    await new Promise<void>((resolve, reject) => {
      const onData = (d: Buffer) => {
        out += String(d)
        if (out.includes('Ready to accept connections')) { c.stdout!.off('data', onData); c.stdout!.resume(); resolve() }
      }
      c.stdout!.on('data', onData)
      c.stderr!.on('data', (d) => { out += String(d) })
      c.once('exit', (code) => reject(new Error(`redis-server exited (${code}): ${out}`)))
      c.once('error', reject)
    })
  }
  const kill = async () => {
    const c = child
    if (!c || c.exitCode !== null || c.signalCode !== null) return
    const exited = once(c, 'exit')
    c.kill('SIGKILL')
    await exited
  }
  await start()
  return {
    url: `redis://127.0.0.1:${port}/0`,
    port,
    kill,
    start,
    pause: () => { child?.kill('SIGSTOP') },
    resume: () => { child?.kill('SIGCONT') },
    async stop() {
      child?.kill('SIGCONT')
      await kill()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
