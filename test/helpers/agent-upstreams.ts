// Scripted loopback mocks of the four upstream APIs, for end-to-end runs of the real coding agents
// (test/helpers/agent-clis.ts). Each answers a model call in its own API's dialect, streaming or not:
//   - a request that holds no tool result → a tool call asking the agent to read the mock's `file` with
//     the agent's own file-reading tool, picked by name from the tools the request offers (so it works
//     whatever dialect the gateway translated the agent's tools into);
//   - a request that holds a tool result → the final text, quoting that result.
// The mock never knows what the file holds: text quoting it proves the agent ran its tool and the
// result travelled up, and the answer travelled back down to the agent's output.
// Every request is recorded; `fail` makes every model call answer that error instead.
import { basename, dirname } from 'node:path'
import type { ServerResponse } from 'node:http'
import { mockUpstream, type Seen } from './server.js'
import { anthropic } from './agent-upstreams/anthropic.js'
import { chat } from './agent-upstreams/chat.js'
import { QUOTE_PREFIX, type AgentApi, type Dialect, type Reply, type ScriptedError, type Turn } from './agent-upstreams/dialect.js'
import { gemini } from './agent-upstreams/gemini.js'
import { responses } from './agent-upstreams/responses.js'

export type { AgentApi, ScriptedError } from './agent-upstreams/dialect.js'
export { QUOTE_PREFIX } from './agent-upstreams/dialect.js'

export const DIALECTS: Record<AgentApi, Dialect> = { anthropic, responses, gemini, chat }

/** The parameter of a path-taking tool its schema declares, of those the agents use; file_path when it declares none. */
function pathParameter(parameters: any): string {
  const declared = Object.keys(parameters?.properties ?? {})
  return ['file_path', 'filepath', 'path'].find((p) => declared.includes(p)) ?? 'file_path'
}

/** The agents' file-reading tools, by name, and the arguments that make them read `file`, given the tool's parameters. */
export const READ_TOOLS: Record<string, (file: string, parameters: any) => Record<string, unknown>> = {
  Read: (file, parameters) => ({ [pathParameter(parameters)]: file }), // Claude Code (file_path), Continue CLI (filepath)
  exec_command: (file) => ({ cmd: `cat ${basename(file)}`, workdir: dirname(file) }), // Codex CLI
}

export interface AgentUpstream {
  api: AgentApi
  dialect: Dialect
  /** http://127.0.0.1:PORT */
  origin: string
  /** The base URL an upstream variable holds: the origin and the API's version prefix (/v1, /v1beta). */
  base: string
  /** Every request, in order. */
  seen: Seen[]
  /** The model calls among them. */
  calls(): Seen[]
  /** The absolute path of the file the tool call asks to read. */
  file: string
  /** While set, every model call is answered with this error. */
  fail: ScriptedError | null
  close(): Promise<void>
}

function write(res: ServerResponse, reply: Reply): void {
  if ('sse' in reply) {
    res.writeHead(reply.status, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', ...reply.headers })
    for (const frame of reply.sse) res.write(frame)
    res.end()
    return
  }
  res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers })
  res.end(JSON.stringify(reply.json))
}

/** The step a model call is answered with. */
function turnFor(dialect: Dialect, body: unknown, file: string): Turn {
  const result = dialect.toolResult(body)
  if (result !== undefined) return { kind: 'text', text: `${QUOTE_PREFIX}${result.trim()}` }
  const offered = dialect.tools(body)
  const tool = offered.find((t) => Object.hasOwn(READ_TOOLS, t.name))
  if (tool) return { kind: 'call', name: tool.name, args: READ_TOOLS[tool.name]!(file, tool.parameters) }
  return { kind: 'text', text: `None of the file-reading tools ${Object.keys(READ_TOOLS).join(', ')} is offered; offered: ${offered.map((t) => t.name).join(', ') || 'none'}` }
}

export async function startAgentUpstream(api: AgentApi): Promise<AgentUpstream> {
  const dialect = DIALECTS[api]
  const state = { file: '', fail: null as ScriptedError | null }
  const isCall = (s: Seen) => dialect.call(s.method, new URL(s.url, 'http://upstream'), s.json) !== null
  const mock = await mockUpstream((s, res) => {
    const url = new URL(s.url, 'http://upstream')
    // Claude Code's warm-up probe of its base URL (sent when no proxy is configured).
    if ((s.method === 'HEAD' || s.method === 'GET') && url.pathname === '/') return void res.writeHead(200).end()
    const call = dialect.call(s.method, url, s.json)
    if (!call) return write(res, dialect.error({ status: 404, message: `the ${api} mock serves no ${s.method} ${url.pathname}` }))
    if (s.json === undefined) return write(res, dialect.error({ status: 400, message: `the ${api} mock got a body that is not JSON` }))
    if (state.fail) return write(res, dialect.error(state.fail))
    const turn = turnFor(dialect, s.json, state.file)
    if (turn.kind === 'call' && !state.file) return write(res, dialect.error({ status: 500, message: `the ${api} mock was given no file to read` }))
    write(res, dialect.answer(turn, call.stream, call.model, url, s.json))
  })
  return {
    api,
    dialect,
    origin: mock.url,
    base: mock.url + dialect.prefix,
    seen: mock.seen,
    calls: () => mock.seen.filter(isCall),
    get file() { return state.file },
    set file(f: string) { state.file = f },
    get fail() { return state.fail },
    set fail(e: ScriptedError | null) { state.fail = e },
    close: () => mock.close(),
  }
}
