// pipeline/retry.ts and how rules declare it: the failure kinds, the delay (backoff, jitter,
// retry-after), the loop over targets, and what the compiler builds from `retry` and `fallback`.
import t from 'tap'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { RouteError } from '../../engine/errors.js'
import { failureKind, retryAfter, retryDelay, tryTargets, type Failure } from '../../engine/pipeline/retry.js'
import { loadRuleset } from '../../engine/ruleset/compile.js'
import type { RetryPolicy, Target } from '../../engine/ruleset/ruleset.js'

const policy = (p: Partial<RetryPolicy> = {}): RetryPolicy => ({ attempts: 2, backoffMs: 100, maxDelayMs: 1000, on: new Set(['connect', '429', '5xx']), ...p })

t.test('failure kinds: only failures that came from an upstream', async (t) => {
  t.equal(failureKind(429), '429')
  t.equal(failureKind(503), '5xx')
  t.equal(failureKind(404), null)
  t.equal(failureKind(new RouteError('RE_UPSTREAM_UNREACHABLE', 'x', { upstream: 'u' })), 'connect')
  t.equal(failureKind(new RouteError('RE_UPSTREAM_BUSY', 'x', { upstream: 'u' })), 'connect')
  t.equal(failureKind(new RouteError('RE_UPSTREAM_TIMEOUT', 'x', { upstream: 'u' })), 'timeout')
  t.equal(failureKind(new RouteError('RE_UPSTREAM_STREAM', 'x', { upstream: 'u', status: 529 })), '5xx', 'an in-band error by its status')
  t.equal(failureKind(new RouteError('RE_RULE_FAILED', 'x', { upstream: 'u', status: 429 })), '429')
  t.equal(failureKind(new RouteError('RE_RULE_FAILED', 'x', { status: 503 })), null, "a rule's own fail step is not an upstream failure")
  t.equal(failureKind(new RouteError('RE_TRANSFORM_FAILED', 'x')), null)
})

t.test('delays: exponential with jitter, capped; retry-after honoured up to maxDelay', async (t) => {
  for (let n = 0; n < 50; n++) {
    const d0 = retryDelay(policy(), 0, null)!
    const d3 = retryDelay(policy(), 3, null)!
    t.ok(d0 >= 50 && d0 <= 100 && d3 >= 400 && d3 <= 800, `${d0} ${d3}`)
    const capped = retryDelay(policy(), 10, null)!
    t.ok(capped >= 500 && capped <= 1000)
  }
  t.equal(retryDelay(policy(), 0, 700), 700)
  t.equal(retryDelay(policy(), 0, 1500), null, 'longer than maxDelay: not retried')
  t.equal(retryAfter({ 'retry-after': '2' }), 2000)
  t.equal(retryAfter({ 'retry-after-ms': '150', 'retry-after': '9' }), 150)
  t.equal(retryAfter({ 'retry-after': 'soon' }), null)
  t.equal(retryAfter({}), null)
  const at = retryAfter({ 'retry-after': new Date(Date.now() + 5000).toUTCString() })!
  t.ok(at > 3000 && at <= 5000, `an HTTP date: ${at}`)
})

t.test('tryTargets: retries, then the next target; a failure no policy covers is answered at once', async (t) => {
  const target = (name: string, p: Partial<RetryPolicy> = {}) => ({ upstream: { name }, retry: policy({ backoffMs: 1, ...p }) }) as unknown as Target
  const fail = (status: number): Failure => ({ status, on: failureKind(status), retryAfterMs: null })
  const events: string[] = []
  const ev = { retry: (x: Target) => events.push(`retry ${x.upstream.name}`), fallback: (_: Target, to: Target) => events.push(`fallback ${to.upstream.name}`) }
  const tries: string[] = []
  const script: Record<string, Failure[]> = { a: [fail(503), fail(429), fail(500)], b: [fail(502)], c: [] }
  const run = async (x: Target) => { tries.push(x.upstream.name); return script[x.upstream.name]!.shift() ?? null }
  t.equal(await tryTargets([target('a'), target('b', { attempts: 0 }), target('c')], run, new AbortController().signal, ev), null)
  t.same(tries, ['a', 'a', 'a', 'b', 'c'])
  t.same(events, ['retry a', 'retry a', 'fallback b', 'fallback c'])

  tries.length = 0
  script.a = [fail(400)]
  const last = await tryTargets([target('a'), target('b')], run, new AbortController().signal, ev)
  t.equal(last?.status, 400)
  t.same(tries, ['a'], 'a 400 is not retried nor fallen back on')

  tries.length = 0
  script.a = [fail(503), fail(503)]
  const ac = new AbortController()
  const slow = target('a', { backoffMs: 60_000, maxDelayMs: 60_000 })
  const pending = tryTargets([slow], run, ac.signal, ev)
  ac.abort(new Error('client gone'))
  await t.rejects(pending, /client gone/, 'an abort ends the wait')
})

t.test('rules: retry and fallback compile into targets; problems are placed', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 're-retry-'))
  writeFileSync(join(dir, 'r.yaml'), `upstreams:
  a: { base: http://127.0.0.1:1 }
  b: { base: http://127.0.0.1:2 }
rules:
  - name: r
    match: { path: /r }
    request: ['$']
    upstream: { to: a }
    response: { body: '$' }
    retry: { attempts: 2, on: [connect, 429] }
    fallback:
      - upstream: { to: b, path: /x }
      - upstream: { to: b }
        request: ['{"other": true}']
        retry: { attempts: 0 }
`)
  const { ruleset, problems } = await loadRuleset(dir)
  t.same(problems.errors, [])
  const [own, first, second] = ruleset!.rules[0]!.targets
  t.equal(ruleset!.rules[0]!.targets.length, 3)
  t.equal(own!.upstream.name, 'a')
  t.same([...own!.retry.on], ['connect', '429'], '429 written as a number')
  t.equal(first!.request, own!.request, 'a fallback without request steps uses the rule’s')
  t.equal(first!.response, own!.response)
  t.equal(first!.retry, own!.retry)
  t.not(second!.request, own!.request)
  t.equal(second!.retry.attempts, 0)

  writeFileSync(join(dir, 'r.yaml'), `upstreams:
  a: { base: http://127.0.0.1:1 }
rules:
  - name: r
    match: { path: /r }
    upstream: { to: a }
    retry: { attempts: 2, on: [sometimes] }
  - name: local
    match: { path: /l }
    reply: { body: '1' }
    fallback: [{ upstream: { to: a } }]
`)
  writeFileSync(join(dir, 's.yaml'), `rules:
  - name: s
    match: { path: /s }
    upstream: { to: a }
    fallback:
      - upstream: { to: nowhere }
`)
  const bad = await loadRuleset(dir)
  t.equal(bad.ruleset, null)
  const placed = bad.problems.errors.map((p) => `${p.file.split('/').pop()}:${p.line}:${p.col} ${p.code}`)
  t.ok(placed.includes('r.yaml:7:32 RE_SCHEMA'), `an unknown failure kind (${placed})`)
  t.ok(placed.includes('s.yaml:6:25 RE_UNKNOWN_UPSTREAM'), `an unknown fallback upstream (${placed})`)
  t.ok(placed.some((p) => /^r\.yaml:8:\d+ RE_SCHEMA$/.test(p)), 'a fallback on a local reply')
})
