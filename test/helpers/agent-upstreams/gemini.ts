// Gemini (POST {base}/models/{model}:generateContent | :streamGenerateContent?alt=sse, base = origin +
// /v1beta): a thought part, then a functionCall part carrying its thoughtSignature; `data:` frames with
// CRLF and no sentinel, each a whole GenerateContentResponse; without alt=sse, one JSON array of them.
import { pieces, REASONING, textOf, USAGE, type Dialect, type Turn } from './dialect.js'

const THOUGHT_SIGNATURE = 'CiQBmockGeminiThoughtSignatureAAAABBBBCCCCDDDD=='

const STATUS: Record<number, string> = {
  400: 'INVALID_ARGUMENT', 401: 'UNAUTHENTICATED', 403: 'PERMISSION_DENIED', 404: 'NOT_FOUND',
  429: 'RESOURCE_EXHAUSTED', 500: 'INTERNAL', 503: 'UNAVAILABLE', 504: 'DEADLINE_EXCEEDED',
}

const PATH = /^\/v1beta\/models\/([^/:]+):(generateContent|streamGenerateContent)$/

/** The parts of each chunk of a streamed answer; the non-streaming answer joins them. */
function chunks(turn: Turn): any[][] {
  if (turn.kind === 'text') return pieces(turn.text, 24).slice(1).map((text) => [{ text }])
  return [[{ text: REASONING, thought: true }], [{ functionCall: { name: turn.name, args: turn.args }, thoughtSignature: THOUGHT_SIGNATURE }]]
}

function chunk(parts: any[], model: string, last: boolean) {
  return {
    candidates: [{ content: { parts, role: 'model' }, index: 0, ...(last ? { finishReason: 'STOP' } : {}) }],
    usageMetadata: {
      promptTokenCount: USAGE.input, cachedContentTokenCount: USAGE.cached,
      ...(last ? { candidatesTokenCount: USAGE.output, thoughtsTokenCount: USAGE.reasoning, totalTokenCount: USAGE.input + USAGE.output + USAGE.reasoning } : { totalTokenCount: USAGE.input }),
    },
    modelVersion: model,
    responseId: 'mockGeminiAgentUpstream',
  }
}

export const gemini: Dialect = {
  api: 'gemini',
  prefix: '/v1beta',
  opaque: THOUGHT_SIGNATURE,
  call(method, url) {
    const m = PATH.exec(url.pathname)
    return method === 'POST' && m ? { stream: m[2] === 'streamGenerateContent', model: decodeURIComponent(m[1]!) } : null
  },
  tools: (body) => (body?.tools ?? []).flatMap((t: any) => (t.functionDeclarations ?? []).map((f: any) => ({ name: f.name, parameters: f.parameters ?? f.parametersJsonSchema }))),
  toolResult(body) {
    const results = (body?.contents ?? []).flatMap((c: any) => c.parts ?? []).filter((p: any) => p?.functionResponse)
    return results.length ? textOf(results.at(-1).functionResponse.response) : undefined
  },
  answer(turn, stream, model, url) {
    const parts = chunks(turn)
    if (!stream) return { status: 200, json: chunk(parts.flat(), model, true) }
    const all = parts.map((p, i) => chunk(p, model, i === parts.length - 1))
    if (url.searchParams.get('alt') !== 'sse') return { status: 200, json: all }
    return { status: 200, sse: all.map((c) => `data: ${JSON.stringify(c)}\r\n\r\n`) }
  },
  error(e) {
    return { status: e.status, json: { error: { code: e.status, message: e.message, status: STATUS[e.status] ?? 'UNKNOWN' } } }
  },
}
