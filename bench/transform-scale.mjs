// How a rule's request pipeline scales with a hostile body: N tools, or N messages, through every
// transform step of the rule (the validate steps, which refuse such bodies, are skipped), each timed.
//   npm run build && node bench/transform-scale.mjs <rule> tools|messages N… [--dist DIR]
//   e.g. node bench/transform-scale.mjs cursor-anthropic tools 10000 40000 100000
import { parseArgs } from 'node:util'
import { pathToFileURL } from 'node:url'
import { resolve } from 'node:path'

const { values, positionals } = parseArgs({ allowPositionals: true, options: { dist: { type: 'string' } } })
const [ruleName, kind, ...sizes] = positionals
if (!ruleName || !['tools', 'messages'].includes(kind) || !sizes.length) { process.stderr.write('usage: node bench/transform-scale.mjs <rule> tools|messages N… [--dist DIR]\n'); process.exit(2) }
const dist = pathToFileURL(resolve(values.dist ?? new URL('../dist', import.meta.url).pathname)).href
const { loadRuleset } = await import(`${dist}/ruleset/compile.js`)
const { evaluate } = await import(`${dist}/expr/evaluate.js`)
const { ruleset, problems } = await loadRuleset(new URL('../rules/', import.meta.url).pathname, { limits: { timeoutMs: 600_000, maxDepth: 500 } })
if (!ruleset) throw new Error(problems.items.map((p) => p.message).join('\n'))
const rule = ruleset.rules.find((r) => r.name === ruleName)
if (!rule) throw new Error(`no rule ${ruleName}`)
const model = /anthropic/.test(ruleName) ? 'claude-sonnet-4-5' : /gemini/.test(ruleName) ? 'gemini-2.5-pro' : /openai/.test(ruleName) ? 'gpt-5' : 'local-model'

function body(n) {
  const tool = (i) => ({ type: 'function', function: { name: `tool_${i}`, description: `tool ${i}`, parameters: { type: 'object', properties: { a: { type: 'string' } } } } })
  if (kind === 'tools') return { model, messages: [{ role: 'user', content: 'hi' }], tools: Array.from({ length: n }, (_, i) => tool(i)) }
  // a tool loop: assistant call, tool result, user text, over and over
  const messages = []
  for (let i = 0; messages.length < n; i++) {
    messages.push({ role: 'assistant', content: null, tool_calls: [{ id: `call_${i}`, type: 'function', function: { name: 'tool_0', arguments: '{"a":"x"}' } }] })
    messages.push({ role: 'tool', tool_call_id: `call_${i}`, content: `result ${i}` })
    messages.push({ role: 'user', content: `go on ${i}` })
  }
  return { model, messages: messages.slice(0, n), tools: [tool(0)] }
}

const steps = []
const flat = (xs) => { for (const s of xs) s.kind === 'pipeline' ? flat(s.steps) : steps.push(s) }
flat(rule.request)
for (const n of sizes.map(Number)) {
  let b = body(n)
  const bindings = { request: b, ctx: { id: 'bench', created: 1, model, rule: rule.name, upstream: rule.upstream?.name, headers: {}, query: {} }, vars: rule.vars, models: ruleset.models, recall: () => undefined, remember: async (_k, v) => v }
  const times = []
  const t0 = performance.now()
  for (const s of steps) {
    if (s.kind !== 'transform') continue
    if (s.when && !(s.when.kind === 'fields' ? s.when.test(b) : await evaluate(s.when.expr, b, bindings, rule.name))) continue
    const t = performance.now()
    b = await evaluate(s.expr, b, bindings, rule.name)
    times.push(`${s.expr.at.file.split('/').pop().replace('.jsonata', '')} ${((performance.now() - t) / 1000).toFixed(2)}`)
  }
  console.log(`${ruleName}, ${n} ${kind}: ${((performance.now() - t0) / 1000).toFixed(2)} s (${times.join(', ')})`)
}
