// A Chat Completions agent through the gateway's /v1 routes, as they serve such agents today: Continue
// CLI (`cn -p`, provider openai, apiBase = the gateway's /v1) with a model name that routes to each of
// the four upstream families. Each run reads hello.txt with Continue's Read tool and ends, exit 0, with
// what the file holds (test/helpers/agent-gateway.ts checks the rest). The OpenAI family is reached with
// gpt-4.1: Continue sends gpt-5* and o* names to /v1/responses instead (direct.test.ts), a route the
// gateway does not have yet; chat-agent-responses.test.ts.pending is that case. Runs are sequential.
import t from 'tap'
import { runContinue } from '../../helpers/agent-clis.js'
import { FAMILIES, startAgentGateway, throughGateway, type AgentGateway, type Family } from '../../helpers/agent-gateway.js'

interface Run {
  family: Family
  /** Whether the gateway brings the upstream's opaque reasoning state (dialect.opaque) back on the next turn. */
  replays: boolean
}

const RUNS: Run[] = [
  // Continue asks for no reasoning effort, so thinking is off, and the gateway replays signed thinking
  // only into a request with thinking on (to-anthropic.jsonata, $thinkingOk).
  { family: FAMILIES.anthropic, replays: false },
  // Not a reasoning model: the gateway sends it no reasoning items (to-responses.jsonata, $isReasoning).
  { family: { ...FAMILIES.responses, model: 'gpt-4.1' }, replays: false },
  { family: FAMILIES.gemini, replays: true },
  { family: FAMILIES.chat, replays: true },
]

// 4 runs of 20-30 s each under load, the gateway's start and the schema compiles: past tap's default 120 s.
t.setTimeout(400_000)

let gw: AgentGateway
t.before(async () => { gw = await startAgentGateway() })
t.teardown(() => gw?.stop())

for (const { family, replays } of RUNS) {
  t.test(`Continue CLI → /v1/chat/completions → ${family.model} (${family.api} upstream) reads hello.txt`, async (t) => {
    const { calls, requests } = await throughGateway(t, gw, family, family.api === 'chat', (ws) => runContinue({ ws, baseUrl: `${gw.url}/v1`, model: family.model }))
    t.same([...new Set(requests)], ['POST /v1/chat/completions 200'], 'every request went to /v1/chat/completions and was answered 200')
    const { opaque } = gw.mocks.get(family.api)!.dialect
    t.equal(calls.at(-1)?.body.includes(opaque), replays, `the upstream's opaque reasoning state ${replays ? 'came' : 'did not come'} back on the next turn`)
  })
}
