// Compiled expressions ≡ jsonata's interpreter, on the shipped rules as the engine runs them: every
// rule's request pipeline on every request fixture (cursor/, requests/, the transcripts' requests), every response body, error transform and error
// writer on every upstream reply, every stream program on every transcript (event by event, end and
// error paths, the writer's error frame), and
// the same again on a generated corpus (fixtures mutated at random, seeded). The engine runs in check
// mode (engine/expr/check.ts): each evaluation runs in both, and any difference fails this test.
import { readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'

const report = join(tmpdir(), `expr-check-${process.pid}.jsonl`)
process.env.ROUTE_ENGINE_EXPR_CHECK = report
const { loadRuleset } = await import('../../engine/ruleset/compile.js')
const { checkStats } = await import('../../engine/expr/check.js')
const { transformRequest } = await import('../../engine/pipeline/transform-request.js')
const { transformResponse, transformError } = await import('../../engine/pipeline/transform-response.js')
const { transformStream } = await import('../../engine/pipeline/transform-stream.js')
const { createSseDecoder } = await import('../../engine/sse/decode.js')
const { RouteError } = await import('../../engine/errors.js')
const { writeError, writerFor } = await import('../../engine/pipeline/write-error.js')
const { MemoryStore } = await import('../../engine/store/memory.js')
t.teardown(() => rmSync(report, { force: true }))

const fixtures = new URL('../fixtures/', import.meta.url)
const json = (path: string): any => JSON.parse(readFileSync(new URL(path, fixtures), 'utf8'))
const list = (dir: string, re: RegExp): string[] => readdirSync(new URL(dir, fixtures)).filter((f) => re.test(f)).map((f) => dir + f)
const UPSTREAM_DIR: Record<string, string> = { openai: 'streams/responses/', anthropic: 'streams/anthropic-messages/', gemini: 'streams/gemini/', 'openai-compat': 'streams/chat-completions/' }

const { ruleset, problems } = await loadRuleset(new URL('../../rules/', import.meta.url).pathname)
if (!ruleset) throw new Error(problems.items.map((p) => p.message).join('\n'))
const rules = ruleset.rules.filter((r) => r.upstream && r.request.length > 0)
const requests = [...list('cursor/', /^(?!expected).*\.json$/), ...list('requests/', /\.json$/), ...Object.values(UPSTREAM_DIR).flatMap((d) => list(d, /\.request\.json$/))].map((f) => ({ name: f, body: json(f) }))

function bindings(rule: (typeof rules)[number], request: unknown, store: InstanceType<typeof MemoryStore>): Record<string, unknown> {
  return {
    request,
    ctx: { id: 'corpus00', created: 1767225600, model: (request as { model?: string })?.model, path: '/cursor/chat/completions', method: 'POST', rule: rule.name, upstream: rule.upstream?.name, headers: {}, query: {} },
    vars: rule.vars,
    models: ruleset!.models,
    recall: (k: unknown) => store.get(String(k)),
    remember: async (k: unknown, v: unknown, ttl?: number) => { await store.set(String(k), v, ttl); return v },
  }
}

/** How a rule's errors are written, as the engine writes them on its route. */
const errorsOf = (rule: (typeof rules)[number], b: Record<string, unknown>) => ({ writer: writerFor(ruleset!, '/cursor/chat/completions', rule), bindings: b })

/** Runs a promise and swallows its failure: engine errors are outcomes here (both engines must agree on them). */
const settle = (p: Promise<unknown>): Promise<unknown> => p.catch(() => undefined)

async function requestPipelines(bodies: { name: string; body: unknown }[]): Promise<void> {
  for (const rule of rules) for (const { body } of bodies) await settle(transformRequest(rule.request, body, bindings(rule, body, new MemoryStore()), rule.name))
}

async function replies(mutate: (v: unknown) => unknown): Promise<void> {
  for (const rule of rules) {
    const dir = UPSTREAM_DIR[rule.upstream!.name]!
    const request = json(list(dir, /^text\.request\.json$/)[0]!)
    for (const f of list(dir, /\.response\.json$/)) {
      const b = bindings(rule, request, new MemoryStore())
      const reply = mutate(json(f))
      if (f.endsWith('error.response.json')) {
        for (const status of [400, 401, 429, 500, 503]) {
          await settle(transformError(rule.response, rule.name, rule.upstream!.name, status, JSON.stringify(reply), { 'retry-after-ms': '1500' }, b)
            .then((e) => writeError(errorsOf(rule, b), e, false)))
        }
      } else await settle(transformResponse(rule.response, rule.name, reply, b))
    }
  }
}

async function streams(mutate: (events: { event?: string; data: string }[]) => { event?: string; data: string }[]): Promise<void> {
  for (const rule of rules) {
    const program = rule.response.stream
    if (!program) continue
    const dir = UPSTREAM_DIR[rule.upstream!.name]!
    for (const f of list(dir, /\.sse$/)) {
      const scenario = f.replace(/^.*\//, '').replace(/\.sse$/, '')
      const reqFile = list(dir, new RegExp(`^${scenario.replace(/_data_framed$/, '')}\\.request\\.json$`))[0] ?? list(dir, /^text\.request\.json$/)[0]!
      const request = json(reqFile)
      const events: { event?: string; data: string }[] = []
      const decoder = createSseDecoder((e) => events.push(e))
      decoder.push(readFileSync(new URL(f, fixtures)))
      decoder.end()
      for (const withError of [false, true]) {
        const b = bindings(rule, request, new MemoryStore())
        const run = transformStream(program, b, rule.name, rule.upstream!.name)
        const fail = async (err: InstanceType<typeof RouteError>) => run.onError(err, (await writeError(errorsOf(rule, b), err, true)).body)
        try {
          for (const e of mutate(events)) if ((await run.onEvent(e)).stop) break
          if (withError) await fail(new RouteError('RE_UPSTREAM_STREAM', 'the stream broke'))
          else await run.onEnd()
        } catch (err) {
          if (err instanceof RouteError) await fail(err)
        }
      }
    }
  }
}

/** A seeded generator (mulberry32): the generated corpus is the same on every run. */
function random(seed: number): () => number {
  return () => {
    seed |= 0; seed = (seed + 0x6d2b79f5) | 0
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
}

/** A copy of a JSON value with one to three random edits: a key dropped, a value replaced, an array item doubled or emptied. */
function mutator(rand: () => number): (v: unknown) => unknown {
  const REPLACEMENTS = [null, '', 0, 1.5, true, [], {}, 'x', [{}], { type: 'text', text: 'y' }]
  const edit = (v: unknown, depth: number): unknown => {
    if (Array.isArray(v)) {
      if (v.length && rand() < 0.7) { const i = Math.floor(rand() * v.length); const copy = [...v]; copy[i] = edit(v[i], depth + 1); return copy }
      return rand() < 0.5 ? [...v, ...v.slice(0, 1)] : []
    }
    if (v && typeof v === 'object') {
      const keys = Object.keys(v)
      if (!keys.length) return { k: 1 }
      const k = keys[Math.floor(rand() * keys.length)]!
      const copy: Record<string, unknown> = { ...(v as Record<string, unknown>) }
      const r = rand()
      if (r < 0.2 && depth > 0) delete copy[k]
      else if (r < 0.35) copy[k] = REPLACEMENTS[Math.floor(rand() * REPLACEMENTS.length)]
      else copy[k] = edit(copy[k], depth + 1)
      return copy
    }
    return rand() < 0.5 ? REPLACEMENTS[Math.floor(rand() * REPLACEMENTS.length)] : v
  }
  return (v) => {
    let out = structuredClone(v)
    for (let n = 1 + Math.floor(rand() * 3); n > 0; n--) out = edit(out, 0)
    return out
  }
}

const VARIANTS = 2

t.test('every request pipeline on every request fixture', async (t) => {
  const before = checkStats().evaluations
  await requestPipelines(requests)
  t.ok(checkStats().evaluations - before > 500, `${checkStats().evaluations - before} evaluations compared`)
  t.equal(checkStats().mismatches, 0, 'no differences')
})

t.test('every response and error transform on every upstream reply', async (t) => {
  const before = checkStats().evaluations
  await replies((v) => v)
  t.ok(checkStats().evaluations - before > 30, `${checkStats().evaluations - before} evaluations compared`)
  t.equal(checkStats().mismatches, 0, 'no differences')
})

t.test('every stream program on every transcript, to its end and to an error', async (t) => {
  const before = checkStats().evaluations
  await streams((events) => events)
  t.ok(checkStats().evaluations - before > 1000, `${checkStats().evaluations - before} evaluations compared`)
  t.equal(checkStats().mismatches, 0, 'no differences')
})

t.test('no evaluation of the fixtures was handed back to the interpreter (except to report an error)', async (t) => {
  const handed = Object.entries(checkStats().handedBack).filter(([why]) => !why.startsWith('(failing)'))
  t.same(handed, [], 'all compiled')
})

t.test('a generated corpus: the fixtures mutated at random', async (t) => {
  const rand = random(20260601)
  const mutate = mutator(rand)
  const before = checkStats().evaluations
  for (let i = 0; i < VARIANTS; i++) {
    await requestPipelines(requests.map((r) => ({ name: r.name, body: mutate(r.body) })))
    await replies(mutate)
    await streams((events) => events.map((e) => {
      if (rand() > 0.15 || !e.data.startsWith('{')) return e
      return { ...e, data: JSON.stringify(mutate(JSON.parse(e.data))) }
    }))
  }
  t.ok(checkStats().evaluations - before > 3000, `${checkStats().evaluations - before} evaluations compared`)
  t.equal(checkStats().mismatches, 0, 'no differences')
  if (checkStats().mismatches) t.comment(readFileSync(report, 'utf8').split('\n').slice(0, 5).join('\n'))
  t.comment(`handed back to the interpreter: ${JSON.stringify(checkStats().handedBack)}`)
})
