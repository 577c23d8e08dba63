// A rules directory caught empty or half-copied during a redeploy never goes live: the built CLI,
// real files, requests in flight, and waits on the server's own log lines.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { copyFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { Agent, request } from 'undici'
import { serveCli, type CliServer } from '../helpers/cli-server.js'

const bin = new URL('../../bin/route-engine.js', import.meta.url).pathname
const NAMES = ['a', 'b', 'c', 'd']
const rule = (n: string) => `rules:\n  - name: ${n}\n    match: { method: POST, path: /${n} }\n    reply: { body: '{"says": "${n}"}' }\n`

/** A rules directory of four one-rule files, and a copy of them to deploy back from. */
function dirs(): { dir: string; release: string } {
  const dir = mkdtempSync(join(tmpdir(), 're-incomplete-'))
  const release = mkdtempSync(join(tmpdir(), 're-release-'))
  for (const n of NAMES) writeFileSync(join(release, `${n}.yaml`), rule(n))
  for (const f of readdirSync(release)) copyFileSync(join(release, f), join(dir, f))
  return { dir, release }
}
const removeAll = (dir: string) => { for (const f of readdirSync(dir)) rmSync(join(dir, f)) }
const copyBack = (release: string, dir: string) => { for (const f of readdirSync(release)) copyFileSync(join(release, f), join(dir, f)) }

/** Requests to /a, /healthz and /readyz in a loop until stopped; every status and rule count seen. */
function traffic(url: string) {
  const agent = new Agent({ connections: 16 })
  const seen = { statuses: new Map<number, number>(), healthRules: new Set<number>(), ready: new Set<number>() }
  let go = true
  const count = (s: number) => seen.statuses.set(s, (seen.statuses.get(s) ?? 0) + 1)
  const asks = async () => { while (go) { const r = await request(url + '/a', { method: 'POST', body: '{}', dispatcher: agent }); await r.body.text(); count(r.statusCode) } }
  const polls = async () => {
    while (go) {
      seen.healthRules.add(((await (await request(url + '/healthz', { dispatcher: agent })).body.json()) as any).ruleset.rules)
      const r = await request(url + '/readyz', { dispatcher: agent })
      await r.body.text()
      seen.ready.add(r.statusCode)
    }
  }
  const loops = [...Array.from({ length: 6 }, asks), polls()]
  return { seen, async stop() { go = false; await Promise.all(loops); await agent.close() } }
}

const reloadLine = (s: CliServer) => s.next((r) => typeof r.msg === 'string' && r.msg.startsWith('rules reload'))

t.test('rm rules/*.yaml then copying them back: the empty directory is refused, 0 requests answered 404, /healthz never reports 0 rules', async (t) => {
  const { dir, release } = dirs()
  const s = await serveCli(['--rules', dir, '--reload-settle', '50'])
  t.teardown(() => s.stop('SIGKILL'))
  const load = traffic(s.url)

  let reload = reloadLine(s)
  removeAll(dir)
  const refused = await reload
  t.equal(refused.msg, 'rules reload failed: the previous rules keep serving', 'a directory without rules is not loaded')
  t.match(refused.problems, [/RE_NO_RULES/])
  // The directory is empty now: requests still get the last good rules.
  const during = await Promise.all(Array.from({ length: 10 }, async () => (await request(s.url + '/a', { method: 'POST', body: '{}' })).statusCode))
  t.same(during, Array(10).fill(200), 'answered by the last good rules while the directory is empty')
  const health = (await (await request(s.url + '/healthz')).body.json()) as any
  t.match(health, { status: 'degraded', ruleset: { rules: 4 }, lastReloadError: { problems: [/RE_NO_RULES/] } }, '/healthz keeps the good ruleset and reports the refused reload')

  // Events of the rm still on their way may bring more refusals first.
  reload = s.next((r) => r.msg === 'rules reloaded')
  copyBack(release, dir)
  t.match(await reload, { rules: 4 })
  await load.stop()
  t.same([...load.seen.statuses.keys()], [200], `every request answered 200 (${load.seen.statuses.get(200)} of them), none 404`)
  t.same([...load.seen.healthRules], [4], '/healthz reported 4 rules throughout')
  t.same([...load.seen.ready], [200], '/readyz stayed 200')
  t.equal(((await (await request(s.url + '/healthz')).body.json()) as any).status, 'ok')
})

t.test('a copy that pauses mid-way within the settle window goes live once, whole', async (t) => {
  const { dir, release } = dirs()
  const s = await serveCli(['--rules', dir, '--reload-settle', '3000'])
  t.teardown(() => s.stop('SIGKILL'))
  const reload = reloadLine(s)
  removeAll(dir)
  // The deploy's own pace (not a wait for the server): the copy starts 300 ms after the rm, and
  // stops half-way for another 300 ms.
  await delay(300)
  copyBack(release, dir)
  rmSync(join(dir, 'c.yaml'))
  rmSync(join(dir, 'd.yaml'))
  await delay(300)
  copyBack(release, dir)
  t.match(await reload, { msg: 'rules reloaded', rules: 4 }, 'the first reload after the rm already has every file')
})

t.test('an empty rules directory is a start-up error', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 're-empty-'))
  // The time limit only ends a server that did start (the bug), so that it does not outlive the test.
  const r = spawnSync(process.execPath, [bin, 'serve', '--rules', dir, '--port', '0'], { encoding: 'utf8', env: { ...process.env, ROUTE_ENGINE_KEYS: '' }, timeout: 60_000, killSignal: 'SIGKILL' })
  t.equal(r.status, 1)
  t.match(r.stderr, /RE_NO_RULES no rules here/)
  t.match(r.stderr, /1 problem\(s\) in .*: not starting/)
})
