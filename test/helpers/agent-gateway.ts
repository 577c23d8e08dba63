// The real agents through `route-engine serve` on the shipped rules, in front of the scripted mocks of the
// four upstream families (test/helpers/agent-upstreams.ts), each reached through its *_BASE_URL with a key
// of its own. throughGateway runs one agent with a model name that routes to one family and checks what
// every such run must show: exit 0 with the file's content in the output (the agent read it with its own
// tool, the result went up in the family's dialect and the answer came back down), only that family's
// mock called, and every request it got valid against that upstream's official strict schema, with the
// upstream's key and not the agent's.
import type { Test } from 'tap'
import { AGENT_KEY, agentBins, describeRun, workspace, type AgentRun, type Workspace } from './agent-clis.js'
import { QUOTE_PREFIX, startAgentUpstream, type AgentApi, type AgentUpstream } from './agent-upstreams.js'
import { serveCli, type CliServer } from './cli-server.js'
import { declared, explain, schema, type SchemaApi } from './schemas.js'
import type { Seen } from './server.js'

export interface Family {
  api: AgentApi
  /** A model name the shipped rules route to this family. */
  model: string
  baseVar: string
  keyVar: string
  /** The strict schema of the upstream's request body. */
  request: [SchemaApi, string]
  /** The header that carries the upstream's key, and how. */
  auth: (key: string) => [string, string]
}

export const FAMILIES: Record<AgentApi, Family> = {
  anthropic: { api: 'anthropic', model: 'claude-sonnet-4-5', baseVar: 'ANTHROPIC_BASE_URL', keyVar: 'ANTHROPIC_API_KEY', request: ['anthropic', 'CreateMessageParams'], auth: (k) => ['x-api-key', k] },
  responses: { api: 'responses', model: 'gpt-5.5', baseVar: 'OPENAI_BASE_URL', keyVar: 'OPENAI_API_KEY', request: ['openai', 'CreateResponse'], auth: (k) => ['authorization', `Bearer ${k}`] },
  gemini: { api: 'gemini', model: 'gemini-2.5-pro', baseVar: 'GEMINI_BASE_URL', keyVar: 'GEMINI_API_KEY', request: ['gemini', 'GenerateContentRequest'], auth: (k) => ['x-goog-api-key', k] },
  chat: { api: 'chat', model: 'qwen3-coder', baseVar: 'OPENAI_COMPAT_BASE_URL', keyVar: 'OPENAI_COMPAT_API_KEY', request: ['openai', 'CreateChatCompletionRequest'], auth: (k) => ['authorization', `Bearer ${k}`] },
}

export const upstreamKey = (api: AgentApi) => `sk-upstream-${api}-e2e`

export interface AgentGateway {
  /** The gateway's origin, http://127.0.0.1:PORT */
  url: string
  server: CliServer
  mocks: Map<AgentApi, AgentUpstream>
  stop(): Promise<void>
}

/** The pinned agents installed, the four mocks, the gateway in front of them, and the schemas compiled. */
export async function startAgentGateway(): Promise<AgentGateway> {
  await agentBins()
  const mocks = new Map<AgentApi, AgentUpstream>()
  const env: Record<string, string> = {}
  for (const f of Object.values(FAMILIES)) {
    const mock = await startAgentUpstream(f.api)
    mocks.set(f.api, mock)
    env[f.baseVar] = mock.base
    env[f.keyVar] = upstreamKey(f.api)
  }
  const server = await serveCli(['--no-watch'], env)
  // Compiled before the first run: compiling the big OpenAI ones takes seconds.
  for (const f of Object.values(FAMILIES)) schema(...f.request)
  return {
    url: server.url,
    server,
    mocks,
    async stop() {
      await server.stop()
      for (const m of mocks.values()) await m.close()
    },
  }
}

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

/** Everything wrong with one upstream request: strict-schema errors, top-level fields OpenAI refuses, keys. */
export function problems(family: Family, seen: Seen, passThrough: boolean): string[] {
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

export interface GatewayRun {
  run: AgentRun
  ws: Workspace
  /** The model calls the family's mock got during the run. */
  calls: Seen[]
  /** What the gateway's request log says of each request of the run: "POST /v1/chat/completions 200". */
  requests: string[]
}

/**
 * One agent run through the gateway to `family`, with what every such run must show asserted on `t`.
 * passThrough: the agent speaks the family's own dialect, so its requests go up as it wrote them.
 */
export async function throughGateway(
  t: Test, gw: AgentGateway, family: Family, passThrough: boolean, start: (ws: Workspace) => Promise<AgentRun>,
): Promise<GatewayRun> {
  const ws = await workspace()
  t.teardown(() => ws.remove())
  const before = new Map([...gw.mocks].map(([api, m]) => [api, m.calls().length]))
  const logsBefore = gw.server.logs.length
  for (const m of gw.mocks.values()) m.file = ws.file
  const run = await start(ws)
  t.comment(`${family.model} → ${family.api}: ${run.seconds.toFixed(1)} s; output: ${JSON.stringify(run.stdout.trim())}`)

  t.equal(run.exitCode, 0, describeRun(run))
  t.match(run.stdout, ws.content, `the file's content reached the output\n${describeRun(run)}`)
  t.ok(run.stdout.includes(QUOTE_PREFIX), 'the output is the upstream\'s final text')

  const mock = gw.mocks.get(family.api)!
  const calls = mock.calls().slice(before.get(family.api))
  for (const [api, m] of gw.mocks) if (api !== family.api) t.equal(m.calls().length, before.get(api), `nothing went to the ${api} upstream`)
  t.ok(calls.length >= 2, `a call for the tool and one for the answer (${calls.length})`)
  t.ok(calls.some((c) => (mock.dialect.toolResult(c.json) ?? '').includes(ws.content)), 'the tool result went up in the upstream\'s dialect')
  for (const [i, c] of calls.entries()) {
    t.same(problems(family, c, passThrough), [], `request ${i} (${c.method} ${c.url}) is valid for ${family.request.join(' ')}`)
  }
  // The gateway logs a request once its reply is sent, so the agent may have exited first: wait for the
  // line of each call that reached the mock (no await between the count and the wait: none is missed).
  const logged = () => gw.server.logs.slice(logsBefore).filter((l) => l.msg === 'request')
  while (logged().length < calls.length) await gw.server.next((l) => l.msg === 'request')
  return { run, ws, calls, requests: logged().map((l) => `${l.method} ${l.path} ${l.status}`) }
}
