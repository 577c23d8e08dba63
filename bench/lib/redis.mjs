// A redis-server for the bench (no persistence, a free loopback port), and the number of commands it
// has run so far (INFO commandstats), to report Redis calls per request.
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'

/** null when redis-server is not installed. */
export async function startRedisServer() {
  if (spawnSync('redis-server', ['--version']).status !== 0) return null
  const s = createServer()
  await new Promise((r) => s.listen(0, '127.0.0.1', r))
  const { port } = s.address()
  await new Promise((r) => s.close(r))
  const dir = mkdtempSync(join(tmpdir(), 'bench-redis-'))
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: ['ignore', 'pipe', 'inherit'] })
  await new Promise((resolve, reject) => {
    let out = ''
    child.stdout.on('data', (d) => { out += d; if (out.includes('Ready to accept connections')) { child.stdout.resume(); resolve() } })
    child.once('exit', (code) => reject(new Error(`redis-server exited (${code})`)))
  })
  const url = `redis://127.0.0.1:${port}/0`
  const client = new Redis(url)
  return {
    url,
    /** Commands run so far, all kinds (a pipelined batch counts each of its commands). */
    async commands() {
      const info = await client.info('commandstats')
      let n = 0
      for (const m of info.matchAll(/^cmdstat_(\w+):calls=(\d+)/gm)) if (m[1] !== 'info') n += Number(m[2])
      return n
    },
    async stop() {
      client.disconnect()
      const exited = new Promise((r) => child.once('exit', r))
      child.kill('SIGTERM')
      await exited
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
