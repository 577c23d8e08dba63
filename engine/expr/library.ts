// Shared definitions: a `library:` file is a JSONata block of `$name := …` statements, each bound as
// $name in every transform of the ruleset. A definition sees its arguments, the other definitions and
// the functions, nothing of an evaluation ($, $$, $request, $ctx, $vars, $state…): so each is compiled
// once, to a function that runs on its caller's limits (program.ts), and is the same whichever
// transform calls it. The interpreter (the reference, and what runs what the compiler leaves) reads
// a transform inside a block that defines what it uses of the library first.
import type { Place } from '../errors.js'
import { placeInText } from './evaluate.js'
import { compileDefinitions, type LibraryFn, type Shared } from './program.js'
import type { Node } from './scope.js'

export interface Definition {
  name: string
  /** `$name := …`, as written. */
  text: string
  /** Where the text starts in its file. */
  offset: number
  file: string
  fileText: string
  /** The value's parse tree. */
  node: Node
  /** The library names its value reads. */
  refs: ReadonlySet<string>
}

/** A transform inside a block that first defines what it uses of the library; offsets map back to either. */
export interface Wrapped {
  text: string
  /** An offset into `text` → the transform's own offset, or a definition and an offset into its text. */
  map(offset: number): { offset: number } | { definition: string; offset: number }
  /** An interpreter error's position (1-based, into `text`) made the transform's, or `definition` set. */
  remap(err: unknown): unknown
}

export class SharedDefinitions {
  readonly names: ReadonlySet<string>
  readonly #compiled = new Map<Record<string, LibraryFn>, Shared>()
  readonly #mention: [string, RegExp][]

  constructor(readonly defs: ReadonlyMap<string, Definition>, readonly limits: { timeoutMs: number; maxDepth: number }) {
    this.names = new Set(defs.keys())
    this.#mention = [...defs.keys()].map((n) => [n, new RegExp(`\\$${n.replace(/[^A-Za-z0-9_]/g, '\\$&')}(?![A-Za-z0-9_])`)])
  }

  /** The definitions compiled against a function library (the engine's; the checker's records its impure calls). */
  compiled(library: Record<string, LibraryFn>): Shared {
    let c = this.#compiled.get(library)
    if (!c) this.#compiled.set(library, (c = compileDefinitions([...this.defs.values()], library, this.limits.maxDepth, this.limits.timeoutMs)))
    return c
  }

  /**
   * The definitions a transform's text names, and those they read, in library order. Read from the
   * text, not its parse tree (a reload asks for every transform): a name in a string or a comment
   * counts too, which only makes the interpreter define one more.
   */
  uses(source: string): string[] {
    const seen = new Set<string>()
    const visit = (names: Iterable<string>): void => {
      for (const n of names) {
        const d = this.defs.get(n)
        if (!d || seen.has(n)) continue
        seen.add(n)
        visit(d.refs)
      }
    }
    visit(this.#mention.filter(([, re]) => re.test(source)).map(([n]) => n))
    return [...this.defs.keys()].filter((n) => seen.has(n))
  }

  /** A cache key for what a transform depends on: the text of each definition it uses. */
  key(used: readonly string[]): string {
    return used.map((n) => this.defs.get(n)!.text).join('\0')
  }

  wrap(source: string, used: readonly string[]): Wrapped {
    const starts: { name: string; at: number }[] = []
    let text = '('
    for (const n of used) {
      starts.push({ name: n, at: text.length })
      text += this.defs.get(n)!.text + ';\n'
    }
    text += '('
    const own = text.length
    text += source + '\n))'
    const map = (offset: number): { offset: number } | { definition: string; offset: number } => {
      if (offset >= own) return { offset: offset - own }
      const d = starts.findLast((s) => s.at <= offset) ?? starts[0]!
      return { definition: d.name, offset: Math.max(0, offset - d.at) }
    }
    return {
      text,
      map,
      remap(err) {
        const e = err as { position?: number; definition?: { name: string; offset: number } }
        if (e && typeof e === 'object' && typeof e.position === 'number') {
          const at = map(Math.max(0, e.position - 1))
          if ('definition' in at) { e.definition = { name: at.definition, offset: at.offset }; e.position = undefined }
          else e.position = at.offset + 1
        }
        return err
      },
    }
  }

  /** The place of an offset into a definition's text. */
  placeOf(name: string, offset: number): Place | null {
    const d = this.defs.get(name)
    return d ? placeInText(d.fileText, { file: d.file, line: 1, col: 1 }, d.offset + offset) : null
  }
}

/** Every `$name` a tree reads or calls that is one of `names` (locally bound or not: a superset is harmless). */
export function variablesIn(ast: Node, names: ReadonlySet<string>): Set<string> {
  const out = new Set<string>()
  const walk = (n: unknown): void => {
    if (Array.isArray(n)) { for (const x of n) walk(x); return }
    if (!n || typeof n !== 'object' || n instanceof RegExp) return
    const node = n as Node
    if (node.type === 'variable' && names.has(node.value)) out.add(node.value)
    for (const v of Object.values(node)) if (v && typeof v === 'object') walk(v)
  }
  walk(ast)
  return out
}

/**
 * A library file's statements: each `$name := …` of its top-level block, its text and where it starts.
 * A problem (not a block, a statement that is not a definition) is returned with its offset.
 */
export type Split = { name: string; text: string; offset: number; node: Node }[]

export function splitDefinitions(text: string, ast: Node): Split | { offset: number; message: string } {
  if (ast.type !== 'block') return { offset: 0, message: 'a library is a block of definitions: ( $name := …; $other := …; … )' }
  const exprs = ast.expressions as Node[]
  const starts: number[] = []
  for (const e of exprs) {
    if (e.type !== 'bind' || e.lhs?.type !== 'variable') return { offset: Math.max(0, (e.position ?? 1) - 1), message: 'every statement of a library is a definition ($name := …)' }
    starts.push(e.lhs.position - 1 - String(e.lhs.value).length)
  }
  const close = trimComments(text).length - 1
  return exprs.map((e, i) => ({ name: String(e.lhs.value), text: trimEnd(text.slice(starts[i], i + 1 < starts.length ? starts[i + 1] : close)), offset: starts[i]!, node: e.rhs as Node }))
}

/** Without the `;`, blanks and comments that follow a statement. */
function trimEnd(s: string): string {
  for (let t = trimComments(s); ; t = trimComments(t.slice(0, -1))) if (!t.endsWith(';')) return t
}

/** Without the blanks and comments at the end. */
function trimComments(s: string): string {
  for (let t = s.trimEnd(); ; t = t.slice(0, t.lastIndexOf('/*')).trimEnd()) if (!t.endsWith('*/') || t.lastIndexOf('/*') < 0) return t
}

/** Names the definitions see besides their own: the functions and the other definitions. */
export interface Known {
  has(name: string): boolean
}

/**
 * What a definition reads that it may not: the input (a field name, `$`, `$$`) or a variable that is
 * none of its own, the other definitions' or a function's ($request, $vars, …: pass them as
 * arguments); and the functions it calls that do not exist. Offsets are into the file (the tree's
 * positions).
 */
export function definitionProblems(node: Node, known: Known): { offset: number; code: 'RE_LIBRARY' | 'RE_UNKNOWN_FUNCTION'; message: string }[] {
  const out: { offset: number; code: 'RE_LIBRARY' | 'RE_UNKNOWN_FUNCTION'; message: string }[] = []
  const defined = new Set<string>()
  const collect = (n: unknown): void => {
    if (Array.isArray(n)) { n.forEach(collect); return }
    if (!n || typeof n !== 'object' || n instanceof RegExp) return
    const x = n as Node
    if (x.type === 'bind' && x.lhs?.type === 'variable') defined.add(String(x.lhs.value))
    if (x.type === 'lambda') for (const a of x.arguments ?? []) defined.add(String(a.value))
    if (typeof x.focus === 'string') defined.add(x.focus)
    if (typeof x.index === 'string') defined.add(x.index)
    for (const v of Object.values(x)) if (v && typeof v === 'object') collect(v)
  }
  collect(node)
  // positions point after a token's last character
  const start = (x: Node, length: number) => Math.max(0, (x.position ?? 1) - length)
  const library = (offset: number, message: string) => out.push({ offset, code: 'RE_LIBRARY', message })
  // `own`: evaluated on the definition's own context (the input of whichever transform calls it)
  const walk = (n: unknown, own: boolean): void => {
    if (Array.isArray(n)) { for (const x of n) walk(x, own); return }
    if (!n || typeof n !== 'object' || n instanceof RegExp) return
    const x = n as Node
    if (x.type === 'function' && x.procedure?.type === 'variable' && x.procedure.value !== '' && x.procedure.value !== '$') {
      const f = String(x.procedure.value)
      if (!defined.has(f) && !known.has(f)) out.push({ offset: start(x.procedure, f.length + 1), code: 'RE_UNKNOWN_FUNCTION', message: `unknown function $${f}` })
      walk(x.arguments, own)
      return
    }
    if (x.type === 'variable') {
      const v = String(x.value)
      if (v === '$') library(start(x, 2), 'a definition reads $$ (the input): it sees only its arguments, the other definitions and the functions')
      else if (v === '') { if (own) library(start(x, 1), 'a definition reads $ (the input): pass what it needs as an argument') }
      else if (!defined.has(v) && !known.has(v)) library(start(x, v.length + 1), `a definition reads $${v}: it sees only its arguments, the other definitions and the functions (pass $${v} as an argument)`)
    }
    if (x.type === 'name' && own) library(start(x, String(x.value).length), `a definition reads the input's field "${x.value}": pass what it needs as an argument`)
    for (const [k, v] of Object.entries(x)) {
      if (!v || typeof v !== 'object') continue
      if (x.type === 'path' && k === 'steps') (v as Node[]).forEach((st, i) => walk(st, own && i === 0))
      else walk(v, own && k !== 'predicate' && k !== 'stages' && k !== 'group')
    }
  }
  walk(node, true)
  return out
}
