// deploy/kubernetes.mjs: the rules directory as a ConfigMap that puts every file back at its path,
// replicas on one Redis Service.
import { spawnSync } from 'node:child_process'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import t from 'tap'
import { parseAllDocuments } from 'yaml'

const root = new URL('../../', import.meta.url).pathname
const rules = join(root, 'rules')

t.test('every rules file reaches /app/rules at its own path; replicas share the Redis Service', async (t) => {
  const r = spawnSync(process.execPath, [join(root, 'deploy/kubernetes.mjs'), rules, '--replicas', '3'], { encoding: 'utf8' })
  t.equal(r.status, 0, r.stderr)
  const docs = parseAllDocuments(r.stdout).map((d) => d.toJS())
  const find = (kind: string, name: string) => docs.find((d) => d.kind === kind && d.metadata.name === name)
  const cm = find('ConfigMap', 'route-engine-rules')
  const deploy = find('Deployment', 'route-engine')
  t.ok(cm && deploy && find('Service', 'redis') && find('Deployment', 'redis') && find('Service', 'route-engine'))
  t.ok(Buffer.byteLength(JSON.stringify(cm.data)) < 1 << 20, 'under the ConfigMap size limit')

  const files: string[] = []
  const walk = (d: string) => { for (const n of readdirSync(d)) { const p = join(d, n); if (statSync(p).isDirectory()) walk(p); else files.push(relative(rules, p)) } }
  walk(rules)
  const spec = deploy.spec.template.spec
  const items: { key: string; path: string }[] = spec.volumes.find((v: any) => v.name === 'rules').configMap.items
  t.same(items.map((i) => i.path).sort(), files.sort(), 'one item per file, at its path')
  for (const i of items) {
    t.match(i.key, /^[-._a-zA-Z0-9]+$/)
    if (cm.data[i.key] !== readFileSync(join(rules, i.path), 'utf8')) t.fail(`${i.path}: content differs`)
  }
  const c = spec.containers[0]
  t.equal(deploy.spec.replicas, 3)
  t.same(c.volumeMounts, [{ name: 'rules', mountPath: '/app/rules', readOnly: true }])
  t.same(c.env.find((e: any) => e.name === 'ROUTE_ENGINE_STORE'), { name: 'ROUTE_ENGINE_STORE', value: 'redis://redis:6379/0' })
  t.equal(c.readinessProbe.httpGet.path, '/readyz')
  t.ok(spec.terminationGracePeriodSeconds > 30, 'longer than the drain')
})
