// Upstream transcripts of test/fixtures/streams/ for end-to-end tests of the shipped pack: the bytes a
// mock upstream serves, and what a Chat Completions client must get back from them, derived from the
// transcript itself with the mapping of /work/shared/docs/wire-formats.md (§3 texts, §4 finish_reason,
// §5 usage). Independent of the pack's JSONata: a second implementation to compare against.
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

export type Api = 'responses' | 'anthropic-messages' | 'gemini' | 'chat-completions'

export const STREAMS = fileURLToPath(new URL('../fixtures/streams/', import.meta.url))

/** The scenarios with a streaming and a non-streaming transcript, per API. */
export const SCENARIOS: Record<Api, string[]> = {
  responses: ['text', 'reasoning', 'tool_call', 'parallel_tool_calls', 'custom_tool_call', 'usage'],
  'anthropic-messages': ['text', 'reasoning', 'tool_call', 'parallel_tool_calls', 'custom_tool_call', 'usage'],
  gemini: ['text', 'reasoning', 'tool_call', 'parallel_tool_calls', 'custom_tool_call', 'usage'],
  'chat-completions': ['text', 'reasoning', 'reasoning_content', 'tool_call', 'parallel_tool_calls', 'usage'],
}

/** The name of the freeform tool in the transcripts. */
export const TRANSCRIPT_CUSTOM_TOOL = 'apply_patch'

const cache = new Map<string, string>()

/**
 * A transcript file as served: `<scenario>.sse` or `<scenario>.response.json` (any file name works),
 * with the custom tool renamed to the client's (the transcripts call it apply_patch; Cursor's is ApplyPatch).
 */
export function transcript(api: Api, file: string, customName?: string): string {
  const key = `${api}/${file}`
  let text = cache.get(key)
  if (text === undefined) {
    text = readFileSync(`${STREAMS}${key}`, 'utf8')
    cache.set(key, text)
  }
  return customName && customName !== TRANSCRIPT_CUSTOM_TOOL
    ? text.replaceAll(JSON.stringify(TRANSCRIPT_CUSTOM_TOOL), JSON.stringify(customName))
    : text
}

/** The JSON payloads of an SSE transcript, in order (Gemini's out-of-frame error JSON excluded). */
export function sseEvents(text: string): any[] {
  const out: any[] = []
  for (const block of text.split(/\r?\n\r?\n/)) {
    const data = block.split(/\r?\n/).filter((l) => l.startsWith('data:')).map((l) => l.slice(5).replace(/^ /, '')).join('\n')
    if (data === '' || data === '[DONE]') continue
    try { out.push(JSON.parse(data)) } catch { /* not JSON: ignored */ }
  }
  return out
}

export interface ExpectedCall {
  /** The upstream's own call id; undefined when the upstream has none (gemini-2.5: synthesized). */
  id?: string
  name: string
  /** A function call's arguments, parsed. */
  args?: unknown
  /** A custom call's raw input text. */
  raw?: string
}

export interface Expected {
  text: string
  reasoning: string
  calls: ExpectedCall[]
  finish: 'stop' | 'tool_calls' | 'length' | 'content_filter'
  /** Chat usage mapped from the upstream's; undefined when the transcript has none (the pack estimates). */
  usage?: Record<string, unknown>
}

const num = (v: unknown): v is number => typeof v === 'number'

/** Upstream usage → Chat usage (wire-formats.md §5). Details only where the upstream reports them. */
export function mapUsage(api: Api, u: any): Record<string, unknown> | undefined {
  if (!u || typeof u !== 'object') return undefined
  switch (api) {
    case 'responses': {
      const cached = u.input_tokens_details?.cached_tokens
      const written = u.input_tokens_details?.cache_write_tokens
      return {
        prompt_tokens: u.input_tokens,
        completion_tokens: u.output_tokens,
        total_tokens: u.total_tokens,
        ...(num(cached) ? { prompt_tokens_details: { cached_tokens: cached, ...(written > 0 ? { cache_write_tokens: written } : {}) } } : {}),
        ...(num(u.output_tokens_details?.reasoning_tokens) ? { completion_tokens_details: { reasoning_tokens: u.output_tokens_details.reasoning_tokens } } : {}),
      }
    }
    case 'anthropic-messages': {
      const read = u.cache_read_input_tokens ?? 0
      const write = u.cache_creation_input_tokens ?? 0
      const prompt = u.input_tokens + read + write
      return {
        prompt_tokens: prompt,
        completion_tokens: u.output_tokens,
        total_tokens: prompt + u.output_tokens,
        ...(num(u.cache_read_input_tokens) || num(u.cache_creation_input_tokens)
          ? { prompt_tokens_details: { cached_tokens: read, ...(write > 0 ? { cache_write_tokens: write } : {}) } } : {}),
        ...(num(u.output_tokens_details?.thinking_tokens) ? { completion_tokens_details: { reasoning_tokens: u.output_tokens_details.thinking_tokens } } : {}),
      }
    }
    case 'gemini': {
      const prompt = (u.promptTokenCount ?? 0) + (u.toolUsePromptTokenCount ?? 0)
      const completion = (u.candidatesTokenCount ?? 0) + (u.thoughtsTokenCount ?? 0)
      return {
        prompt_tokens: prompt,
        completion_tokens: completion,
        total_tokens: u.totalTokenCount ?? prompt + completion,
        ...(num(u.cachedContentTokenCount) ? { prompt_tokens_details: { cached_tokens: u.cachedContentTokenCount } } : {}),
        ...(num(u.thoughtsTokenCount) ? { completion_tokens_details: { reasoning_tokens: u.thoughtsTokenCount } } : {}),
      }
    }
    case 'chat-completions':
      return {
        prompt_tokens: u.prompt_tokens,
        completion_tokens: u.completion_tokens,
        total_tokens: u.total_tokens,
        ...(num(u.prompt_tokens_details?.cached_tokens) ? { prompt_tokens_details: { cached_tokens: u.prompt_tokens_details.cached_tokens } } : {}),
        ...(num(u.completion_tokens_details?.reasoning_tokens) ? { completion_tokens_details: { reasoning_tokens: u.completion_tokens_details.reasoning_tokens } } : {}),
      }
  }
}

const isCustom = (name: string, customName?: string) => customName !== undefined && name === customName

/**
 * What the client must receive for one transcript. `streaming` picks the .sse (usage taken from the
 * stream, as it arrives there) or the .response.json; the texts and calls of both are the same.
 */
export function expected(api: Api, scenario: string, streaming: boolean, customName?: string): Expected {
  const body = JSON.parse(transcript(api, `${scenario}.response.json`, customName))
  const events = streaming ? sseEvents(transcript(api, `${scenario}.sse`, customName)) : []
  let text = ''
  let reasoning = ''
  let calls: ExpectedCall[] = []
  let finish: Expected['finish'] = 'stop'
  let usage: Record<string, unknown> | undefined

  switch (api) {
    case 'responses': {
      const out: any[] = body.output
      text = out.filter((i) => i.type === 'message').flatMap((i) => i.content).filter((c: any) => c.type === 'output_text').map((c: any) => c.text).join('')
      reasoning = out.filter((i) => i.type === 'reasoning').flatMap((i) => i.summary ?? []).map((s: any) => s.text).join('\n\n')
      calls = out.filter((i) => i.type === 'function_call' || i.type === 'custom_tool_call').map((i) =>
        i.type === 'custom_tool_call' ? { id: i.call_id, name: i.name, raw: i.input } : { id: i.call_id, name: i.name, args: JSON.parse(i.arguments) })
      finish = body.status === 'incomplete' ? 'length' : calls.length ? 'tool_calls' : 'stop'
      usage = mapUsage(api, streaming ? events.findLast((e) => e.type === 'response.completed')?.response?.usage : body.usage)
      break
    }
    case 'anthropic-messages': {
      const blocks: any[] = body.content
      text = blocks.filter((b) => b.type === 'text').map((b) => b.text).join('')
      reasoning = blocks.filter((b) => b.type === 'thinking').map((b) => b.thinking).join('\n\n')
      calls = blocks.filter((b) => b.type === 'tool_use').map((b) =>
        isCustom(b.name, customName) ? { id: b.id, name: b.name, raw: b.input.input } : { id: b.id, name: b.name, args: b.input })
      finish = ({ end_turn: 'stop', stop_sequence: 'stop', tool_use: 'tool_calls', max_tokens: 'length', refusal: 'content_filter' } as const)[body.stop_reason as 'end_turn'] ?? 'stop'
      if (streaming) {
        let u: any = {}
        for (const e of events) {
          if (e.type === 'message_start') u = { ...e.message.usage }
          if (e.type === 'message_delta' && e.usage) u = { ...u, ...e.usage }
        }
        usage = mapUsage(api, u)
      } else usage = mapUsage(api, body.usage)
      break
    }
    case 'gemini': {
      const parts: any[] = body.candidates[0].content.parts
      text = parts.filter((p) => typeof p.text === 'string' && p.thought !== true).map((p) => p.text).join('')
      reasoning = parts.filter((p) => p.thought === true).map((p) => p.text).join('')
      calls = parts.filter((p) => p.functionCall).map((p) => {
        const fc = p.functionCall
        return isCustom(fc.name, customName) ? { id: fc.id, name: fc.name, raw: fc.args.input } : { id: fc.id, name: fc.name, args: fc.args ?? {} }
      })
      const reason = body.candidates[0].finishReason
      finish = reason === 'MAX_TOKENS' ? 'length' : calls.length ? 'tool_calls' : 'stop'
      usage = mapUsage(api, streaming ? events.findLast((e) => e.usageMetadata)?.usageMetadata : body.usageMetadata)
      break
    }
    case 'chat-completions': {
      const m = body.choices[0].message
      text = m.content ?? ''
      reasoning = m.reasoning_content ?? ''
      calls = (m.tool_calls ?? []).map((c: any) => ({ id: c.id, name: c.function.name, args: JSON.parse(c.function.arguments) }))
      finish = body.choices[0].finish_reason
      usage = mapUsage(api, streaming ? events.findLast((e) => e.usage)?.usage : body.usage)
      break
    }
  }
  return { text, reasoning, calls, finish, usage }
}

/** The content a /cursor client sees: reasoning mirrored as a <details> block before the answer. */
export function mirrored(e: Expected): string {
  return e.reasoning ? `<details>\n<summary>Thinking</summary>\n\n${e.reasoning}\n\n</details>\n\n${e.text}` : e.text
}

/** A client stream's chunks folded into one message, the way an OpenAI client library does. */
export interface Assembled {
  ids: Set<string>
  models: Set<string>
  objects: Set<string>
  role?: string
  content: string
  reasoning: string
  calls: { index: number; id?: string; type?: string; name: string; arguments: string }[]
  finish: string | null
  finishes: number
  usage?: any
  usageChunks: number
}

export function assemble(chunks: any[]): Assembled {
  const a: Assembled = { ids: new Set(), models: new Set(), objects: new Set(), content: '', reasoning: '', calls: [], finish: null, finishes: 0, usageChunks: 0 }
  for (const c of chunks) {
    a.ids.add(c.id)
    a.models.add(c.model)
    a.objects.add(c.object)
    if (c.usage) { a.usage = c.usage; a.usageChunks++ }
    for (const ch of c.choices ?? []) {
      const d = ch.delta ?? {}
      if (d.role && a.role === undefined) a.role = d.role
      if (typeof d.content === 'string') a.content += d.content
      if (typeof d.reasoning_content === 'string') a.reasoning += d.reasoning_content
      for (const tc of d.tool_calls ?? []) {
        let call = a.calls.find((x) => x.index === tc.index)
        if (!call) { call = { index: tc.index, name: '', arguments: '' }; a.calls.push(call) }
        if (tc.id) call.id = tc.id
        if (tc.type) call.type = tc.type
        if (tc.function?.name) call.name += tc.function.name
        if (tc.function?.arguments) call.arguments += tc.function.arguments
      }
      if (ch.finish_reason) { a.finish = ch.finish_reason; a.finishes++ }
    }
  }
  return a
}
