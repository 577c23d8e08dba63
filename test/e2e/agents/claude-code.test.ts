// Claude Code through `route-engine serve` on the shipped rules, to each upstream family the Messages
// routes serve today (rules/40-messages.yaml: Anthropic pass-through, an OpenAI-compatible Chat server;
// gpt-* and gemini-* are not routed on /v1/messages yet, so their rows are left out). Every run must read
// hello.txt with Claude Code's own tool and end, exit 0, with what the file holds; the family's mock
// (and no other) must have been called, with the upstream's own key, and every request it got must be
// valid against that upstream's official strict schema. Then an upstream error Claude Code must report
// (and exit) instead of hanging. Runs are sequential (CI has 2 cores). The Codex half stays in
// matrix.test.ts.pending for the Responses route.
import t from 'tap'
import { describeRun, runClaude, workspace, AGENT_KEY, agentBins, type AgentRun } from '../../helpers/agent-clis.js'
import { QUOTE_PREFIX, startAgentUpstream, type AgentApi, type AgentUpstream } from '../../helpers/agent-upstreams.js'
import { serveCli, type CliServer } from '../../helpers/cli-server.js'
import { declared, explain, schema, type SchemaApi } from '../../helpers/schemas.js'
import type { Seen } from '../../helpers/server.js'

interface Family {
  api: AgentApi
  /** A model name the shipped rules route to this family (agents-pack: the Cursor pack's table). */
  model: string
  baseVar: string
  keyVar: string
  /** The strict schema of the upstream's request body. */
  request: [SchemaApi, string]
  /** The header that carries the upstream's key, and how. */
  auth: (key: string) => [string, string]
}

const FAMILIES: Family[] = [
  { api: 'anthropic', model: 'claude-sonnet-4-5', baseVar: 'ANTHROPIC_BASE_URL', keyVar: 'ANTHROPIC_API_KEY', request: ['anthropic', 'CreateMessageParams'], auth: (k) => ['x-api-key', k] },
  { api: 'chat', model: 'qwen3-coder', baseVar: 'OPENAI_COMPAT_BASE_URL', keyVar: 'OPENAI_COMPAT_API_KEY', request: ['openai', 'CreateChatCompletionRequest'], auth: (k) => ['authorization', `Bearer ${k}`] },
]

interface Agent {
  name: string
  /** The family whose dialect the agent speaks: requests to it go up as sent (agents-pack "same dialect"). */
  own: AgentApi
  run: (gateway: string, model: string, ws: Awaited<ReturnType<typeof workspace>>) => Promise<AgentRun>
}

const AGENTS: Agent[] = [
  { name: 'Claude Code', own: 'anthropic', run: (gw, model, ws) => runClaude({ ws, baseUrl: gw, model }) },
]

// 2 agent runs of 5-10 s each and an error run, the gateway's start and the schema compiles: past tap's default 120 s per file.
t.setTimeout(600_000)

const upstreamKey = (api: AgentApi) => `sk-upstream-${api}-e2e`

/**
 * The request body with what a forwarded `anthropic-beta` header enables taken out: the strict
 * (non-beta) schema knows neither `context_management` nor `role: "system"` messages, and a body that
 * goes up as Claude Code sent it carries both (agents-wire §1b); everything else is checked as is.
 */
function withoutBetaFields(seen: Seen): any {
  const betas = String(seen.headers['anthropic-beta'] ?? '').split(',')
  const body = structuredClone(seen.json)
  if (betas.includes('context-management-2025-06-27')) delete body.context_management
  if (betas.includes('mid-conversation-system-2026-04-07')) body.messages = body.messages.filter((m: any) => m.role !== 'system')
  return body
}

/** Everything wrong with one upstream request: strict-schema errors, and top-level fields OpenAI refuses. */
function problems(family: Family, seen: Seen, passThrough: boolean): string[] {
  const [api, name] = family.request
  const body = family.api === 'anthropic' && passThrough ? withoutBetaFields(seen) : seen.json
  const v = schema(api, name)
  const out = v(body) ? [] : [explain(v)]
  // The OpenAI schemas leave the top level open where the API answers 400 "Unrecognized request argument";
  // a body the client wrote itself (pass-through) is the client's business.
  if (api === 'openai' && !passThrough) {
    const allowed = declared(api, name)
    out.push(...Object.keys(body).filter((k) => !allowed.has(k)).map((k) => `top-level field ${k} is not in ${name}`))
  }
  const [header, value] = family.auth(upstreamKey(family.api))
  if (seen.headers[header] !== value) out.push(`${header} is not the upstream's key`)
  if (JSON.stringify(seen.headers).includes(AGENT_KEY)) out.push('the agent\'s own key went upstream')
  return out
}

const mocks = new Map<AgentApi, AgentUpstream>()
let gateway: CliServer

t.before(async () => {
  await agentBins()
  for (const f of FAMILIES) mocks.set(f.api, await startAgentUpstream(f.api))
  const env: Record<string, string> = {}
  for (const f of FAMILIES) {
    env[f.baseVar] = mocks.get(f.api)!.base
    env[f.keyVar] = upstreamKey(f.api)
  }
  gateway = await serveCli(['--no-watch'], env)
  // Compile the validators first: compiling the big OpenAI ones takes seconds.
  for (const f of FAMILIES) schema(...f.request)
})

t.teardown(async () => {
  await gateway?.stop()
  for (const m of mocks.values()) await m.close()
})

for (const agent of AGENTS) {
  for (const family of FAMILIES) {
    t.test(`${agent.name} → ${family.model} (${family.api} upstream)`, async (t) => {
      const ws = await workspace()
      t.teardown(() => ws.remove())
      const before = new Map([...mocks].map(([api, m]) => [api, m.calls().length]))
      for (const m of mocks.values()) m.file = ws.file
      const run = await agent.run(gateway.url, family.model, ws)
      t.comment(`${agent.name} → ${family.api}: ${run.seconds.toFixed(1)} s`)

      t.equal(run.exitCode, 0, describeRun(run))
      t.match(run.stdout, ws.content, `the file's content reached the output\n${describeRun(run)}`)
      t.ok(run.stdout.includes(QUOTE_PREFIX), 'the output is the upstream\'s final text')

      const mock = mocks.get(family.api)!
      const calls = mock.calls().slice(before.get(family.api))
      for (const [api, m] of mocks) if (api !== family.api) t.equal(m.calls().length, before.get(api), `nothing went to the ${api} upstream`)
      t.ok(calls.length >= 2, `a call for the tool and one for the answer (${calls.length})`)
      t.ok(calls.some((c) => (mock.dialect.toolResult(c.json) ?? '').includes(ws.content)), 'the tool result went up in the upstream\'s dialect')
      const last = calls.at(-1)
      t.ok(last?.body.includes(mock.dialect.opaque), 'the upstream\'s opaque reasoning state came back on the next turn')
      for (const [i, c] of calls.entries()) {
        t.same(problems(family, c, family.api === agent.own), [], `request ${i} (${c.method} ${c.url}) is valid for ${family.request.join(' ')}`)
      }
    })
  }
}

t.test('Claude Code reports an upstream error and exits instead of hanging', async (t) => {
  const ws = await workspace()
  t.teardown(() => ws.remove())
  const mock = mocks.get('chat')!
  mock.file = ws.file
  mock.fail = { status: 400, message: 'the model refuses this request' }
  t.teardown(() => { mock.fail = null })
  const run = await runClaude({ ws, baseUrl: gateway.url, model: 'qwen3-coder' })
  t.equal(run.exitCode, 1, describeRun(run))
  t.match(run.stdout + run.stderr, /API Error: 400.*the model refuses this request/s, 'the upstream\'s message reaches the user')
})
