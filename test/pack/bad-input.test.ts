// Wrong JSON types in client bodies, in every dialect, through the shipped rules: a 400 that names
// the field, never a failed transform (500).
import t from 'tap'
import { readFileSync, readdirSync } from 'node:fs'
import { request } from 'undici'
import { SHIPPED_RULES } from '../helpers/pack.js'
import { startEngine } from '../helpers/server.js'

const dir = new URL('../fixtures/cursor/', import.meta.url)
const fixtures = readdirSync(dir).filter((f) => !f.startsWith('expected-') && f.endsWith('.json')).map((f) => JSON.parse(readFileSync(new URL(f, dir), 'utf8')))
const WRONG: unknown[] = [5, 'text', true, null, [], {}, [1, 'x'], { a: 1 }]

/** Every path (up to depth 5) in a value, with the value there. */
function* paths(v: unknown, at: (string | number)[] = []): Generator<(string | number)[]> {
  if (at.length) yield at
  if (at.length >= 5 || v === null || typeof v !== 'object') return
  for (const [k, x] of Object.entries(v)) yield* paths(x, [...at, Array.isArray(v) ? Number(k) : k])
}

function replaced(body: any, path: (string | number)[], value: unknown): any {
  const copy = structuredClone(body)
  let o = copy
  for (const k of path.slice(0, -1)) o = o[k]
  o[path.at(-1)!] = value
  return copy
}

t.test('mutated Cursor bodies: every answer is 2xx or a 4xx error, never a 500', async (t) => {
  const engine = await startEngine(SHIPPED_RULES)
  t.teardown(() => engine.close())
  // No upstream is reachable: a body that gets through the request steps fails as unreachable (502).
  for (const v of ['OPENAI_BASE_URL', 'ANTHROPIC_BASE_URL', 'GEMINI_BASE_URL', 'OPENAI_COMPAT_BASE_URL']) process.env[v] = 'http://127.0.0.1:1'
  let tried = 0
  const bad: string[] = []
  // mulberry32: a small seeded generator, so a failure reproduces.
  let seed = Number(process.env.BAD_INPUT_SEED ?? 7)
  const rand = (n: number) => {
    seed = (seed + 0x6d2b79f5) | 0
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x
    return (((x ^ (x >>> 14)) >>> 0) % n)
  }
  for (const f of fixtures) {
    const all = [...paths(f)].filter((p) => p[0] !== 'model')
    for (let i = 0; i < 60; i++) {
      const path = all[rand(all.length)]!
      const body = replaced(f, path, WRONG[rand(WRONG.length)])
      body.stream = false
      const r = await request(`${engine.url}/cursor/chat/completions`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } })
      const out = (await r.body.json()) as any
      tried++
      if (r.statusCode >= 500 && out?.error?.code !== 'RE_UPSTREAM_UNREACHABLE') bad.push(`${path.join('.')} = ${JSON.stringify(body === undefined ? null : path.reduce((o: any, k) => o[k], body))} → ${r.statusCode} ${out?.error?.message}`)
    }
  }
  t.ok(tried >= 500, `${tried} mutated bodies`)
  t.same([...new Set(bad)], [], 'no mutation fails inside a transform')
})

t.test('the 400 names the field', async (t) => {
  const engine = await startEngine(SHIPPED_RULES)
  t.teardown(() => engine.close())
  const r = await request(`${engine.url}/v1/chat/completions`, { method: 'POST', body: '{"model":"claude-sonnet-4-6","messages":"hello"}' })
  t.equal(r.statusCode, 400)
  const body = (await r.body.json()) as any
  t.equal(body.error.code, 'RE_BAD_REQUEST')
  t.equal(body.error.param, 'messages')
  t.match(body.error.message, /^bad input: \/messages must be array,null/)
})
