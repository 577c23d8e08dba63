// Reload under load: the built CLI serves 200 concurrent streams while its rule file is rewritten ten
// times — valid versions and broken ones (YAML, JSONata, an unknown upstream) — and new streams keep
// starting. Every stream must complete, frame for frame, on the rules it started with.
import t from 'tap'
import { spawn } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import type { ServerResponse } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { Agent, request } from 'undici'
import { mockUpstream, parseSse } from '../helpers/server.js'

const bin = new URL('../../bin/route-engine.js', import.meta.url).pathname
const STREAMS = 200
const EVENTS = 10

const rules = (version: number) => `
vars: { version: ${version} }
upstreams:
  mock: { base: "\${LOAD_MOCK_URL}" }
rules:
  - name: stream
    match: { method: POST, path: /stream }
    upstream: { to: mock, path: /sse }
    response:
      stream:
        done: "[DONE]"
        on:
          delta: { emit: '{"n": n, "v": $vars.version}' }
          "*": {}
        end: { emit: '{"end": true}' }
`
const BROKEN = [
  (v: number) => rules(v).replace('vars: {', 'vars: {{'),                         // YAML
  (v: number) => rules(v).replace('"v": $vars.version}', '"v": $vars.version'),    // JSONata
  (v: number) => rules(v).replace('to: mock', 'to: nowhere'),                      // unknown upstream
]

t.test(`${STREAMS} streams in flight while the rules are edited, valid and broken: 0 failures`, async (t) => {
  // Every open stream gets its next event on each tick, and ends after EVENTS of them.
  const open = new Set<{ res: ServerResponse; sent: number }>()
  const tick = () => {
    for (const s of open) {
      s.res.write(`event: delta\ndata: {"n":${s.sent++}}\n\n`)
      if (s.sent === EVENTS) { s.res.end(); open.delete(s) }
    }
  }
  const mock = await mockUpstream((_seen, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    const s = { res, sent: 1 }
    res.write('event: delta\ndata: {"n":0}\n\n')
    open.add(s)
  })
  t.teardown(() => mock.close())

  const dir = mkdtempSync(join(tmpdir(), 're-load-'))
  const file = join(dir, 'rules.yaml')
  writeFileSync(file, rules(1))
  const child = spawn(process.execPath, [bin, 'serve', '--rules', dir, '--port', '0'], { env: { ...process.env, ROUTE_ENGINE_KEYS: '', LOAD_MOCK_URL: mock.url, LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'inherit'] })
  t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL') })
  let onLine: ((rec: any) => void) | null = null
  let url = ''
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the server exited (${code})`)))
    createInterface({ input: child.stdout! }).on('line', (l) => {
      const rec = JSON.parse(l)
      if (rec.msg === 'route-engine listening') { url = rec.url; resolve() }
      onLine?.(rec)
    })
  })
  const reloaded = () => new Promise<boolean>((resolve) => {
    onLine = (rec) => {
      if (rec.msg === 'rules reloaded') resolve(true)
      else if (rec.msg?.startsWith('rules reload failed')) resolve(false)
    }
  })

  const agent = new Agent({ connections: 1000 })
  t.teardown(() => agent.close())
  /** Resolves with the stream's frames once its first frame arrived (`first`) and when it ends (`done`). */
  const stream = () => {
    let first!: () => void
    const firstFrame = new Promise<void>((r) => { first = r })
    const done = (async () => {
      const r = await request(url + '/stream', { method: 'POST', body: '{"model":"m"}', dispatcher: agent })
      let text = ''
      for await (const c of r.body) { text += String(c); first() }
      first()
      return { status: r.statusCode, frames: parseSse(text).frames }
    })()
    return { firstFrame, done }
  }

  const all: ReturnType<typeof stream>[] = Array.from({ length: STREAMS }, stream)
  await Promise.all(all.map((s) => s.firstFrame))
  t.equal(open.size, STREAMS, `${STREAMS} upstream streams open at once`)

  let version = 1
  const expected = new Map<ReturnType<typeof stream>, number>(all.map((s) => [s, 1]))
  const outcomes: boolean[] = []
  for (let i = 0; i < 10; i++) {
    const broken = i % 3 === 1
    const next = reloaded()
    if (broken) writeFileSync(file, BROKEN[i % BROKEN.length]!(version + 100))
    else writeFileSync(file, rules(++version))
    outcomes.push(await next)
    tick()
    // Streams started now run on whatever rules are current: the last valid version.
    const fresh = Array.from({ length: 20 }, stream)
    for (const s of fresh) expected.set(s, version)
    all.push(...fresh)
    await Promise.all(fresh.map((s) => s.firstFrame))
  }
  while (open.size) tick()
  const results = await Promise.all(all.map(async (s) => ({ r: await s.done, v: expected.get(s)! })))

  const failures = results.filter(({ r, v }) => {
    const want = [...Array.from({ length: EVENTS }, (_, n) => ({ n, v })), { end: true }, '[DONE]']
    return r.status !== 200 || JSON.stringify(r.frames) !== JSON.stringify(want)
  })
  t.comment(`streams: ${results.length}; reloads: ${outcomes.filter(Boolean).length} valid, ${outcomes.filter((o) => !o).length} broken; failures: ${failures.length}`)
  t.same(outcomes, [true, false, true, true, false, true, true, false, true, true], 'broken edits were rejected, valid ones applied')
  t.equal(results.length, STREAMS + 200)
  t.equal(failures.length, 0, 'every stream complete, each on the rules it started with')
  if (failures.length) t.comment(JSON.stringify(failures[0]).slice(0, 500))
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  child.kill('SIGTERM')
  t.equal(await exit, 0)
})
