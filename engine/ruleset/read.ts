// Rules directory → source files: YAML documents with line counters, transform and schema texts, and
// a content hash. Nothing here interprets rules.
import { createHash } from 'node:crypto'
import { readFile, readlink } from 'node:fs/promises'
import { relative, resolve, sep } from 'node:path'
import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node, Scalar } from 'yaml'
import type { Place } from '../errors.js'
import { listRuleFiles } from './list-files.js'
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

/** A rules directory as read once: what a ruleset is compiled from (a worker gets it from its primary). */
export interface RuleFiles {
  /** Absolute path of the directory. */
  dir: string
  /** Absolute path and text of every rule file, in load order. */
  files: { path: string; text: string }[]
  /** sha256 of every file's path (relative to `dir`) and text; a file that could not be read counts as such. */
  hash: string
}

export interface SourceSet {
  dir: string
  yaml: YamlSource[]
  /** Absolute path → text, for every non-YAML file (transforms, JSON Schemas). */
  texts: Map<string, string>
  hash: string
  files: RuleFiles
}

const RULE_KEYS = ['rules', 'upstreams', 'pipelines', 'aliases', 'models', 'vars', 'errors', 'limits', 'library']

export const isRuleFile = (s: YamlSource): boolean =>
  s.data !== null && typeof s.data === 'object' && RULE_KEYS.some((k) => k in (s.data as object))

export const displayName = (path: string): string => {
  const rel = relative(process.cwd(), path)
  return rel.startsWith('..') ? path : rel.split(sep).join('/')
}

/** Reads every rule file under `dir`; one that cannot be read is a problem. Throws when `dir` cannot be listed. */
export async function readFiles(dir: string, problems: ProblemList): Promise<RuleFiles> {
  const root = resolve(dir)
  const hash = createHash('sha256')
  const files: RuleFiles['files'] = []
  for (const path of await listRuleFiles(root)) {
    hash.update(relative(root, path)).update('\0')
    try {
      const text = await readFile(path, 'utf8')
      hash.update(text).update('\0')
      files.push({ path, text })
    } catch (err) {
      hash.update('\0unreadable\0')
      const link = await readlink(path).catch(() => null)
      const why = link && (err as NodeJS.ErrnoException).code === 'ENOENT' ? `it is a symbolic link to ${link}, which does not exist` : (err as Error).message
      problems.error({ file: displayName(path), line: 1, col: 1 }, 'RE_READ', `cannot read: ${why}`)
    }
  }
  return { dir: root, files, hash: hash.digest('hex') }
}

/** The files parsed: YAML documents, and the texts of the others. */
export function parseSources(files: RuleFiles, problems: ProblemList): SourceSet {
  const yaml: YamlSource[] = []
  const texts = new Map<string, string>()
  for (const { path, text } of files.files) {
    if (/\.ya?ml$/.test(path)) {
      const src = parseYaml(path, text, problems)
      if (src) yaml.push(src)
    } else texts.set(path, text)
  }
  return { dir: files.dir, yaml, texts, hash: files.hash, files }
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
