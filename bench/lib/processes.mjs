// The bench's server processes: each runs in a process of its own, so its memory is its own and the
// load generator does not share its event loop.
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { request } from 'undici'

const root = new URL('../../', import.meta.url).pathname

/** A bench server script (bench/servers/*.mjs) that prints {"url"} when it listens. */
export async function startScript(script, env = {}) {
  const child = spawn(process.execPath, [new URL(`../servers/${script}`, import.meta.url).pathname], {
    env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'],
  })
  const url = await new Promise((resolve, reject) => {
    let buf = ''
    child.stdout.on('data', (b) => {
      buf += b
      const nl = buf.indexOf('\n')
      if (nl >= 0) resolve(JSON.parse(buf.slice(0, nl)).url)
    })
    child.once('exit', (code) => reject(new Error(`${script} exited (${code})`)))
  })
  return handle(child, url)
}

/** `route-engine serve` exactly as a user runs it (info logs, here to /dev/null); `nodeArgs` e.g. --cpu-prof. */
export async function startEngine(rulesDir, env = {}, nodeArgs = []) {
  const port = await freePort()
  const child = spawn(process.execPath, [...nodeArgs, `${root}bin/route-engine.js`, 'serve', '--rules', rulesDir, '--port', String(port), '--no-watch'], {
    env: { ...process.env, LOG_LEVEL: 'info', ...env }, stdio: ['ignore', 'ignore', 'inherit'],
  })
  const url = `http://127.0.0.1:${port}`
  // a cold load of the shipped rules takes under a second, much longer on a busy shared machine
  const deadline = performance.now() + 30_000
  for (;;) {
    if (child.exitCode !== null) throw new Error(`route-engine exited (${child.exitCode})`)
    try {
      const r = await request(`${url}/healthz`)
      await r.body.text()
      if (r.statusCode === 200) break
    } catch { /* not listening yet */ }
    if (performance.now() > deadline) throw new Error('route-engine did not start in 30 s')
    await new Promise((r) => setTimeout(r, 25))
  }
  return handle(child, url)
}

function handle(child, url) {
  return {
    url,
    pid: child.pid,
    /** CPU time used so far (user + system), ms, from /proc (10 ms resolution). */
    cpuMs() {
      const f = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1].split(' ')
      return (Number(f[11]) + Number(f[12])) * 10
    },
    /** Resident set size in MB, from /proc. */
    rssMb() {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))
      return m ? Number(m[1]) / 1024 : NaN
    },
    async stop() {
      if (child.exitCode !== null) return
      const exited = new Promise((r) => child.once('exit', r))
      child.kill('SIGTERM')
      await exited
    },
  }
}

async function freePort() {
  const s = createServer()
  await new Promise((r) => s.listen(0, '127.0.0.1', r))
  const { port } = s.address()
  await new Promise((r) => s.close(r))
  return port
}
