// serve --capture DIR: each request, and the upstream's reply to it, written as a rule example
// (schemas/example.schema.json) that `route-engine test` runs as it is. Credentials are replaced
// by [redacted]: credential headers, the upstreams' keys and the inbound keys wherever they appear,
// and the body fields named by --redact, in the request and in the reply (JSON or each SSE frame).
import { mkdir, writeFile } from 'node:fs/promises'
import { join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Dispatcher } from 'undici'
import { stringify } from 'yaml'
import { credentialHeaders } from '../credentials.js'
import { isPlainObject } from '../expr/functions.js'
import type { Observer } from '../pipeline/observer.js'
import { agentFor } from '../pipeline/send-upstream.js'

export const REDACTED = '[redacted]'
const NOT_KEPT = new Set(['host', 'connection', 'keep-alive', 'content-length', 'transfer-encoding', 'accept-encoding', 'content-encoding'])
const SCHEMA = fileURLToPath(new URL('../../schemas/example.schema.json', import.meta.url))

export interface CaptureOptions {
  /** Dotted body paths to redact (`*` = any key or item), e.g. metadata.*, user. */
  redact: string[]
  /** Inbound keys: never written. */
  keys: string[]
  /** Called after each write of an example (it is rewritten as the request goes on); `first` once per request. */
  onWrite?: (file: string, first: boolean) => void
}

interface Exchange {
  name: string
  dir: string
  request?: { method: string; path: string; headers: Record<string, string>; body: unknown }
  rule?: string
  upstream?: { name: string; method: string; path: string }
  reply?: { status: number; headers: Record<string, string>; chunks: Buffer[] }
  secrets: string[]
  announced?: boolean
}

/** An observer factory for ProxyDeps.observe: one exchange per request. */
export function captureTo(dir: string, opts: CaptureOptions): () => Observer {
  const root = resolve(dir)
  let n = 0
  const paths = opts.redact.map((p) => p.split('.'))
  return () => {
    const ex: Exchange = { name: `${stamp()}-${process.pid}-${++n}`, dir: join(root, 'unmatched'), secrets: opts.keys.filter((k) => k.length >= 4) }
    let writing: Promise<void> = Promise.resolve()
    const save = () => { writing = writing.then(() => write(ex, paths, opts)).catch(() => undefined) }
    const observer: Observer = {
      received(input, ruleset) {
        ex.request = { method: input.method, path: input.path, headers: keptHeaders(input.headers, credentialHeaders(ruleset)), body: input.body }
        save()
      },
      matched(m) {
        ex.rule = m.rule.name
        ex.dir = join(root, m.rule.name)
        save()
      },
      upstream(call, up) {
        ex.secrets.push(...up.secrets)
        ex.upstream = { name: up.name, method: call.method, path: call.url.slice(up.base.length) }
        observer.dispatcher = agentFor(up).compose(recordInto(ex, save))
      },
    }
    return observer
  }
}

/** Taps the handler of the upstream call: status, headers and every body chunk, saved at the end. */
function recordInto(ex: Exchange, save: () => void): Dispatcher.DispatcherComposeInterceptor {
  return (dispatch) => (opts, handler) => {
    const reply: NonNullable<Exchange['reply']> = { status: 0, headers: {}, chunks: [] }
    ex.reply = reply
    const taps: Record<string, (...a: any[]) => void> = {
      onHeaders: (status: number, raw: Buffer[]) => { reply.status = status; reply.headers = rawHeaders(raw) },
      onResponseStart: (_c: unknown, status: number, headers: Record<string, string | string[]>) => { reply.status = status; reply.headers = flat(headers) },
      onData: (chunk: Buffer) => { reply.chunks.push(Buffer.from(chunk)) },
      onResponseData: (_c: unknown, chunk: Buffer) => { reply.chunks.push(Buffer.from(chunk)) },
      onComplete: save, onResponseEnd: save, onError: save, onResponseError: save,
    }
    const h = handler as unknown as Record<string, unknown>
    return dispatch(opts, new Proxy(h, {
      get(target, key) {
        const v = target[key as string]
        if (typeof v !== 'function') return v
        const tap = typeof key === 'string' ? taps[key] : undefined
        return tap ? (...args: unknown[]) => { tap(...args); return v.apply(target, args) } : v.bind(target)
      },
    }) as unknown as Dispatcher.DispatchHandler)
  }
}

async function write(ex: Exchange, paths: string[][], opts: CaptureOptions): Promise<void> {
  if (!ex.request) return
  await mkdir(ex.dir, { recursive: true })
  const scrub = (text: string) => ex.secrets.reduce((t, s) => t.split(s).join(REDACTED), text)
  const files: [string, string][] = []
  const doc: Record<string, unknown> = {
    description: `${ex.request.method} ${ex.request.path}${typeof (ex.request.body as { model?: unknown })?.model === 'string' ? `, model ${(ex.request.body as { model: string }).model}` : ''} (captured)`,
    request: {
      method: ex.request.method,
      path: ex.request.path,
      headers: JSON.parse(scrub(JSON.stringify(ex.request.headers))),
      ...(ex.request.body === undefined ? {} : { bodyFile: `${ex.name}.request.json` }),
    },
  }
  if (ex.request.body !== undefined) files.push([`${ex.name}.request.json`, scrub(JSON.stringify(redact(ex.request.body, paths), null, 2)) + '\n'])
  if (ex.reply?.status) {
    const type = ex.reply.headers['content-type'] ?? ''
    const sse = type.includes('text/event-stream')
    const text = Buffer.concat(ex.reply.chunks).toString('utf8')
    const file = `${ex.name}.reply.${sse ? 'sse' : type.includes('json') ? 'json' : 'txt'}`
    files.push([file, scrub(sse ? redactSse(text, paths) : redactJson(text, paths))])
    doc.upstreamReply = { status: ex.reply.status, headers: { 'content-type': type }, file }
  }
  doc.expect = {
    ...(ex.rule ? { rule: ex.rule } : {}),
    ...(ex.upstream ? { upstream: { name: ex.upstream.name, method: ex.upstream.method, path: scrub(ex.upstream.path) } } : {}),
  }
  const schema = relative(ex.dir, SCHEMA).split('\\').join('/')
  const yaml = `# yaml-language-server: $schema=${schema}\n# Captured by route-engine serve --capture; add what must hold under expect (docs/guide.md).\n${stringify(doc, { lineWidth: 0 })}`
  for (const [name, text] of files) await writeFile(join(ex.dir, name), text)
  const file = join(ex.dir, `${ex.name}.yaml`)
  await writeFile(file, yaml)
  opts.onWrite?.(file, !ex.announced)
  ex.announced = true
}

/** A copy with the values at the given paths replaced. */
export function redact(v: unknown, paths: string[][]): unknown {
  if (!paths.length) return v
  const walk = (x: unknown, at: string[]): unknown => {
    if (x !== null && paths.some((p) => p.length === at.length && p.every((s, i) => s === '*' || s === at[i]))) return REDACTED
    if (Array.isArray(x)) return x.map((y, i) => walk(y, [...at, String(i)]))
    if (isPlainObject(x)) return Object.fromEntries(Object.entries(x).map(([k, y]) => [k, walk(y, [...at, k])]))
    return x
  }
  return walk(v, [])
}

function redactJson(text: string, paths: string[][]): string {
  if (!paths.length) return text
  try {
    const v = JSON.parse(text)
    const out = JSON.stringify(redact(v, paths))
    return out === JSON.stringify(v) ? text : out
  } catch {
    return text
  }
}

/** Each `data:` line holding JSON with a redacted field is rewritten; every other byte stays. */
function redactSse(text: string, paths: string[][]): string {
  if (!paths.length) return text
  return text.replace(/^data: ?(.*?)(\r?)$/gm, (line, data: string, cr: string) => {
    const out = redactJson(data, paths)
    return out === data ? line : `data: ${out}${cr}`
  })
}

function keptHeaders(h: Record<string, string | string[] | undefined>, credentials: ReadonlySet<string>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(h)) {
    if (v === undefined || NOT_KEPT.has(k)) continue
    out[k] = credentials.has(k) ? REDACTED : Array.isArray(v) ? v.join(', ') : v
  }
  return out
}

function rawHeaders(raw: Buffer[]): Record<string, string> {
  const out: Record<string, string> = {}
  for (let i = 0; i + 1 < raw.length; i += 2) out[String(raw[i]).toLowerCase()] = String(raw[i + 1])
  return out
}

const flat = (h: Record<string, string | string[]>): Record<string, string> =>
  Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), Array.isArray(v) ? v.join(', ') : v]))

const stamp = (): string => new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15)
