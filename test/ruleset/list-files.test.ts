// Which files a rules directory loads from when symbolic links are involved: links to files and
// directories are followed, a file reached twice loads once, a link loop ends, and a dangling link
// with a rule file's name is a problem rather than a rule file quietly gone.
import t from 'tap'
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadRuleset } from '../../engine/ruleset/compile.js'
import { listRuleFiles } from '../../engine/ruleset/list-files.js'

const rule = (name: string) => `rules:\n  - name: ${name}\n    match: { path: /${name} }\n    reply: { body: '{}' }\n`

t.test('links to files and directories are followed; dot-entries are not', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 're-list-'))
  mkdirSync(join(dir, '..v1', 'transforms'), { recursive: true })
  writeFileSync(join(dir, '..v1', 'a.yaml'), rule('a'))
  writeFileSync(join(dir, '..v1', 'transforms', 't.jsonata'), '$')
  symlinkSync('..v1', join(dir, '..data'))
  symlinkSync('..data/a.yaml', join(dir, 'a.yaml'))
  symlinkSync('..data/transforms', join(dir, 'transforms'))
  writeFileSync(join(dir, '.a.yaml.swp'), 'not loaded')
  t.same(await listRuleFiles(dir), [join(dir, 'a.yaml'), join(dir, 'transforms', 't.jsonata')])
})

t.test('a file reached through two links loads once, at the first path in order', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 're-list-'))
  writeFileSync(join(dir, 'b.yaml'), rule('b'))
  symlinkSync('b.yaml', join(dir, 'a.yaml'))
  symlinkSync('.', join(dir, 'again'))
  t.same(await listRuleFiles(dir), [join(dir, 'a.yaml')], 'the link loop (again -> .) ends, and b.yaml is the same file as a.yaml')
  const { ruleset, problems } = await loadRuleset(dir)
  t.same(problems.errors, [], 'no duplicate rule')
  t.equal(ruleset!.rules.length, 1)
})

t.test('the order is that of the full paths, as before links were followed', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 're-list-'))
  mkdirSync(join(dir, 'a'))
  writeFileSync(join(dir, 'a', 'x.yaml'), rule('x'))
  writeFileSync(join(dir, 'a.yaml'), rule('y'))
  t.same(await listRuleFiles(dir), [join(dir, 'a.yaml'), join(dir, 'a', 'x.yaml')])
})

t.test('a dangling link named like a rule file is a load error naming its target', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 're-list-'))
  writeFileSync(join(dir, 'a.yaml'), rule('a'))
  symlinkSync('..data/gone.yaml', join(dir, 'gone.yaml'))
  symlinkSync('..data/notes.txt', join(dir, 'notes.txt'))
  const { ruleset, problems } = await loadRuleset(dir)
  t.equal(ruleset, null)
  t.match(problems.errors, [{ code: 'RE_READ', file: /gone\.yaml$/, message: 'cannot read: it is a symbolic link to ..data/gone.yaml, which does not exist' }])
})
