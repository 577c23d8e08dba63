// The agent harness on its own, before any gateway route: each real agent, run straight against the
// scripted mock of the API it speaks, reads hello.txt with its own tool and ends with the file's random
// content in its output (the mock only quoted the tool result it was sent); and an upstream error the
// agent does not retry (agents-wire.md §1c, §2c) ends the run with that error and a non-zero exit,
// after one request, instead of a hang.
import t, { type Test } from 'tap'
import { agentBins, describeRun, runClaude, runCodex, runContinue, workspace, type Workspace } from '../../helpers/agent-clis.js'
import { QUOTE_PREFIX, startAgentUpstream, type AgentUpstream } from '../../helpers/agent-upstreams.js'

// Installs the pinned CLIs into the cache when they are not there yet (a failed install fails the file).
await agentBins()

async function setup(t: Test, api: 'anthropic' | 'responses' | 'chat'): Promise<{ mock: AgentUpstream; ws: Workspace }> {
  const mock = await startAgentUpstream(api)
  const ws = await workspace()
  mock.file = ws.file
  t.teardown(async () => { await mock.close(); await ws.remove() })
  return { mock, ws }
}

t.test('Claude Code against the Anthropic Messages mock reads hello.txt with Read and prints what it holds', async (t) => {
  const { mock, ws } = await setup(t, 'anthropic')
  const run = await runClaude({ ws, baseUrl: mock.origin, model: 'claude-sonnet-4-5' })
  t.comment(`claude -p: ${run.seconds.toFixed(1)} s`)
  t.equal(run.exitCode, 0, describeRun(run))
  t.match(run.stdout, ws.content, `the file's content reached the output\n${describeRun(run)}`)
  const calls = mock.calls()
  t.equal(calls.length, 2, 'one call for the tool, one for the answer')
  t.match(calls[0]?.url, /^\/v1\/messages\?beta=true$/)
  t.ok(mock.dialect.tools(calls[0]?.json).some((tool) => tool.name === 'Read'), 'the first call offers Read')
  t.equal(mock.dialect.toolResult(calls[0]?.json), undefined)
  t.match(mock.dialect.toolResult(calls[1]?.json), ws.content, 'the second call carries what Read returned')
  t.ok(calls[1]?.body.includes(mock.dialect.opaque), 'the thinking signature came back')
  t.ok(run.stdout.includes(QUOTE_PREFIX), 'the output is the mock\'s final text')
})

t.test('Codex against the Responses mock reads hello.txt with exec_command and prints what it holds', async (t) => {
  const { mock, ws } = await setup(t, 'responses')
  const run = await runCodex({ ws, baseUrl: mock.base, model: 'gpt-5.5' })
  t.comment(`codex exec: ${run.seconds.toFixed(1)} s`)
  t.equal(run.exitCode, 0, describeRun(run))
  t.match(run.stdout, ws.content, `the file's content reached the output\n${describeRun(run)}`)
  const calls = mock.calls()
  t.equal(calls.length, 2, 'one call for the tool, one for the answer')
  t.equal(calls[0]?.url, '/v1/responses')
  t.ok(mock.dialect.tools(calls[0]?.json).some((tool) => tool.name === 'exec_command'), 'the first call offers exec_command')
  t.match(mock.dialect.toolResult(calls[1]?.json), ws.content, 'the second call carries what the command printed')
  t.ok(calls[1]?.body.includes(mock.dialect.opaque), 'the reasoning item\'s encrypted_content came back')
})

t.test('Continue CLI against the Chat Completions mock reads hello.txt with Read (filepath) and prints what it holds', async (t) => {
  const { mock, ws } = await setup(t, 'chat')
  const run = await runContinue({ ws, baseUrl: mock.base, model: 'gpt-4.1' })
  t.comment(`cn -p: ${run.seconds.toFixed(1)} s`)
  t.equal(run.exitCode, 0, describeRun(run))
  t.match(run.stdout, ws.content, `the file's content reached the output\n${describeRun(run)}`)
  const calls = mock.calls()
  t.equal(calls.length, 2, 'one call for the tool, one for the answer')
  t.equal(calls[0]?.url, '/v1/chat/completions')
  t.ok(mock.dialect.tools(calls[0]?.json).some((tool) => tool.name === 'Read' && tool.parameters?.properties?.filepath), 'the first call offers Read with a filepath parameter')
  t.match(mock.dialect.toolResult(calls[1]?.json), ws.content, 'the second call carries what Read returned')
  t.ok(run.stdout.includes(QUOTE_PREFIX), 'the output is the mock\'s final text')
})

// Continue sends gpt-5* and o* names to the Responses API, whatever its apiBase: the premise of
// chat-agent-responses.test.ts.pending, which runs the same through the gateway.
t.test('Continue CLI on gpt-5.5 calls /v1/responses, reads hello.txt with Read and prints what it holds', async (t) => {
  const { mock, ws } = await setup(t, 'responses')
  const run = await runContinue({ ws, baseUrl: mock.base, model: 'gpt-5.5' })
  t.comment(`cn -p, gpt-5.5: ${run.seconds.toFixed(1)} s`)
  t.equal(run.exitCode, 0, describeRun(run))
  t.match(run.stdout, ws.content, `the file's content reached the output\n${describeRun(run)}`)
  const calls = mock.calls()
  t.equal(calls.length, 2, 'one call for the tool, one for the answer')
  t.same(mock.seen.map((s) => `${s.method} ${s.url}`), ['POST /v1/responses', 'POST /v1/responses'], 'both calls went to /v1/responses, nothing else')
  t.match(mock.dialect.toolResult(calls[1]?.json), ws.content, 'the second call carries what Read returned')
})

t.test('Claude Code reports a 400 invalid_request_error once and exits non-zero', async (t) => {
  const { mock, ws } = await setup(t, 'anthropic')
  mock.fail = { status: 400, message: 'messages.0.content: scripted failure for the harness' }
  const run = await runClaude({ ws, baseUrl: mock.origin, model: 'claude-sonnet-4-5' })
  t.comment(`claude -p, error: ${run.seconds.toFixed(1)} s`)
  t.equal(run.timedOut, false, describeRun(run))
  t.not(run.exitCode, 0, describeRun(run))
  t.match(run.stdout + run.stderr, 'API Error: 400 messages.0.content: scripted failure for the harness')
  t.equal(mock.calls().length, 1, 'not retried')
})

t.test('Codex reports a 400 invalid_request_error once and exits non-zero', async (t) => {
  const { mock, ws } = await setup(t, 'responses')
  mock.fail = { status: 400, message: "Invalid value for 'input': scripted failure for the harness", code: 'invalid_value' }
  const run = await runCodex({ ws, baseUrl: mock.base, model: 'gpt-5.5' })
  t.comment(`codex exec, error: ${run.seconds.toFixed(1)} s`)
  t.equal(run.timedOut, false, describeRun(run))
  t.not(run.exitCode, 0, describeRun(run))
  t.match(run.stdout + run.stderr, "Invalid value for 'input': scripted failure for the harness")
  t.equal(mock.calls().length, 1, 'not retried')
})
