// The README's start command, through npm as a user types it. It used to be `npx route-engine serve`,
// which copies the checkout into npm's _npx cache: a first run interrupted there broke every later
// `npx route-engine` with ENOENT until the cache folder was deleted.
import t from 'tap'
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { request } from 'undici'

const root = fileURLToPath(new URL('../../', import.meta.url))
const readme = readFileSync(join(root, 'README.md'), 'utf8')
// the first code block: the install command, then the start command
const [install, start] = /```\n([\s\S]*?)```/.exec(readme)![1]!.trim().split('\n').map((l) => l.replace(/#.*$/, '').trim())
const cache = mkdtempSync(join(tmpdir(), 're-npm-cache-'))

function npmStart() {
  const [cmd, ...args] = start!.split(/\s+/)
  return spawn(cmd!, [...args, '--', '--port', '0'], {
    cwd: root,
    // its own npm cache, to see what the start leaves there; detached: a group to interrupt, as Ctrl-C does
    env: { PATH: process.env.PATH, HOME: process.env.HOME, npm_config_cache: cache, ROUTE_ENGINE_KEYS: '', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  })
}

t.test('the README says npm install, then npm start', async (t) => {
  t.equal(install, 'npm install')
  t.equal(start, 'npm start')
  t.equal(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).scripts.start, 'node bin/route-engine.js serve')
})

t.test('a start interrupted at once does not break the next one, which serves', async (t) => {
  const first = npmStart()
  await new Promise((resolve) => first.once('spawn', resolve))
  process.kill(-first.pid!, 'SIGINT')
  await new Promise((resolve) => first.once('exit', resolve))

  const second = npmStart()
  t.teardown(() => { if (second.exitCode === null && second.signalCode === null) process.kill(-second.pid!, 'SIGKILL') })
  // the server's log lines (npm's "> route-engine@… start" lines aside)
  const logs = createInterface({ input: second.stdout! })[Symbol.asyncIterator]()
  const next = async (msg: string) => {
    for (let r = await logs.next(); !r.done; r = await logs.next()) if (r.value.startsWith('{') && JSON.parse(r.value).msg === msg) return JSON.parse(r.value)
  }
  const url: string = (await next('route-engine listening'))?.url ?? ''
  t.match(url, /^http:\/\/127\.0\.0\.1:\d+$/)
  const res = await request(`${url}/readyz`)
  t.equal(res.statusCode, 200)
  t.same(await res.body.json(), { ready: true })
  t.notOk(existsSync(join(cache, '_npx')), 'nothing of the checkout was copied into npm\'s _npx cache')
  const exited = new Promise((resolve) => second.once('exit', resolve))
  process.kill(-second.pid!, 'SIGINT')
  t.ok(await next('stopped'), 'Ctrl-C reaches the server, which drains and stops')
  await exited
})
