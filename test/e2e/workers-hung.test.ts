// --workers: a worker that hangs (SIGSTOP) holds up nothing. One that does not answer a reload, and
// one that does not start, are each replaced after --worker-timeout, and the reload ends without
// them. The built CLI, real processes and signals; each step waits on the primary's log lines.
import t from 'tap'
import { writeFileSync } from 'node:fs'
import { serveCli } from '../helpers/cli-server.js'
import { answers, sayingDir, sayingRule, servingPids } from '../helpers/workers.js'

// Long enough for a healthy worker to start on a busy machine: both deadlines run at once below.
const DEADLINE_MS = 30_000

t.test('a worker that does not answer a reload and one that does not start are replaced after --worker-timeout; the reload does not wait for them', async (t) => {
  const { dir, file } = sayingDir()
  // The third worker serves throughout: were none left listening, the primary would close the port
  // (port 0: the next worker would listen on another).
  const s = await serveCli(['--rules', dir, '--workers', '3', '--reload-settle', '50', '--worker-timeout', String(DEADLINE_MS)])
  const stopped: number[] = []
  t.teardown(() => {
    for (const pid of stopped) try { process.kill(pid, 'SIGKILL') } catch { /* the primary killed it already */ }
    return s.stop('SIGKILL')
  })
  const [hung, dying] = servingPids(s.logs)
  process.kill(hung!, 'SIGSTOP')
  stopped.push(hung!)
  // The other dies; its replacement is stopped as soon as the primary names it, long before it can
  // have loaded its code and started serving.
  const died = s.next((r) => r.msg === 'worker died: starting another')
  process.kill(dying!, 'SIGKILL')
  const { replacement } = await died
  process.kill(replacement, 'SIGSTOP')
  stopped.push(replacement)

  const silent = s.next((r) => r.msg === 'worker did not answer in time: replacing it')
  const late = s.next((r) => r.msg === 'worker did not start in time: replacing it')
  const reloaded = s.next((r) => r.msg === 'workers reloaded')
  // Three started at first, then one for each of the two replaced.
  const bothServing = s.next((r) => r.msg === 'worker serving' && servingPids(s.logs).length === 5)
  writeFileSync(file, sayingRule('two'))
  t.match(await silent, { pid: hung, deadlineMs: DEADLINE_MS })
  t.match(await reloaded, { workers: 2, failed: 1 }, 'the reload ends without the stopped worker')
  t.match(await late, { pid: replacement, deadlineMs: DEADLINE_MS })
  await bothServing
  const fresh = servingPids(s.logs).slice(3)
  t.notOk(fresh.some((p) => stopped.includes(p)), `both were replaced: ${fresh} serve`)
  t.same(await answers(s.url), Array(10).fill('two'), 'every worker serves the rules of the reload')
  t.equal(await s.stop('SIGTERM'), 0)
})
