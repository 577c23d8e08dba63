// For the --workers tests: a one-rule directory, requests spread over the workers, and the workers'
// process ids as the primary logs them.
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { request, type Dispatcher } from 'undici'

/** POST /x answers {"says": says}. */
export const sayingRule = (says: string) => `rules:\n  - name: x\n    match: { method: POST, path: /x }\n    reply: { body: '{"says": "${says}"}' }\n`

export function sayingDir(says = 'one'): { dir: string; file: string } {
  const dir = mkdtempSync(join(tmpdir(), 're-workers-'))
  writeFileSync(join(dir, 'x.yaml'), sayingRule(says))
  return { dir, file: join(dir, 'x.yaml') }
}

/** What n requests to /x got (`says`, or the status), each on a new connection so that they are spread over the workers. */
export const answers = (url: string, n = 10, dispatcher?: Dispatcher) => Promise.all(Array.from({ length: n }, async () => {
  const r = await request(url + '/x', { method: 'POST', body: '{}', reset: true, dispatcher })
  return r.statusCode === 200 ? ((await r.body.json()) as any).says : r.statusCode
}))

export const healths = (url: string, n = 4) => Promise.all(Array.from({ length: n }, async () => (await request(url + '/healthz', { reset: true })).body.json() as Promise<any>))

/** The pids of the workers that started serving, in the order the primary logged them. */
export const servingPids = (logs: any[]): number[] => logs.filter((r) => r.msg === 'worker serving').map((r) => r.pid)
