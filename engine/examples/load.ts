// Rule examples: YAML files under <rules dir>/examples/ (schemas/example.schema.json), each a client
// request, an optional recorded upstream reply, and expectations. Problems are collected with
// file:line:col like any rule file's.
import { readdir, readFile } from 'node:fs/promises'
import { dirname, join, relative, resolve } from 'node:path'
import { nodeAt, parseYaml, placeOf, type YamlSource } from '../ruleset/read.js'
import type { ProblemList } from '../ruleset/problems.js'
import { validateSource } from '../ruleset/validate.js'
import type { ClientRequest, RecordedReply } from './run.js'

export interface Expect {
  rule?: string
  error?: string
  upstream?: Record<string, unknown>
  client?: Record<string, unknown>
  values?: Record<string, unknown>
}

export interface Example {
  /** Absolute path. */
  file: string
  /** Path relative to the examples folder, without the extension: `cursor-openai/text`. */
  id: string
  src: YamlSource
  description?: string
  request: ClientRequest
  reply?: RecordedReply
  expect: Expect
}

export const EXAMPLES_DIR = 'examples'

/** Every example under `<rulesDir>/examples/`, in path order; none when the folder is missing. */
export async function loadExamples(rulesDir: string, problems: ProblemList): Promise<Example[]> {
  const root = join(resolve(rulesDir), EXAMPLES_DIR)
  let files: string[]
  try {
    files = (await readdir(root, { recursive: true })).filter((f) => /\.ya?ml$/.test(f)).map((f) => join(root, f)).sort()
  } catch {
    return []
  }
  const out: Example[] = []
  for (const f of files) {
    const e = await loadExample(f, problems, root)
    if (e) out.push(e)
  }
  return out
}

export async function loadExample(file: string, problems: ProblemList, root = dirname(file)): Promise<Example | null> {
  const src = parseYaml(file, await readFile(file, 'utf8'), problems)
  if (!src || !validateSource(src, 'example', problems)) return null
  const d = src.data as Record<string, any>
  const read = async (key: (string | number)[], name: string): Promise<string | null> => {
    try {
      return await readFile(resolve(dirname(file), name), 'utf8')
    } catch (err) {
      problems.error(placeOf(src, nodeAt(src.doc, key)), 'RE_MISSING_FILE', `cannot read ${name}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
      return null
    }
  }
  const r = d.request
  const body = r.bodyFile !== undefined ? await read(['request', 'bodyFile'], r.bodyFile) : r.body === undefined ? undefined : JSON.stringify(r.body)
  if (body === null) return null
  const headers: Record<string, string> = { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...lowerKeys(r.headers ?? {}) }
  let reply: RecordedReply | undefined
  const u = d.upstreamReply
  if (u) {
    const text = u.file !== undefined ? await read(['upstreamReply', 'file'], u.file) : u.text !== undefined ? u.text : JSON.stringify(u.body)
    if (text === null) return null
    const sse = u.text !== undefined || /\.sse$/.test(u.file ?? '')
    reply = { status: u.status ?? 200, headers: { 'content-type': sse ? 'text/event-stream' : 'application/json', ...lowerKeys(u.headers ?? {}) }, body: text }
  }
  return {
    file,
    id: relative(root, file).replace(/\.ya?ml$/, '').split('\\').join('/'),
    src,
    description: d.description,
    request: { method: r.method ?? 'POST', path: r.path, headers, body },
    reply,
    expect: d.expect,
  }
}

/** A recorded reply from a file: a .sse transcript, or a JSON body. */
export async function replyFromFile(path: string, status = 200): Promise<RecordedReply> {
  const body = await readFile(path, 'utf8')
  return { status, headers: { 'content-type': /\.sse$/.test(path) ? 'text/event-stream' : 'application/json' }, body }
}

const lowerKeys = (h: Record<string, string>): Record<string, string> => Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), String(v)]))
