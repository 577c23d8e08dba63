// What each scripted upstream (../agent-upstreams.ts) needs from its API: how to read a request in that
// API's own dialect and how to write an answer, a stream and an error body the way the real API does.

export type AgentApi = 'anthropic' | 'responses' | 'gemini' | 'chat'

/** One model step the mock answers with: a tool call, or the final text. */
export type Turn =
  | { kind: 'call'; name: string; args: Record<string, unknown> }
  | { kind: 'text'; text: string }

/** An error every model call is answered with, in the API's own error shape. */
export interface ScriptedError {
  status: number
  message: string
  /** The OpenAI error `code` (Responses, Chat), e.g. insufficient_quota; derived from the status when absent. */
  code?: string
}

/** An HTTP answer: a JSON body, or SSE frames written one write each (each frame with its terminator). */
export type Reply =
  | { status: number; headers?: Record<string, string>; json: unknown }
  | { status: number; headers?: Record<string, string>; sse: string[] }

/** A function tool a request offers: its name and the JSON Schema of its arguments (none for a free-form tool). */
export interface OfferedTool { name: string; parameters?: any }

export interface Dialect {
  api: AgentApi
  /** What a base URL of this API ends with, after the origin (what the gateway's *_BASE_URL holds). */
  prefix: string
  /**
   * The opaque reasoning state the mock's tool-call turn carries (Anthropic signature, Responses
   * encrypted_content, Gemini thoughtSignature, Chat reasoning_content): the next request must bring it back.
   */
  opaque: string
  /** A model call and whether it streams; null for any other method or path. */
  call(method: string, url: URL, body: any): { stream: boolean; model: string } | null
  /** The tools the request offers, in order. */
  tools(body: any): OfferedTool[]
  /** The text of the last tool result in the request, if it holds one. */
  toolResult(body: any): string | undefined
  answer(turn: Turn, stream: boolean, model: string, url: URL, body: any): Reply
  error(e: ScriptedError): Reply
}

/** Every string of a JSON value except `type` tags, joined: the text of a tool result in any shape. */
export function textOf(v: unknown): string {
  if (typeof v === 'string') return v
  if (Array.isArray(v)) return v.map(textOf).filter(Boolean).join('\n')
  if (v && typeof v === 'object') return Object.entries(v).filter(([k]) => k !== 'type').map(([, x]) => textOf(x)).filter(Boolean).join('\n')
  return ''
}

/** A string cut into pieces of `n` characters, as streamed arguments arrive (the first piece empty, as OpenAI and Anthropic send). */
export function pieces(s: string, n = 7): string[] {
  const out = ['']
  for (let i = 0; i < s.length; i += n) out.push(s.slice(i, i + n))
  return out
}

/** The text the final turn quotes, and the reasoning text of a tool-call turn. */
export const QUOTE_PREFIX = 'The file says: '
export const REASONING = 'The user wants the file. I will read it with a tool.'

/** Token counts every answer reports (what they are does not matter; that they are there does). */
export const USAGE = { input: 1200, cached: 1024, output: 42, reasoning: 12 }

export const CREATED = 1767225600
