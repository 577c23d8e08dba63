// --workers: a worker started while the rules on disk are broken serves the primary's last good
// rules (it used to refuse to start and sit idle, and every later reload waited for it forever).
// The built CLI, real processes and signals; each step waits on the primary's log lines.
import t from 'tap'
import { writeFileSync } from 'node:fs'
import { serveCli } from '../helpers/cli-server.js'
import { answers, healths, sayingDir, sayingRule, servingPids } from '../helpers/workers.js'

t.test('a worker replaced while the rules on disk are broken serves the last good rules; fixing them then reloads every worker', async (t) => {
  const { dir, file } = sayingDir()
  const s = await serveCli(['--rules', dir, '--workers', '2', '--reload-settle', '50'])
  t.teardown(() => s.stop('SIGKILL'))
  const first = servingPids(s.logs)
  t.equal(first.length, 2)

  let reloaded = s.next((r) => r.msg === 'workers reloaded')
  writeFileSync(file, 'rules: [\n')
  t.match(await reloaded, { workers: 2, failed: 2 }, 'the broken edit is refused')

  // Both workers die, one after the other: every worker serving afterwards started while the rules on disk were broken.
  const replacements: number[] = []
  for (const pid of first) {
    const serving = s.next((r) => r.msg === 'worker serving')
    process.kill(pid, 'SIGKILL')
    replacements.push((await serving).pid)
  }
  t.notOk(replacements.some((p) => first.includes(p)), `workers ${first} replaced by ${replacements}`)
  t.same(await answers(s.url), Array(10).fill('one'), 'the replacements serve the last good rules')
  for (const h of await healths(s.url)) {
    t.match(h, { status: 'degraded', ruleset: { rules: 1 }, lastReloadError: { problems: [/x\.yaml:\d+:\d+: RE_YAML/] } }, "and report the primary's failed reload")
  }

  reloaded = s.next((r) => r.msg === 'workers reloaded')
  writeFileSync(file, sayingRule('fixed'))
  t.match(await reloaded, { workers: 2, failed: 0, consistent: true }, 'the fixed rules reload every worker')
  t.same(await answers(s.url), Array(10).fill('fixed'))
  t.same((await healths(s.url)).map((h) => h.status), Array(4).fill('ok'))
  t.equal(await s.stop('SIGTERM'), 0)
})
