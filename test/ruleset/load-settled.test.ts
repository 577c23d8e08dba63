// A load whose files change while they are read and compiled does not go live: it is tried again
// once the directory settles. The change is made by the load itself (a wrapped loadRuleset writes
// the file after reading it), so it always falls inside the load.
import t, { type Test } from 'tap'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as compile from '../../engine/ruleset/compile.js'

const rule = (says: string) => `rules:\n  - name: x\n    match: { path: /x }\n    reply: { body: '{"says": "${says}"}' }\n`

/** loadRules with a loadRuleset that writes `file` after each of its first `writes` loads. */
async function loadRulesWriting(t: Test, file: string, writes: number) {
  let loads = 0
  const { loadRules } = await t.mockImport<typeof import('../../engine/ruleset/reload.js')>('../../engine/ruleset/reload.js', {
    '../../engine/ruleset/compile.js': {
      ...compile,
      loadRuleset: async (...args: Parameters<typeof compile.loadRuleset>) => {
        const r = await compile.loadRuleset(...args)
        if (++loads <= writes) writeFileSync(file, rule(`write ${loads}`))
        return r
      },
    },
  })
  return { loadRules, loads: () => loads }
}

t.test('a file rewritten during the load: the load is tried again and the final text goes live', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 're-settled-'))
  const file = join(dir, 'x.yaml')
  writeFileSync(file, rule('before'))
  const { loadRules, loads } = await loadRulesWriting(t, file, 1)
  const { ruleset, problems } = await loadRules(dir, { settleMs: 10 })
  t.same(problems.errors, [])
  t.equal(loads(), 2, 'loaded twice')
  t.equal(ruleset!.source.files[0]!.text, rule('write 1'), 'the rules are the text the file has now, not the one read during the change')
})

t.test('files that keep changing: the reload is refused after 5 tries', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 're-settled-'))
  const file = join(dir, 'x.yaml')
  writeFileSync(file, rule('before'))
  const { loadRules, loads } = await loadRulesWriting(t, file, Infinity)
  const { ruleset, problems } = await loadRules(dir, { settleMs: 10 })
  t.equal(ruleset, null)
  t.equal(loads(), 5)
  t.match(problems.errors, [{ code: 'RE_READ', message: 'the files changed while they were read, 5 times over 4 waits of 10 ms' }])
})
