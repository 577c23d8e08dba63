// The dispatch table: matching tries only the rules a path can match, and the first of those in
// file order still wins, whichever kind of path condition the rules before it have.
import t from 'tap'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { match } from '../../engine/pipeline/match.js'
import { loadRuleset } from '../../engine/ruleset/compile.js'

const RULES = `
rules:
  - { name: glob-put, match: { method: PUT, path: "/x/*" }, reply: { status: 200 } }
  - { name: exact-xy, match: { method: POST, path: /x/y }, reply: { status: 200 } }
  - { name: prefix, match: { method: POST, path: { prefix: /x/ } }, reply: { status: 200 } }
  - { name: exact-two, match: { path: [/x/y, /z] }, reply: { status: 200 } }
  - { name: any-path, match: { method: GET }, reply: { status: 200 } }
`

t.test('first match in file order, across exact, glob, prefix and path-less rules', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 're-dispatch-'))
  writeFileSync(join(dir, 'rules.yaml'), RULES)
  const { ruleset, problems } = await loadRuleset(dir)
  t.same(problems.errors, [])
  const rule = async (method: string, path: string) => {
    try { return (await match(ruleset!, { method, path, headers: {}, body: {} })).rule.name } catch (e) { return (e as { code: string }).code }
  }
  t.equal(await rule('PUT', '/x/y'), 'glob-put', 'a glob rule before the exact one wins')
  t.equal(await rule('POST', '/x/y'), 'exact-xy')
  t.equal(await rule('DELETE', '/x/y'), 'exact-two', 'the next rule that names the path')
  t.equal(await rule('POST', '/x/other'), 'prefix', 'a path no rule names exactly: only the open rules')
  t.equal(await rule('DELETE', '/z'), 'exact-two')
  t.equal(await rule('GET', '/z'), 'exact-two', 'an exact rule before a path-less one wins')
  t.equal(await rule('GET', '/nowhere'), 'any-path')
  t.equal(await rule('DELETE', '/nowhere'), 'RE_NO_RULE')
  t.same([...ruleset!.dispatch.byPath.keys()].sort(), ['/x/y', '/z'])
  t.same(ruleset!.dispatch.byPath.get('/z')!.map((r) => r.name), ['glob-put', 'prefix', 'exact-two', 'any-path'], 'in file order')
  t.same(ruleset!.dispatch.open.map((r) => r.name), ['glob-put', 'prefix', 'any-path'])
})
