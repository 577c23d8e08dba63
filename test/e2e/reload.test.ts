// Hot reload against a running server: real files, real watcher, waiting on the reload itself
// (never on time).
import t from 'tap'
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { request } from 'undici'
import { mockUpstream, parseSse, startEngine } from '../helpers/server.js'

const reply = (name: string, path: string, text: string) =>
  `rules:\n  - name: ${name}\n    match: { method: POST, path: ${path} }\n    reply: { body: '{"says": "${text}"}' }\n`

async function says(url: string, path: string): Promise<string | number> {
  const r = await request(url + path, { method: 'POST', body: '{}' })
  const body = (await r.body.json()) as any
  return r.statusCode === 200 ? body.says : r.statusCode
}

t.test('adding, changing, renaming and removing rule files changes routing; broken edits keep the last good rules', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 're-reload-'))
  writeFileSync(join(dir, 'a.yaml'), reply('a', '/a', 'one'))
  const engine = await startEngine(dir, { watch: true })
  t.teardown(() => engine.close())
  const w = engine.watcher!
  t.equal(await says(engine.url, '/a'), 'one')

  let next = w.next()
  writeFileSync(join(dir, 'b.yaml'), reply('b', '/b', 'two'))
  await next
  t.equal(await says(engine.url, '/b'), 'two', 'added file')

  next = w.next()
  writeFileSync(join(dir, 'a.yaml'), reply('a', '/a', 'changed'))
  await next
  t.equal(await says(engine.url, '/a'), 'changed', 'changed file')

  // An editor's atomic save: write a temp file, rename it over the original.
  next = w.next()
  writeFileSync(join(dir, '.a.yaml.swp'), reply('a', '/a', 'atomic'))
  renameSync(join(dir, '.a.yaml.swp'), join(dir, 'a.yaml'))
  await next
  t.equal(await says(engine.url, '/a'), 'atomic', 'atomic save')

  const hash = engine.holder.current.hash
  next = w.next()
  writeFileSync(join(dir, 'a.yaml'), reply('a', '/a', 'broken') + '  - name: [unclosed\n')
  await next
  t.equal(await says(engine.url, '/a'), 'atomic', 'a broken edit leaves the previous rules serving')
  t.equal(engine.holder.current.hash, hash)
  const health = (await (await request(engine.url + '/healthz')).body.json()) as any
  t.equal(health.status, 'degraded')
  t.match(health.lastReloadError.problems[0], /a\.yaml:\d+:\d+: RE_YAML/)

  next = w.next()
  writeFileSync(join(dir, 'a.yaml'), reply('a', '/a', 'fixed'))
  await next
  t.equal(await says(engine.url, '/a'), 'fixed', 'fixing the file reloads it')

  next = w.next()
  renameSync(join(dir, 'b.yaml'), join(dir, 'c.yaml'))
  await next
  t.equal(await says(engine.url, '/b'), 'two', 'renamed file still loaded')

  next = w.next()
  rmSync(join(dir, 'c.yaml'))
  await next
  t.equal(await says(engine.url, '/b'), 404, 'removed file')

  // A burst of writes: one rebuild carries the final contents.
  next = w.next()
  for (let i = 0; i < 20; i++) writeFileSync(join(dir, `burst-${i % 5}.yaml`), reply(`burst${i % 5}`, `/burst${i % 5}`, `v${i}`))
  await next
  while (engine.holder.current.rules.length < 6) await w.next()
  t.equal(await says(engine.url, '/burst4'), 'v19', 'burst: the last write wins')
})

t.test('a stream in flight during a reload completes on the rules it started with', async (t) => {
  let release!: () => void
  const gate = new Promise<void>((r) => { release = r })
  const mock = await mockUpstream(async (_seen, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    res.write('data: {"t":"first"}\n\n')
    await gate
    res.end('data: {"t":"second"}\n\n')
  })
  process.env.TEST_RELOAD_MOCK = mock.url
  const program = (tag: string) => `upstreams:\n  m: { base: "\${TEST_RELOAD_MOCK}" }\nrules:\n  - name: s\n    match: { path: /s }\n    upstream: { to: m }\n    response:\n      stream:\n        done: "[DONE]"\n        on: { message: { emit: '{"t": t, "tag": "${tag}"}' } }\n`
  const dir = mkdtempSync(join(tmpdir(), 're-reload-'))
  writeFileSync(join(dir, 'r.yaml'), program('old'))
  const engine = await startEngine(dir, { watch: true })
  t.teardown(async () => { await engine.close(); await mock.close() })

  const r = await request(engine.url + '/s', { method: 'POST', body: '{}' })
  let text = ''
  let sawFirst!: () => void
  const first = new Promise<void>((res) => { sawFirst = res })
  const done = (async () => { for await (const c of r.body) { text += c; if (text.includes('first')) sawFirst() } })()
  await first
  const next = engine.watcher!.next()
  writeFileSync(join(dir, 'r.yaml'), program('new'))
  await next
  release()
  await done
  t.same(parseSse(text).frames, [{ t: 'first', tag: 'old' }, { t: 'second', tag: 'old' }, '[DONE]'], 'the old rules finished the stream')
  const again = await request(engine.url + '/s', { method: 'POST', body: '{}' })
  t.same(parseSse(await again.body.text()).frames.slice(0, 1), [{ t: 'first', tag: 'new' }], 'new requests use the new rules')
})
