// Measurements inside one process, on the engine's own modules (dist/): the per-event cost of the shipped
// stream programs against hand-written JavaScript doing the same translation, request-transform time
// by history length, and ruleset load and match time by number of rules.
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadRuleset } from '../../dist/ruleset/compile.js'
import { match } from '../../dist/pipeline/match.js'
import { transformRequest } from '../../dist/pipeline/transform-request.js'
import { transformStream } from '../../dist/pipeline/transform-stream.js'
import { MemoryStore } from '../../dist/store/memory.js'
import { cursorHistory, decodedEvents, loadTranscripts } from './transcripts.mjs'

const rulesDir = new URL('../../rules/', import.meta.url).pathname

function bindings(rule, request, store = new MemoryStore()) {
  return {
    request,
    ctx: { id: 'bench0000', created: 1767225600, model: request.model, path: '/cursor/chat/completions', method: 'POST', rule: rule.name, upstream: rule.upstream?.name, headers: {}, query: {} },
    vars: rule.vars,
    models: [],
    recall: (k) => store.get(String(k)),
    remember: async (k, v, ttl) => { await store.set(String(k), v, ttl); return v },
  }
}

/** Mean of the fastest half of `rounds` timings of f (µs): the machine is shared, the fast half is the code's own cost. */
async function timeUs(rounds, f) {
  const xs = []
  for (let i = 0; i < rounds; i++) {
    const t = performance.now()
    await f()
    xs.push((performance.now() - t) * 1000)
  }
  xs.sort((a, b) => a - b)
  const half = xs.slice(0, Math.max(1, xs.length >> 1))
  return half.reduce((a, b) => a + b, 0) / half.length
}

// Hand-written translations of the same transcripts: parse each event, write one Chat chunk per text
// delta (role chunk first), then the finish and usage chunks. What a programmer would write for this one case.
const env = { id: 'chatcmpl-bench0000', object: 'chat.completion.chunk', created: 1767225600, model: 'm' }
const frame = (o) => `data: ${JSON.stringify(o)}\n\n`
const chunk = (delta, finish = null) => frame({ ...env, choices: [{ index: 0, delta, finish_reason: finish }] })
const HAND = {
  responses(events) {
    let out = ''
    let started = false
    for (const e of events) {
      const d = JSON.parse(e.data)
      if (d.type === 'response.output_text.delta') {
        if (!started) { out += chunk({ role: 'assistant', content: '' }); started = true }
        out += chunk({ content: d.delta })
      } else if (d.type === 'response.completed') {
        const u = d.response.usage
        out += chunk({}, 'stop') + frame({ ...env, choices: [], usage: { prompt_tokens: u.input_tokens, completion_tokens: u.output_tokens, total_tokens: u.total_tokens } })
      }
    }
    return out + 'data: [DONE]\n\n'
  },
  anthropic(events) {
    let out = ''
    let started = false
    let usage = {}
    for (const e of events) {
      const d = JSON.parse(e.data)
      if (d.type === 'content_block_delta' && d.delta.type === 'text_delta') {
        if (!started) { out += chunk({ role: 'assistant', content: '' }); started = true }
        out += chunk({ content: d.delta.text })
      } else if (d.type === 'message_start') usage = d.message.usage
      else if (d.type === 'message_delta') usage = { ...usage, ...d.usage }
    }
    out += chunk({}, 'stop') + frame({ ...env, choices: [], usage: { prompt_tokens: usage.input_tokens, completion_tokens: usage.output_tokens, total_tokens: usage.input_tokens + usage.output_tokens } })
    return out + 'data: [DONE]\n\n'
  },
}

/** µs per upstream event through a shipped stream program, and through the hand-written translation. */
export async function perChunk(tokens = 200, rounds = 300) {
  const { ruleset } = await loadRuleset(rulesDir)
  const t = loadTranscripts(tokens)
  const out = {}
  for (const [name, ruleName, events] of [['responses', 'cursor-openai', t.responses.events], ['anthropic', 'cursor-anthropic', t.anthropic.events]]) {
    const rule = ruleset.rules.find((r) => r.name === ruleName)
    const evs = decodedEvents(events)
    const b = bindings(rule, { model: 'm', stream: true, messages: [] })
    const run = async () => {
      const s = transformStream(rule.response.stream, b, rule.name)
      for (const e of evs) await s.onEvent(e)
      await s.onEnd()
    }
    const engineUs = (await timeUs(rounds, run)) / evs.length
    const handUs = (await timeUs(rounds, () => HAND[name](evs))) / evs.length
    out[name] = { engineUs, handUs, events: evs.length }
  }
  return out
}

/** The request pipeline of the Cursor → Anthropic rule on histories of n items: µs per request and per item. */
export async function historyScale(sizes = [10, 25, 50, 100, 200, 400], rounds = 30) {
  const { ruleset } = await loadRuleset(rulesDir)
  const rule = ruleset.rules.find((r) => r.name === 'cursor-anthropic')
  const rows = []
  for (const n of sizes) {
    const body = cursorHistory(n)
    const b = bindings(rule, body)
    const run = () => transformRequest(rule.request, body, b, rule.name)
    // warmed up first: the figure is the optimised code's, as a server's is after its first requests
    for (let i = 0; i < Math.max(20, Math.ceil(20_000 / n)); i++) await run()
    const us = await timeUs(rounds, run)
    rows.push({ items: n, us, usPerItem: us / n })
  }
  return rows
}

/** Load time of a rules directory holding the shipped rules plus generated ones, and match time of the last rule. */
export async function rulesScale(counts = [10, 100, 1000]) {
  const rows = []
  for (const n of counts) {
    const dir = mkdtempSync(join(tmpdir(), 'bench-rules-'))
    cpSync(rulesDir, dir, { recursive: true })
    const extra = Math.max(0, n - 9)
    const generated = (edit) => {
      let yaml = 'rules:\n'
      for (let i = 0; i < extra; i++) {
        yaml += `  - name: gen-${i}\n    match: { method: POST, path: /gen/${i}/chat/completions, model: "m${i}-*", when: 'metadata.tier = "t${i}${i === 0 ? `-${edit}` : ''}" or $exists(messages)' }\n`
          + `    vars: { k: ${i} }\n    request: [{ use: normalize }, transforms/to-anthropic.jsonata]\n    upstream: { to: anthropic, path: /messages }\n`
          + '    response: { body: transforms/anthropic-body.jsonata, stream: transforms/anthropic-stream.yaml, error: transforms/error.jsonata }\n'
      }
      return yaml
    }
    // sorted after the shipped files, so the generated rules come last and the last one is matched last
    writeFileSync(join(dir, '99-generated.yaml'), generated(0))
    // a first load: other limits each round, so that nothing compiled before is reused
    let round = 0
    const loadMs = (await timeUs(5, () => loadRuleset(dir, { limits: { timeoutMs: 4000 + round++, maxDepth: 500 } }))) / 1000
    // a reload after one rule changed: what changed is compiled, the rest reused
    await loadRuleset(dir)
    let edit = 0
    const reloadMs = (await timeUs(5, () => { writeFileSync(join(dir, '99-generated.yaml'), generated(++edit)); return loadRuleset(dir) })) / 1000
    const { ruleset } = await loadRuleset(dir)
    const last = Math.max(0, extra - 1)
    const input = { method: 'POST', path: `/gen/${last}/chat/completions`, headers: {}, body: { model: `m${last}-x`, messages: [] } }
    const matchUs = await timeUs(2000, () => match(ruleset, input))
    rows.push({ rules: ruleset.rules.length, loadMs, reloadMs, matchUs })
    rmSync(dir, { recursive: true, force: true })
  }
  return rows
}
