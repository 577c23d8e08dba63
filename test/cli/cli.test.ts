// The CLI as a user runs it: the built bin, real processes, exit codes.
import t from 'tap'
import { spawn, spawnSync } from 'node:child_process'
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { request } from 'undici'

const bin = new URL('../../bin/route-engine.js', import.meta.url).pathname
const shipped = new URL('../../rules/', import.meta.url).pathname
const run = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, ROUTE_ENGINE_KEYS: '' } })

t.test('--help, --version, unknown command', async (t) => {
  const help = run('--help')
  t.equal(help.status, 0)
  t.match(help.stdout, /route-engine serve \[--rules DIR\]/)
  const version = run('--version')
  t.equal(version.stdout.trim(), JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version)
  const bad = run('frobnicate')
  t.equal(bad.status, 2)
  t.match(bad.stderr, /unknown command: frobnicate/)
})

t.test('lint: 0 on the shipped rules, 1 with every problem listed', async (t) => {
  const ok = run('lint', shipped)
  t.equal(ok.status, 0, ok.stdout)
  t.match(ok.stdout, /0 error\(s\)/)
  const dir = mkdtempSync(join(tmpdir(), 're-cli-'))
  cpSync(shipped, dir, { recursive: true })
  writeFileSync(join(dir, 'bad.yaml'), 'rules:\n  - name: x\n    match: { path: /x, colour: red }\n    reply: { body: "1 +" }\n')
  const bad = run('lint', dir)
  t.equal(bad.status, 1)
  t.match(bad.stdout, /bad\.yaml:3:24: RE_SCHEMA \/rules\/0\/match: unknown property "colour"/)
  const json = run('lint', dir, '--format', 'json')
  t.equal(json.status, 1)
  t.equal(JSON.parse(json.stdout).errors, 1)
})

t.test('serve answers on the port it prints, and stops on SIGTERM', async (t) => {
  const child = spawn(process.execPath, [bin, 'serve', '--port', '0'], { env: { ...process.env, ROUTE_ENGINE_KEYS: '', ROUTE_ENGINE_CORS_ORIGINS: 'http://localhost:3000, https://app.example', LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'pipe'] })
  t.teardown(() => { child.kill('SIGKILL') })
  const lines = createInterface({ input: child.stdout! })
  let url = ''
  for await (const line of lines) {
    const rec = JSON.parse(line)
    if (rec.msg === 'route-engine listening') { url = rec.url; break }
  }
  t.match(url, /^http:\/\/127\.0\.0\.1:\d+$/)
  const res = await request(url + '/v1/models')
  t.equal(res.statusCode, 200)
  const body = (await res.body.json()) as any
  t.equal(body.object, 'list')
  t.ok(body.data.some((m: any) => m.id === 'gpt-55-xhigh'), 'aliases are listed')
  for (const [origin, status, allow] of [['https://app.example', 204, 'https://app.example'], ['https://evil.example', 403, undefined]] as const) {
    const pre = await request(url + '/v1/chat/completions', { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST' } })
    await pre.body.dump()
    t.same([pre.statusCode, pre.headers['access-control-allow-origin']], [status, allow], `ROUTE_ENGINE_CORS_ORIGINS: a preflight from ${origin}`)
  }
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  child.kill('SIGTERM')
  t.equal(await exit, 0)
})

t.test('serve refuses a public address without keys', async (t) => {
  const r = run('serve', '--host', '0.0.0.0', '--port', '0')
  t.equal(r.status, 2)
  t.match(r.stderr, /refusing to listen on 0\.0\.0\.0 without inbound keys/)
})

t.test('serve refuses every web origin without keys, and a --cors-origin that is not an origin', async (t) => {
  const any = run('serve', '--port', '0', '--cors-origin', '*')
  t.equal(any.status, 2)
  t.match(any.stderr, /refusing to allow every web origin \(--cors-origin \*\) without inbound keys/)
  const bad = run('serve', '--port', '0', '--cors-origin', 'https://app.example/path')
  t.equal(bad.status, 2)
  t.match(bad.stderr, /bad --cors-origin: 'https:\/\/app\.example\/path' is not an origin/)
})

t.test('serve refuses limits that cannot hold: a body budget under the body limit, a header deadline past the request deadline', async (t) => {
  const budget = run('serve', '--port', '0', '--max-body', '1000000', '--body-budget', '999999')
  t.equal(budget.status, 2)
  t.match(budget.stderr, /bad --body-budget: at least --max-body/)
  const deadlines = run('serve', '--port', '0', '--header-timeout', '5000', '--request-timeout', '4000')
  t.equal(deadlines.status, 2)
  t.match(deadlines.stderr, /bad --header-timeout: at most --request-timeout/)
})
