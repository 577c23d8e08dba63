// Rules directory → source files: YAML documents with line counters, transform texts, and a
// content hash. Nothing here interprets rules.
import { createHash } from 'node:crypto'
import { readdir, readFile } from 'node:fs/promises'
import { join, relative, resolve, sep } from 'node:path'
import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node, Scalar } from 'yaml'
import type { Place } from '../errors.js'
import type { ProblemList } from './problems.js'

export interface YamlSource {
  /** Absolute path. */
  path: string
  /** Path shown in problems: relative to the current directory. */
  name: string
  text: string
  doc: Document
  lines: LineCounter
  data: unknown
}

export interface SourceSet {
  dir: string
  yaml: YamlSource[]
  /** Absolute path → text, for every non-YAML file (transforms). */
  texts: Map<string, string>
  hash: string
}

const RULE_KEYS = ['rules', 'upstreams', 'pipelines', 'aliases', 'models', 'vars', 'errors', 'library']

export const isRuleFile = (s: YamlSource): boolean =>
  s.data !== null && typeof s.data === 'object' && RULE_KEYS.some((k) => k in (s.data as object))

export const displayName = (path: string): string => {
  const rel = relative(process.cwd(), path)
  return rel.startsWith('..') ? path : rel.split(sep).join('/')
}

export async function readSources(dir: string, problems: ProblemList): Promise<SourceSet> {
  const root = resolve(dir)
  const files = (await walk(root)).sort()
  const hash = createHash('sha256')
  const yaml: YamlSource[] = []
  const texts = new Map<string, string>()
  for (const path of files) {
    let text: string
    try {
      text = await readFile(path, 'utf8')
    } catch (err) {
      problems.error({ file: displayName(path), line: 1, col: 1 }, 'RE_READ', `cannot read: ${(err as Error).message}`)
      continue
    }
    hash.update(relative(root, path)).update('\0').update(text).update('\0')
    if (/\.ya?ml$/.test(path)) {
      const src = parseYaml(path, text, problems)
      if (src) yaml.push(src)
    } else texts.set(path, text)
  }
  return { dir: root, yaml, texts, hash: hash.digest('hex') }
}

export function parseYaml(path: string, text: string, problems: ProblemList): YamlSource | null {
  const lines = new LineCounter()
  const doc = parseDocument(text, { lineCounter: lines, keepSourceTokens: true, uniqueKeys: true, prettyErrors: false, merge: true })
  const name = displayName(path)
  if (doc.errors.length) {
    // The parser's later errors mostly follow from the first (one missing bracket gives a screenful).
    const [first, ...rest] = doc.errors
    const pos = lines.linePos(first!.pos[0])
    const more = rest.length ? ` (and ${rest.length} later YAML error${rest.length > 1 ? 's' : ''} that may follow from it)` : ''
    problems.error({ file: name, line: pos.line, col: pos.col }, 'RE_YAML', first!.message.split('\n')[0]! + more)
    return null
  }
  const data = doc.toJS({ maxAliasCount: 100 }) ?? {}
  return { path, name, text, doc, lines, data }
}

async function walk(dir: string): Promise<string[]> {
  const out: string[] = []
  for (const e of await readdir(dir, { withFileTypes: true })) {
    // examples/ holds rule examples (route-engine test), not rules.
    if (e.name.startsWith('.') || e.name === 'node_modules' || (e.isDirectory() && e.name === 'examples')) continue
    const p = join(dir, e.name)
    if (e.isDirectory()) out.push(...(await walk(p)))
    else if (e.isFile() && /\.(ya?ml|jsonata)$/.test(e.name)) out.push(p)
  }
  return out
}

export type YamlPath = (string | number)[]

/**
 * The node at a path, or the deepest node found on the way. Aliases and `<<` merge keys are followed,
 * so a value that came from an anchor is placed where the anchor defines it.
 */
export function nodeAt(doc: Document, path: YamlPath): Node | null {
  let n: unknown = doc.contents
  let last: unknown = n
  for (const k of path) {
    n = child(doc, n, k)
    if (n == null) break
    last = n
  }
  return ((isAlias(last) ? last.resolve(doc) : last) as Node) ?? null
}

// With `merge: true` the parser gives a merge key the value Symbol(<<).
const isMergeKey = (k: unknown): boolean => isScalar(k) && (k.value === '<<' || (typeof k.value === 'symbol' && k.value.description === '<<'))

function child(doc: Document, parent: unknown, k: string | number): unknown {
  const n = isAlias(parent) ? parent.resolve(doc) : parent
  if (isSeq(n)) return n.get(k as number, true)
  if (!isMap(n)) return null
  const own = n.get(k, true)
  if (own != null) return own
  for (const p of n.items) {
    if (!isPair(p) || !isMergeKey(p.key)) continue
    for (const from of isSeq(p.value) ? p.value.items : [p.value]) {
      const found = child(doc, from, k)
      if (found != null) return found
    }
  }
  return null
}

/** The key node of `key` inside the map at `path` (for unknown-property problems). */
export function keyNodeAt(doc: Document, path: YamlPath, key: string): Node | null {
  const map = nodeAt(doc, path)
  if (!isMap(map)) return null
  const pair = map.items.find((p) => isPair(p) && isScalar(p.key) && p.key.value === key)
  return (pair?.key as Node) ?? null
}

export function placeOf(src: YamlSource, node: Node | null): Place {
  const pos = node?.range ? src.lines.linePos(node.range[0]) : { line: 1, col: 1 }
  return { file: src.name, line: pos.line, col: pos.col }
}

/** Where the text of a string value begins: inside quotes, or on the line after a block indicator. */
export function placeOfText(src: YamlSource, path: YamlPath): Place {
  const node = nodeAt(src.doc, path)
  if (!node || !isScalar(node) || !node.range) return placeOf(src, node)
  const start = node.range[0]
  if (node.type === Scalar.BLOCK_LITERAL || node.type === Scalar.BLOCK_FOLDED) {
    const nl = src.text.indexOf('\n', start)
    let i = nl + 1
    while (src.text[i] === ' ') i++
    const pos = src.lines.linePos(i)
    return { file: src.name, line: pos.line, col: pos.col }
  }
  const pos = src.lines.linePos(start + (node.type === Scalar.QUOTE_DOUBLE || node.type === Scalar.QUOTE_SINGLE ? 1 : 0))
  return { file: src.name, line: pos.line, col: pos.col }
}
