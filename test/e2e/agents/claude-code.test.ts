// Claude Code through `route-engine serve` on the shipped rules, to each upstream family the Messages
// routes serve today (rules/40-messages.yaml: Anthropic pass-through, an OpenAI-compatible Chat server;
// gpt-* and gemini-* are not routed on /v1/messages yet, so their rows are left out). throughGateway
// (test/helpers/agent-gateway.ts) asserts what every run must show; here, also that the upstream's opaque
// reasoning state came back on the next turn. Then an upstream error Claude Code must report (and exit)
// instead of hanging. Runs are sequential (CI has 2 cores). The Codex half stays in
// matrix.test.ts.pending for the Responses route.
import t from 'tap'
import { describeRun, runClaude, workspace } from '../../helpers/agent-clis.js'
import { FAMILIES, startAgentGateway, throughGateway, type AgentGateway } from '../../helpers/agent-gateway.js'

// 2 agent runs of 5-10 s each and an error run, the gateway's start and the schema compiles: past tap's default 120 s per file.
t.setTimeout(600_000)

let gw: AgentGateway
t.before(async () => { gw = await startAgentGateway() })
t.teardown(async () => { await gw?.stop() })

for (const family of [FAMILIES.anthropic, FAMILIES.chat]) {
  t.test(`Claude Code → ${family.model} (${family.api} upstream)`, async (t) => {
    const { calls } = await throughGateway(t, gw, family, family.api === 'anthropic', (ws) => runClaude({ ws, baseUrl: gw.url, model: family.model }))
    t.ok(calls.at(-1)?.body.includes(gw.mocks.get(family.api)!.dialect.opaque), 'the upstream\'s opaque reasoning state came back on the next turn')
  })
}

t.test('Claude Code reports an upstream error and exits instead of hanging', async (t) => {
  const ws = await workspace()
  t.teardown(() => ws.remove())
  const mock = gw.mocks.get('chat')!
  mock.file = ws.file
  mock.fail = { status: 400, message: 'the model refuses this request' }
  t.teardown(() => { mock.fail = null })
  const run = await runClaude({ ws, baseUrl: gw.url, model: 'qwen3-coder' })
  t.equal(run.exitCode, 1, describeRun(run))
  t.match(run.stdout + run.stderr, /API Error: 400.*the model refuses this request/s, 'the upstream\'s message reaches the user')
})
