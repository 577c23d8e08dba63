// Where a transform spends its time, by line of its source: the transform runs at its place in a rule's
// request pipeline (on a Cursor fixture), compiled with each statement marked with its source offset,
// under the CPU profiler; self time is summed per source line.
//   node bench/profile-transform.mjs <rule> <transform file (substring)> [fixture.json] [rounds]
//   e.g. npm run build && node bench/profile-transform.mjs cursor-anthropic to-anthropic
import { readFileSync } from 'node:fs'
import { Session } from 'node:inspector/promises'
import { loadRuleset } from '../dist/ruleset/compile.js'
import { LIBRARY, parseExpr } from '../dist/expr/compile.js'
import { evaluate } from '../dist/expr/evaluate.js'
import { compileProgram } from '../dist/expr/program.js'
import { MemoryStore } from '../dist/store/memory.js'

const [ruleName, fileName, fixture, roundsArg] = process.argv.slice(2)
if (!ruleName || !fileName) { process.stderr.write('usage: node bench/profile-transform.mjs <rule> <transform file> [fixture.json] [rounds]\n'); process.exit(2) }
const { ruleset, problems } = await loadRuleset(new URL('../rules/', import.meta.url).pathname)
if (!ruleset) throw new Error(problems.items.map((p) => p.message).join('\n'))
const rule = ruleset.rules.find((r) => r.name === ruleName)
if (!rule) throw new Error(`no rule ${ruleName}`)
let body = JSON.parse(readFileSync(fixture ?? new URL('../test/fixtures/cursor/gpt5-agent-responses-full-turn.json', import.meta.url), 'utf8'))
const store = new MemoryStore()
const bindings = { request: body, ctx: { id: 'profile0', created: 1767225600, model: body.model, rule: rule.name, upstream: rule.upstream?.name, headers: {}, query: {} }, vars: rule.vars, models: ruleset.models, recall: (k) => store.get(String(k)), remember: async (k, v) => { await store.set(String(k), v); return v } }

const steps = []
const flat = (xs) => { for (const s of xs) s.kind === 'pipeline' ? flat(s.steps) : steps.push(s) }
flat(rule.request)
let target = null
for (const s of steps) {
  if (s.when && !(s.when.kind === 'fields' ? s.when.test(body) : await evaluate(s.when.expr, body, bindings, rule.name))) continue
  if (s.kind !== 'transform') continue
  if (s.expr.at.file.includes(fileName)) { target = s.expr; break }
  body = await evaluate(s.expr, body, bindings, rule.name)
}
if (!target) throw new Error(`${fileName} does not run in ${ruleName}'s pipeline for this fixture`)

const source = target.expr.source
// the library's definitions it calls run compiled on their own (their time is not on the transform's lines)
const program = compileProgram(parseExpr(source), LIBRARY, 500, true, ruleset.library?.compiled(LIBRARY))
const run = async () => program.run(body, bindings, 5000, 500)
const rounds = Number(roundsArg ?? 3000)
for (let i = 0; i < rounds; i++) await run()
const session = new Session()
session.connect()
await session.post('Profiler.enable')
await session.post('Profiler.setSamplingInterval', { interval: 50 })
await session.post('Profiler.start')
const c0 = process.cpuUsage()
for (let i = 0; i < rounds; i++) await run()
const cpu = process.cpuUsage(c0)
const { profile } = await session.post('Profiler.stop')

// ticks on generated lines → the offset marked on that line → a line of the transform's source
const code = program.code.split('\n')
const srcLines = source.split('\n')
const lineOf = (offset) => source.slice(0, offset).split('\n').length
const perLine = new Map()
let total = 0
let inHelpers = 0
const helpers = new Map()
for (const n of profile.nodes) {
  const ticks = (n.positionTicks ?? []).reduce((a, t) => a + t.ticks, 0)
  total += n.hitCount
  if (n.callFrame.url === '' && n.positionTicks) {
    for (const t of n.positionTicks) {
      const m = /^\/\*@(\d+)\*\//.exec(code[t.line - 3] ?? '')
      const line = m ? lineOf(Number(m[1])) : 0
      perLine.set(line, (perLine.get(line) ?? 0) + t.ticks)
    }
  } else if (/dist\/expr\//.test(n.callFrame.url)) {
    inHelpers += n.hitCount
    const k = `${n.callFrame.functionName || '(anonymous)'} (${n.callFrame.url.replace(/^.*dist\//, 'engine/').replace(/\.js$/, '.ts')})`
    helpers.set(k, (helpers.get(k) ?? 0) + n.hitCount)
  }
  void ticks
}
const pct = (x) => ((100 * x) / total).toFixed(1).padStart(5) + ' %'
process.stdout.write(`${target.at.file} in ${ruleName}: ${((cpu.user + cpu.system) / rounds).toFixed(1)} µs CPU per evaluation (${rounds} rounds)\n`)
process.stdout.write(`${pct(inHelpers)}  in the expression runtime (engine/expr):\n`)
for (const [k, v] of [...helpers].sort((a, b) => b[1] - a[1]).slice(0, 10)) process.stdout.write(`   ${pct(v)}  ${k}\n`)
process.stdout.write('in the generated code, by line of the source:\n')
for (const [line, ticks] of [...perLine].sort((a, b) => b[1] - a[1]).slice(0, 25)) {
  process.stdout.write(`${pct(ticks)}  ${String(line).padStart(4)} | ${(srcLines[line - 1] ?? '').trim().slice(0, 110)}\n`)
}
