// --workers: a worker that cannot start exits (it used to sit idle), and the primary stops starting
// new ones after 5 failures in a row while the others serve on. The built CLI, real processes; each
// step waits on the primary's log lines.
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Agent } from 'undici'
import { serveCli } from '../helpers/cli-server.js'
import { answers, sayingDir, servingPids } from '../helpers/workers.js'

t.test('a worker that cannot start is replaced at most 5 times in a row, then no more; the other keeps serving', async (t) => {
  const { dir } = sayingDir()
  const tls = mkdtempSync(join(tmpdir(), 're-workers-tls-'))
  const cert = join(tls, 'gw.crt')
  const key = join(tls, 'gw.key')
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=gw', '-keyout', key, '-out', cert], { stdio: 'ignore' })
  const s = await serveCli(['--rules', dir, '--workers', '2', '--tls-cert', cert, '--tls-key', key])
  t.teardown(() => s.stop('SIGKILL'))
  const [victim] = servingPids(s.logs)

  // A worker reads the certificate itself when it starts: without the key, none can.
  rmSync(key)
  const gaveUp = s.next((r) => r.msg === 'workers keep failing to start: starting no more')
  process.kill(victim!, 'SIGKILL')
  t.match(await gaveUp, { failedStarts: 5, workers: 1 })
  t.equal(s.logs.filter((r) => r.msg === 'worker died: starting another').length, 5, 'the dead worker and 4 failed starts were replaced, the 5th was not')
  const agent = new Agent({ connect: { rejectUnauthorized: false } })
  t.teardown(() => agent.close())
  t.same(await answers(s.url, 10, agent), Array(10).fill('one'), 'the remaining worker serves')
  t.equal(await s.stop('SIGTERM'), 0)
})
