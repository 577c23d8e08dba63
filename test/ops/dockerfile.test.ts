// The Dockerfile, proven without a container runtime (this machine has a docker client but no daemon,
// and no registry to pull the base image from): its build steps replayed in a clean folder per stage
// (helpers/dockerfile.ts), then the image's CMD run as the container would run it, where the machine
// allows (root): PID 1 of a new PID namespace (unshare), as an unprivileged user (setpriv). It must
// refuse to start without inbound keys, serve with them, pass its HEALTHCHECK, and on SIGTERM drain: a
// stream in flight finishes, the health check fails, the process exits 0.
import t from 'tap'
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { request } from 'undici'
import { replay, type Stage } from '../helpers/dockerfile.js'
import { transcript } from '../helpers/pack-upstream.js'

t.setTimeout(600_000) // two `npm ci` in clean folders

const context = fileURLToPath(new URL('../../', import.meta.url))
const KEY = 'test-inbound-key'
const asRoot = process.getuid?.() === 0 && spawnSync('unshare', ['--pid', '--fork', 'true']).status === 0
const NOBODY = 65534

let image: Stage
let stages: Stage[]

t.before(async () => {
  const into = mkdtempSync(join(tmpdir(), 're-docker-'))
  chmodSync(into, 0o755) // the unprivileged user reads the image's files
  t.teardown(() => rmSync(into, { recursive: true, force: true })) // two node_modules: ~200 MB
  stages = await replay(join(context, 'Dockerfile'), context, into)
  image = stages.at(-1)!
})

t.test('the build: two stages on Node 20, the image installed with npm ci --omit=dev, no TypeScript in it', async (t) => {
  t.ok(stages.length >= 2, 'multi-stage')
  for (const s of stages) t.match(s.from, /^node:20[-.]/, `${s.from}: the Node major of engines and of this replay`)
  t.equal(process.versions.node.split('.')[0], '20')
  t.ok(image.runs.some((r) => /\bnpm ci --omit=dev\b/.test(r)), 'the image installs with npm ci --omit=dev')
  const app = join(image.root, image.workdir)
  t.ok(existsSync(join(app, 'dist/main.js')), 'dist/ from the build stage')
  t.notOk(existsSync(join(app, 'node_modules/typescript')), 'no dev dependency in the image')
  t.ok(existsSync(join(app, 'node_modules/jsonata')), 'the production dependencies')
  t.notOk(existsSync(join(app, 'engine')), 'no TypeScript sources in the image')
  t.ok(existsSync(join(app, 'rules/00-upstreams.yaml')), 'the shipped rules at /app/rules')
  t.ok(image.user && !['root', '0'].includes(image.user), `USER ${image.user}: not root`)
  t.same(image.expose, [image.env.PORT], 'EXPOSE is the PORT it listens on')
  t.equal(image.env.HOST, '0.0.0.0')
  t.match(image.cmd?.join(' '), /^node bin\/route-engine\.js serve --rules \/app\/rules$/, 'node itself is the process, no shell or npm in between')
})

/** The image's CMD (or HEALTHCHECK) as a process: `node` is this Node, absolute paths are in the image. */
function inImage(argv: string[], env: Record<string, string>, opts: { pid1?: boolean } = {}): ChildProcess {
  const mapped = argv.map((a, i) => (i === 0 && a === 'node' ? process.execPath : a.startsWith('/') && existsSync(join(image.root, a)) ? join(image.root, a) : a))
  const user = asRoot ? ['setpriv', `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups'] : []
  const ns = asRoot && opts.pid1 ? ['unshare', '--pid', '--fork', '--kill-child'] : []
  const full = [...ns, ...user, ...mapped]
  return spawn(full[0]!, full.slice(1), {
    cwd: join(image.root, image.workdir),
    env: { PATH: process.env.PATH!, ...image.env, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
}

const exitOf = (child: ChildProcess) => new Promise<number | null>((resolve) => {
  if (child.exitCode !== null) resolve(child.exitCode)
  else child.once('exit', (code) => resolve(code))
})
const healthcheck = (port: number) => exitOf(inImage(image.healthcheck!, { PORT: String(port) }))

t.test('without inbound keys the container says what to set and exits 2', async (t) => {
  const child = inImage(image.cmd!, { ROUTE_ENGINE_KEYS: '' })
  let stderr = ''
  child.stderr!.on('data', (d) => { stderr += d })
  t.equal(await exitOf(child), 2)
  t.match(stderr, /refusing to listen on 0\.0\.0\.0 without inbound keys: set ROUTE_ENGINE_KEYS \(or pass --insecure-no-auth\)/)
})

t.test('with keys it serves, passes its HEALTHCHECK, and SIGTERM to PID 1 drains a stream in flight', async (t) => {
  // the upstream sends the stream's first event, then holds the rest until the drain has begun
  const sse = transcript('chat-completions', 'text.sse')
  const cut = sse.indexOf('\n\n') + 2
  let hold!: ServerResponse
  let received!: () => void
  const inFlight = new Promise<void>((resolve) => { received = resolve })
  const upstream = createServer((req, res) => {
    req.resume()
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    res.write(sse.slice(0, cut))
    hold = res
    received()
  })
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { upstream.closeAllConnections(); upstream.close() })

  const child = inImage(image.cmd!, { ROUTE_ENGINE_KEYS: KEY, PORT: '0', OPENAI_COMPAT_BASE_URL: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}` }, { pid1: true })
  t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL') })
  const logs: any[] = []
  let waiting: { msg: string; resolve: (rec: any) => void } | undefined
  createInterface({ input: child.stdout! }).on('line', (l) => {
    const rec = JSON.parse(l)
    logs.push(rec)
    if (waiting && rec.msg.startsWith(waiting.msg)) waiting.resolve(rec)
  })
  /** The first log line whose message starts with `msg`. */
  const nextLog = (msg: string) => new Promise<any>((resolve) => {
    const seen = logs.find((r) => r.msg.startsWith(msg))
    if (seen) resolve(seen)
    else waiting = { msg, resolve }
  })
  const listening = await nextLog('route-engine listening')
  const port = Number(new URL(listening.url).port)
  t.match(listening.url, /^http:\/\/0\.0\.0\.0:\d+$/, 'on every address of the container')
  t.equal(listening.auth, true)

  // the process the signal goes to: node itself, PID 1 of its namespace, not root
  let pid = child.pid!
  if (asRoot) {
    pid = Number(readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim())
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    t.match(status, /^NSpid:\s+\d+\s+1$/m, 'node is PID 1 in its PID namespace')
    t.match(status, new RegExp(`^Uid:\\s+${NOBODY}\\s`, 'm'), 'node runs unprivileged')
    t.match(readFileSync(`/proc/${pid}/cmdline`, 'utf8'), /route-engine\.js\0serve/)
  } else {
    t.comment('not root: the CMD runs without a PID namespace and as this user')
  }

  t.equal(await healthcheck(port), 0, 'HEALTHCHECK passes')
  const unauthorized = await request(`http://127.0.0.1:${port}/v1/models`)
  await unauthorized.body.dump()
  t.equal(unauthorized.statusCode, 401, 'keys are required')

  const res = await request(`http://127.0.0.1:${port}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'some-local-model', stream: true, messages: [{ role: 'user', content: 'Hi' }] }),
  })
  t.equal(res.statusCode, 200)
  await inFlight
  const body = res.body.text()

  process.kill(pid, 'SIGTERM')
  const draining = await nextLog('draining')
  t.ok(draining.deadlineMs < 10_000, `the drain (${draining.deadlineMs} ms) ends before docker stop kills, 10 s after SIGTERM`)
  t.equal(await healthcheck(port), 1, 'a draining server fails its HEALTHCHECK')
  hold.end(sse.slice(cut))
  const text = await body
  t.match(text, /"content":"The"/, 'the stream in flight got its events')
  t.match(text, /data: \[DONE\]\n\n$/, 'and its end')
  t.equal(await exitOf(child), 0, 'exit 0 after the drain')
  const stopped = logs.find((r) => r.msg === 'stopped')
  t.ok(stopped, 'logged "stopped"')
  t.equal(stopped?.cut, 0, 'nothing was cut')
})
