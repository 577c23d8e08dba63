// Rules behind symbolic links, as deploys lay them out: a Kubernetes ConfigMap volume (`x.yaml ->
// ..data/x.yaml`, `..data -> ..<timestamp>/`, swapped atomically by the kubelet) and a `--rules
// current` link swapped to another release. The built CLI on real files, no SIGHUP; each step waits
// on the server's own log line.
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { request } from 'undici'
import { serveCli, type CliServer } from '../helpers/cli-server.js'

const rule = (name: string, says: string) => `rules:\n  - name: ${name}\n    match: { method: POST, path: /${name} }\n    reply: { body: '{"says": "${says}"}' }\n`

async function says(url: string, path: string): Promise<string | number> {
  const r = await request(url + path, { method: 'POST', body: '{}' })
  const body = (await r.body.json()) as any
  return r.statusCode === 200 ? body.says : r.statusCode
}
const health = async (url: string) => (await (await request(url + '/healthz')).body.json()) as any
/**
 * The next reload that changed the rules (events left over from the step before may reload the
 * same files once more); a failed reload is an answer too.
 */
const reloaded = (s: CliServer, from: string) => s.next((r) => r.msg === 'rules reload failed: the previous rules keep serving' || (r.msg === 'rules reloaded' && r.hash !== from))

/** What the kubelet writes for a ConfigMap version: a timestamped directory of its keys. */
function version(dir: string, stamp: string, keys: Record<string, string>): void {
  mkdirSync(join(dir, stamp))
  for (const [k, v] of Object.entries(keys)) writeFileSync(join(dir, stamp, k), v)
}

t.test('a ConfigMap volume: starts with its rules (each once), and the atomic ..data swap reloads them without SIGHUP', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 're-configmap-'))
  version(dir, '..2026_12_07_10_00_00.1', { 'x.yaml': rule('x', 'a') })
  symlinkSync('..2026_12_07_10_00_00.1', join(dir, '..data'))
  symlinkSync('..data/x.yaml', join(dir, 'x.yaml'))

  const s = await serveCli(['--rules', dir, '--reload-settle', '50'])
  t.teardown(() => s.stop('SIGKILL'))
  const listening = s.logs.find((r) => r.msg === 'route-engine listening')
  t.match(listening, { rules: 1 }, 'the linked rule file loads')
  t.equal(await says(s.url, '/x'), 'a')
  t.match(await health(s.url), { status: 'ok', ruleset: { rules: 1, files: 1 } }, 'the file is loaded once, not again through ..data')

  // The kubelet's update: the new version beside the old, a link to it renamed over ..data
  // (rename(2), atomic), then the old version removed.
  let next = reloaded(s, listening.hash)
  version(dir, '..2026_12_07_10_05_00.2', { 'x.yaml': rule('x', 'b') })
  execFileSync('ln', ['-s', '..2026_12_07_10_05_00.2', join(dir, '..data_tmp')])
  execFileSync('mv', ['-T', join(dir, '..data_tmp'), join(dir, '..data')])
  rmSync(join(dir, '..2026_12_07_10_00_00.1'), { recursive: true })
  const rec = await next
  t.match(rec, { msg: 'rules reloaded', rules: 1 })
  t.equal(await says(s.url, '/x'), 'b', 'the new version serves')

  // A key added to the ConfigMap: the new version has it, and the kubelet links it after the swap.
  next = s.next((r) => r.msg === 'rules reload failed: the previous rules keep serving' || (r.msg === 'rules reloaded' && r.rules === 2))
  version(dir, '..2026_12_07_10_10_00.3', { 'x.yaml': rule('x', 'c'), 'y.yaml': rule('y', 'new key') })
  execFileSync('ln', ['-s', '..2026_12_07_10_10_00.3', join(dir, '..data_tmp')])
  execFileSync('mv', ['-T', join(dir, '..data_tmp'), join(dir, '..data')])
  symlinkSync('..data/y.yaml', join(dir, 'y.yaml'))
  rmSync(join(dir, '..2026_12_07_10_05_00.2'), { recursive: true })
  t.match(await next, { msg: 'rules reloaded', rules: 2 })
  t.same([await says(s.url, '/x'), await says(s.url, '/y')], ['c', 'new key'])
  t.match(await health(s.url), { status: 'ok', ruleset: { rules: 2, files: 2 } })
})

t.test('--rules current: swapping the current -> releases/vN link reloads without SIGHUP, and edits are then seen in the new release', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 're-releases-'))
  for (const v of ['v1', 'v2']) {
    mkdirSync(join(root, 'releases', v), { recursive: true })
    writeFileSync(join(root, 'releases', v, 'x.yaml'), rule('x', v))
  }
  symlinkSync('releases/v1', join(root, 'current'))
  const s = await serveCli(['--rules', join(root, 'current'), '--reload-settle', '50'])
  t.teardown(() => s.stop('SIGKILL'))
  t.equal(await says(s.url, '/x'), 'v1')

  let next = reloaded(s, s.logs.find((r) => r.msg === 'route-engine listening').hash)
  execFileSync('ln', ['-s', 'releases/v2', join(root, 'current_tmp')])
  execFileSync('mv', ['-T', join(root, 'current_tmp'), join(root, 'current')])
  const rec = await next
  t.match(rec, { msg: 'rules reloaded', rules: 1 })
  t.equal(await says(s.url, '/x'), 'v2', 'the release the link points to now serves')

  next = reloaded(s, rec.hash)
  writeFileSync(join(root, 'releases', 'v2', 'x.yaml'), rule('x', 'v2 edited'))
  t.match(await next, { msg: 'rules reloaded' })
  t.equal(await says(s.url, '/x'), 'v2 edited', 'the watch followed the link to the new release')
})
