// Source files → one frozen Ruleset, or the problems that prevent it. Runs at start, on reload and
// in lint; never per request.
import { existsSync } from 'node:fs'
import { basename, dirname, resolve } from 'node:path'
import type { ValidateFunction } from 'ajv'
import { compileExpr, DEFAULT_LIMITS, isExpr, calledFunctions, parseExpr, type Expr, type Limits } from '../expr/compile.js'
import { definitionProblems, SharedDefinitions, splitDefinitions, variablesIn, type Definition, type Split } from '../expr/library.js'
import type { Node } from '../expr/scope.js'
import { placeInText } from '../expr/evaluate.js'
import { FUNCTION_NAMES } from '../expr/functions.js'
import { compileFields, compileMatch, compilePaths } from './compile-match.js'
import { compileStream } from './compile-stream.js'
import { compileSchema, compileSchemaFile } from './compile-schema.js'
import { regexLiterals, slowRegex } from './lint-regex.js'
import { expandEnv, expandEnvDeep } from './env.js'
import { ProblemList, type ProblemCode } from './problems.js'
import { displayName, isRuleFile, nodeAt, parseSources, parseYaml, placeOf, placeOfText, readFiles, type RuleFiles, type SourceSet, type YamlPath, type YamlSource } from './read.js'
import type { Alias, ErrorWriter, PlacedExpr, RateLimits, RequestStep, ResponseSpec, RetryOn, RetryPolicy, Rule, Ruleset, StepCondition, StreamProgram, Target, Template, Upstream, UpstreamCallSpec } from './ruleset.js'
import { schemaErrors, validateSource } from './validate.js'

export interface LoadResult {
  ruleset: Ruleset | null
  problems: ProblemList
  sources: SourceSet | null
  /** Absolute paths of files some rule references, for the unused-file check. */
  used: Set<string>
}

export interface LoadOptions {
  limits?: Limits
}

/** Compiles a rules directory, or files already read (a worker compiles what its primary read). */
export async function loadRuleset(from: string | RuleFiles, opts: LoadOptions = {}): Promise<LoadResult> {
  const problems = new ProblemList()
  let files: RuleFiles
  try {
    files = typeof from === 'string' ? await readFiles(from, problems) : from
  } catch (err) {
    problems.error({ file: displayName(resolve(from as string)), line: 1, col: 1 }, 'RE_READ', `cannot read the rules directory: ${(err as Error).message}`)
    return { ruleset: null, problems, sources: null, used: new Set() }
  }
  const sources = parseSources(files, problems)
  const c = new Compiler(sources, problems, opts.limits ?? DEFAULT_LIMITS, lastLoad)
  const ruleset = c.compile()
  lastLoad = c.checked
  return { ruleset: problems.errors.length ? null : ruleset, problems, sources, used: c.used }
}

const rateLimits = (l: any): RateLimits => ({ requestsPerMinute: l?.requestsPerMinute ?? null, tokensPerMinute: l?.tokensPerMinute ?? null })

export const BINDINGS = new Set(['request', 'ctx', 'vars', 'models', 'state', 'error', 'recall', 'remember'])
const DEFAULT_TIMEOUTS = { connect: 10_000, firstByte: 300_000, idle: 300_000 }
const DEFAULT_RETRY = { backoffMs: 250, maxDelayMs: 10_000, on: ['connect', '429', '5xx'] as RetryOn[] }

/** An expression compiled and checked: its problems as offsets into its text, placed anew where it is used. */
type CheckedExpr = { expr: Expr | null; problems: { offset: number; code: ProblemCode; message: string }[] }

/**
 * The expressions the last load compiled, by limits and text: a reload compiles again only what
 * changed (most of a load's time is compiling). Each load keeps only what it used.
 */
let lastLoad = new Map<string, CheckedExpr>()

class Compiler {
  readonly used = new Set<string>()
  readonly #fileExprs = new Map<string, PlacedExpr | null>()
  readonly #streams = new Map<string, StreamProgram | null>()
  readonly #pipelines = new Map<string, { src: YamlSource; steps: unknown[]; compiled?: RequestStep[] }>()
  readonly #compilingPipelines = new Set<string>()
  readonly #byPath: Map<string, YamlSource>

  /** What this load compiled, for the next one. */
  readonly checked = new Map<string, CheckedExpr>()

  /** The shared definitions (`library:`), read before anything that may call them. */
  library: SharedDefinitions | null = null

  constructor(readonly sources: SourceSet, readonly problems: ProblemList, readonly limits: Limits, readonly reuse: ReadonlyMap<string, CheckedExpr> = new Map()) {
    this.#byPath = new Map(sources.yaml.map((s) => [s.path, s]))
  }

  compile(): Ruleset {
    // A schema problem inside one rule leaves that rule out and the rest of its file compiled, so that
    // lint reports the problems of the other rules too; a problem anywhere else leaves the file out.
    const ruleFiles: YamlSource[] = []
    const badRules = new Map<YamlSource, Set<number>>()
    for (const s of this.sources.yaml.filter(isRuleFile)) {
      const errors = schemaErrors(s, 'rules', this.problems)
      if (errors.some((p) => p[0] !== 'rules' || typeof p[1] !== 'number')) continue
      ruleFiles.push(s)
      badRules.set(s, new Set(errors.map((p) => p[1] as number)))
    }
    this.library = this.loadLibrary(ruleFiles)
    const upstreams = new Map<string, Upstream>()
    const aliases = new Map<string, Alias>()
    const models: { id: string; owned_by: string }[] = []
    const vars: Record<string, unknown> = {}
    const errorWriters: ErrorWriter[] = []
    let anyPath: ErrorWriter | null = null
    const keyLimits = new Map<string, RateLimits>()
    let usage: { src: YamlSource; text: string } | null = null
    // The first tokensPerMinute: without limits.usage, the problem is reported there.
    let tokensAt: { src: YamlSource; path: YamlPath } | null = null
    const seen = new Map<string, string>()
    const once = (kind: string, name: string, src: YamlSource, path: YamlPath): boolean => {
      const key = `${kind}\0${name}`
      const first = seen.get(key)
      if (first) {
        this.problems.error(placeOf(src, nodeAt(src.doc, path)), 'RE_DUPLICATE', `${kind} "${name}" is already defined in ${first}`)
        return false
      }
      seen.set(key, `${src.name}:${placeOf(src, nodeAt(src.doc, path)).line}`)
      return true
    }

    for (const src of ruleFiles) {
      const d = src.data as Record<string, any>
      for (const [name, u] of Object.entries<any>(d.upstreams ?? {})) {
        if (once('upstream', name, src, ['upstreams', name])) upstreams.set(name, this.upstream(src, name, u))
        if (u.limits?.tokensPerMinute) tokensAt ??= { src, path: ['upstreams', name, 'limits', 'tokensPerMinute'] }
      }
      for (const [name, steps] of Object.entries<any>(d.pipelines ?? {})) {
        if (once('pipeline', name, src, ['pipelines', name])) this.#pipelines.set(name, { src, steps })
      }
      for (const [name, l] of Object.entries<any>(d.limits?.keys ?? {})) {
        if (once('key limit', name, src, ['limits', 'keys', name])) keyLimits.set(name, rateLimits(l))
        if (l.tokensPerMinute) tokensAt ??= { src, path: ['limits', 'keys', name, 'tokensPerMinute'] }
      }
      if (d.limits?.usage !== undefined && once('limits.usage', '', src, ['limits', 'usage'])) usage = { src, text: d.limits.usage }
      for (const [k, v] of Object.entries<any>(d.vars ?? {})) {
        if (once('var', k, src, ['vars', k])) vars[k] = this.env(src, ['vars', k], v)
      }
      for (const [i, e] of (d.errors ?? []).entries()) {
        const w = this.errorWriter(src, ['errors', i], e)
        if (!w) continue
        if (w.paths) errorWriters.push(w)
        else if (once('error writer', 'for every other path', src, ['errors', i])) anyPath = w
      }
      for (const [i, m] of (d.models ?? []).entries()) {
        const id = typeof m === 'string' ? m : m.id
        if (once('model', id, src, ['models', i])) models.push({ id, owned_by: (typeof m === 'object' && m.owned_by) || 'route-engine' })
      }
      for (const [name, a] of Object.entries<any>(d.aliases ?? {})) {
        if (!once('alias', name, src, ['aliases', name])) continue
        const v = this.env(src, ['aliases', name], a) as any
        aliases.set(name, typeof v === 'string' ? { model: v, set: null } : { model: v.model, set: v.set ?? null })
        if (!models.some((m) => m.id === name)) models.push({ id: name, owned_by: (typeof a === 'object' && a.owned_by) || 'route-engine' })
      }
    }

    const rules: Rule[] = []
    for (const src of ruleFiles) {
      for (const [i, r] of ((src.data as any).rules ?? []).entries()) {
        if (badRules.get(src)!.has(i) || !once('rule', r.name, src, ['rules', i, 'name'])) continue
        const rule = this.rule(src, ['rules', i], r, upstreams, vars)
        if (rule) rules.push(rule)
      }
    }
    const usageExpr = usage && this.expr(usage.src, ['limits', 'usage'], usage.text)
    if (tokensAt && !usage) {
      this.problems.error(placeOf(tokensAt.src, nodeAt(tokensAt.src.doc, tokensAt.path)), 'RE_SCHEMA', 'tokensPerMinute needs limits.usage: a JSONata expression giving the tokens a reply used (e.g. usage.total_tokens)')
    }
    // Every pipeline is compiled, used or not, so lint checks them all.
    const pipelines = new Map([...this.#pipelines.keys()].map((name) => [name, this.pipeline(this.#pipelines.get(name)!.src, ['pipelines', name], name) ?? []]))
    for (const src of this.sources.yaml) {
      if (!isRuleFile(src) && !this.used.has(src.path)) this.problems.warn(placeOf(src, null), 'RE_UNUSED_FILE', 'no rule references this file')
    }
    for (const path of this.sources.texts.keys()) {
      if (!this.used.has(path)) this.problems.warn({ file: displayName(path), line: 1, col: 1 }, 'RE_UNUSED_FILE', 'no rule references this file')
    }
    return deepFreeze({
      rules,
      dispatch: dispatchTable(rules),
      pipelines,
      upstreams,
      aliases,
      models,
      vars,
      library: this.library,
      errorWriters: anyPath ? [...errorWriters, anyPath] : errorWriters,
      limits: { keys: keyLimits, usage: usageExpr, countTokens: tokensAt !== null },
      hash: this.sources.hash,
      loadedAt: new Date(),
      files: this.sources.yaml.map((s) => s.path).concat([...this.sources.texts.keys()]),
      source: this.sources.files,
    })
  }

  /** Expands ${VAR} in a value; an unset variable without a default is a warning at its node. */
  env(src: YamlSource, path: YamlPath, v: unknown): unknown {
    return expandEnvDeep(v, (ref, sub) => {
      if (!ref.set) this.problems.warn(placeOf(src, nodeAt(src.doc, [...path, ...sub])), 'RE_UNSET_ENV', `environment variable ${ref.name} is not set`)
    })
  }

  upstream(src: YamlSource, name: string, u: any): Upstream {
    const base = expandEnv(u.base)
    for (const r of base.refs) if (!r.set) this.problems.warn(placeOf(src, nodeAt(src.doc, ['upstreams', name, 'base'])), 'RE_UNSET_ENV', `environment variable ${r.name} is not set: upstream "${name}" has no base URL`)
    const headers: Record<string, string> = {}
    const secrets: string[] = []
    const keyHeaders: string[] = []
    for (const [h, raw] of Object.entries<string>(u.headers ?? {})) {
      const { value, refs } = expandEnv(raw)
      if (refs.length) keyHeaders.push(h.toLowerCase())
      const unset = refs.filter((r) => !r.set)
      for (const r of unset) this.problems.warn(placeOf(src, nodeAt(src.doc, ['upstreams', name, 'headers', h])), 'RE_UNSET_ENV', `environment variable ${r.name} is not set: header "${h}" of upstream "${name}" is not sent`)
      if (unset.length) continue
      headers[h.toLowerCase()] = value
      // The whole value and each variable's own value: an upstream may echo either back.
      if (refs.length) secrets.push(value, ...refs.map((r) => process.env[r.name] ?? ''))
    }
    return {
      name,
      base: base.value.replace(/\/+$/, ''),
      baseVars: base.refs.map((r) => r.name),
      headers,
      keyHeaders,
      secrets: secrets.filter((s) => s.length >= 4),
      forward: (u.forward ?? []).map((f: string) => f.toLowerCase()),
      timeouts: { ...DEFAULT_TIMEOUTS, ...(u.timeouts ?? {}) },
      maxConcurrent: u.maxConcurrent ?? null,
      limits: u.limits ? rateLimits(u.limits) : null,
    }
  }

  rule(src: YamlSource, path: YamlPath, r: any, upstreams: Map<string, Upstream>, vars: Record<string, unknown>): Rule | null {
    const at = placeOf(src, nodeAt(src.doc, path))
    const m = this.env(src, [...path, 'match'], r.match) as Record<string, unknown>
    const when = typeof m.when === 'string' ? this.inline(src, [...path, 'match', 'when'], m.when) : null
    const regex = (m.model as { regex?: unknown } | undefined)?.regex
    const slow = typeof regex === 'string' ? slowRegex(regex) : null
    if (slow) {
      this.problems.error(placeOf(src, nodeAt(src.doc, [...path, 'match', 'model', 'regex'])), 'RE_SLOW_REGEX', `/${regex}/ can backtrack catastrophically: ${slow}`)
      return null
    }
    let matcher
    try {
      matcher = compileMatch(m, when)
    } catch (err) {
      this.problems.error(placeOf(src, nodeAt(src.doc, [...path, 'match', 'model'])), 'RE_BAD_PATTERN', (err as Error).message)
      return null
    }
    // Output schemas are lint's (lint-examples.ts); the files are the rules' own all the same.
    for (const o of Object.values<unknown>(r.outputs ?? {})) if (typeof o === 'string') this.used.add(resolve(dirname(src.path), o))
    const request = this.steps(src, [...path, 'request'], r.request ?? [])
    const upstream = r.upstream ? this.callSpec(src, [...path, 'upstream'], r.upstream, upstreams) : null
    const response = this.responseSpec(src, [...path, 'response'], r.response ?? {})
    const retry = this.retry(r.retry)
    const own: Target | null = upstream && { request, upstream, response, retry }
    // A fallback inherits whichever of request, response and retry it does not set.
    const fallbacks = ((r.fallback ?? []) as any[]).map((f, i): Target => {
      const p = [...path, 'fallback', i]
      return {
        request: f.request === undefined ? request : this.steps(src, [...p, 'request'], f.request),
        upstream: this.callSpec(src, [...p, 'upstream'], f.upstream, upstreams),
        response: f.response === undefined ? response : this.responseSpec(src, [...p, 'response'], f.response),
        retry: f.retry === undefined ? retry : this.retry(f.retry),
      }
    })
    return {
      name: r.name,
      at,
      errors: r.errors === undefined ? null : this.expr(src, [...path, 'errors'], r.errors),
      match: matcher,
      vars: { ...vars, ...(this.env(src, [...path, 'vars'], r.vars ?? {}) as Record<string, unknown>) },
      request,
      upstream,
      reply: r.reply
        ? {
            status: r.reply.status ?? 200,
            headers: this.env(src, [...path, 'reply', 'headers'], r.reply.headers ?? {}) as Record<string, string>,
            body: r.reply.body === undefined ? null : this.expr(src, [...path, 'reply', 'body'], r.reply.body),
          }
        : null,
      response,
      targets: own ? [own, ...fallbacks] : [],
    }
  }

  /** One `errors:` entry: `write`, and the request paths it is for (none: every other path). */
  errorWriter(src: YamlSource, path: YamlPath, e: { path?: unknown; write: string }): ErrorWriter | null {
    const write = this.expr(src, [...path, 'write'], e.write)
    if (!write) return null
    return { paths: e.path === undefined ? null : compilePaths(this.env(src, [...path, 'path'], e.path)).test, write }
  }

  callSpec(src: YamlSource, path: YamlPath, up: any, upstreams: Map<string, Upstream>): UpstreamCallSpec {
    if (!upstreams.has(up.to)) {
      this.problems.error(placeOf(src, nodeAt(src.doc, [...path, 'to'])), 'RE_UNKNOWN_UPSTREAM', `unknown upstream "${up.to}"${upstreams.size ? ` (defined: ${[...upstreams.keys()].join(', ')})` : ''}`)
    }
    return {
      name: up.to,
      path: this.template(src, [...path, 'path'], up.path ?? '', 'path'),
      method: up.method ? String(up.method).toUpperCase() : null,
      headers: Object.fromEntries(Object.entries<string>(up.headers ?? {}).map(([k, v]) => [k.toLowerCase(), this.template(src, [...path, 'headers', k], v, 'header')])),
    }
  }

  responseSpec(src: YamlSource, path: YamlPath, resp: any): ResponseSpec {
    return {
      body: resp.body === undefined ? null : this.expr(src, [...path, 'body'], resp.body),
      stream: resp.stream === undefined ? null : this.stream(src, [...path, 'stream'], resp.stream),
      error: resp.error === undefined ? null : this.expr(src, [...path, 'error'], resp.error),
    }
  }

  retry(r: any = {}): RetryPolicy {
    return {
      attempts: r.attempts ?? 0,
      backoffMs: r.backoff ?? DEFAULT_RETRY.backoffMs,
      maxDelayMs: r.maxDelay ?? DEFAULT_RETRY.maxDelayMs,
      on: new Set((r.on ?? DEFAULT_RETRY.on).map(String) as RetryOn[]),
    }
  }

  steps(src: YamlSource, path: YamlPath, steps: unknown[]): RequestStep[] {
    const out: RequestStep[] = []
    steps.forEach((s, i) => {
      const p = [...path, i]
      if (typeof s === 'string') {
        const expr = this.expr(src, p, s)
        if (expr) out.push({ kind: 'transform', when: null, expr })
        return
      }
      const o = s as Record<string, any>
      const when = this.condition(src, [...p, 'when'], o.when)
      if (o.use !== undefined) {
        const steps = this.pipeline(src, [...p, 'use'], o.use)
        if (steps) out.push({ kind: 'pipeline', when, name: o.use, steps })
      } else if (o.validate !== undefined) {
        const schema = this.schema(src, [...p, 'validate'], o.validate)
        if (schema) out.push({ kind: 'validate', when, schema, at: placeOf(src, nodeAt(src.doc, [...p, 'validate'])) })
      } else {
        const kind = o.fail !== undefined ? 'fail' : 'transform'
        const expr = this.expr(src, [...p, kind], o[kind])
        if (expr) out.push({ kind, when, expr })
      }
    })
    return out
  }

  pipeline(src: YamlSource, path: YamlPath, name: string): RequestStep[] | null {
    const p = this.#pipelines.get(name)
    if (!p) {
      this.problems.error(placeOf(src, nodeAt(src.doc, path)), 'RE_UNKNOWN_PIPELINE', `unknown pipeline "${name}"`)
      return null
    }
    if (p.compiled) return p.compiled
    if (this.#compilingPipelines.has(name)) {
      this.problems.error(placeOf(src, nodeAt(src.doc, path)), 'RE_UNKNOWN_PIPELINE', `pipeline "${name}" uses itself`)
      return null
    }
    this.#compilingPipelines.add(name)
    p.compiled = this.steps(p.src, ['pipelines', name], p.steps)
    this.#compilingPipelines.delete(name)
    return p.compiled
  }

  condition(src: YamlSource, path: YamlPath, when: unknown): StepCondition | null {
    if (when === undefined) return null
    if (typeof when === 'string') {
      const expr = this.inline(src, path, when)
      return expr ? { kind: 'expr', expr } : null
    }
    return { kind: 'fields', test: compileFields(when as Record<string, unknown>) }
  }

  /** A JSON Schema for `validate:` steps: inline, or the path of a .json file relative to the rule file. */
  schema(src: YamlSource, path: YamlPath, value: unknown): ValidateFunction | null {
    let compile = () => compileSchema(value as object)
    if (typeof value === 'string') {
      const file = resolve(dirname(src.path), value)
      const text = this.sources.texts.get(file)
      if (text === undefined) {
        this.problems.error(placeOf(src, nodeAt(src.doc, path)), 'RE_MISSING_FILE', `schema file ${value} not found in the rules directory`)
        return null
      }
      this.used.add(file)
      compile = () => compileSchemaFile(file, text)
    }
    try {
      return compile()
    } catch (err) {
      this.problems.error(placeOf(src, nodeAt(src.doc, path)), 'RE_SCHEMA', `cannot use this schema: ${(err as Error).message}`)
      return null
    }
  }

  /** A transform: inline JSONata, or the path of a .jsonata file relative to the rule file. */
  expr(src: YamlSource, path: YamlPath, value: string): PlacedExpr | null {
    if (!isFileRef(value, /\.jsonata$/)) return this.inline(src, path, value)
    const file = resolve(dirname(src.path), value)
    if (this.#fileExprs.has(file)) return this.#fileExprs.get(file)!
    const text = this.sources.texts.get(file)
    if (text === undefined) {
      this.problems.error(placeOf(src, nodeAt(src.doc, path)), 'RE_MISSING_FILE', `transform file ${value} not found in the rules directory`)
      return null
    }
    this.used.add(file)
    const compiled = this.compileText(text, { file: displayName(file), line: 1, col: 1 })
    this.#fileExprs.set(file, compiled)
    return compiled
  }

  inline(src: YamlSource, path: YamlPath, text: string): PlacedExpr | null {
    return this.compileText(text, placeOfText(src, path))
  }

  compileText(text: string, at: { file: string; line: number; col: number }): PlacedExpr | null {
    // what it uses of the library is part of what it is: a changed definition compiles its callers again
    const lib = this.library
    const key = `${this.limits.timeoutMs}|${this.limits.maxDepth}|${lib ? lib.key(lib.uses(text)) : ''}|${text}`
    const c = this.checked.get(key) ?? this.reuse.get(key) ?? checkExpr(text, this.limits, lib)
    this.checked.set(key, c)
    for (const p of c.problems) this.problems.error(placeInText(text, at, p.offset), p.code, p.message)
    return c.expr ? (lib ? { expr: c.expr, at, library: lib } : { expr: c.expr, at }) : null
  }

  /**
   * `library:` of every rule file: each file a block of `$name := …` definitions, checked like a
   * transform, and for what a definition may read (its arguments, the other definitions, the functions).
   */
  loadLibrary(ruleFiles: YamlSource[]): SharedDefinitions | null {
    const defs = new Map<string, Definition>()
    const trees: { file: string; text: string; name: string; split: Split }[] = []
    for (const src of ruleFiles) {
      const refs = (src.data as { library?: string | string[] }).library
      for (const [i, ref] of (refs === undefined ? [] : Array.isArray(refs) ? refs : [refs]).entries()) {
        const path: YamlPath = Array.isArray(refs) ? ['library', i] : ['library']
        const file = resolve(dirname(src.path), ref)
        const text = this.sources.texts.get(file)
        if (text === undefined || !isFileRef(ref, /\.jsonata$/)) {
          this.problems.error(placeOf(src, nodeAt(src.doc, path)), 'RE_MISSING_FILE', `library file ${ref} not found in the rules directory (a .jsonata file)`)
          continue
        }
        if (trees.some((t) => t.file === file)) continue
        this.used.add(file)
        const at = { file: displayName(file), line: 1, col: 1 }
        const compiled = compileExpr(text, this.limits)
        if (!isExpr(compiled)) {
          for (const e of compiled) this.problems.error(placeInText(text, at, e.offset), 'RE_JSONATA', `${e.code}: ${e.message}`)
          continue
        }
        const split = splitDefinitions(text, parseExpr(text) as Node)
        if (!Array.isArray(split)) {
          this.problems.error(placeInText(text, at, split.offset), 'RE_LIBRARY', split.message)
          continue
        }
        trees.push({ file, text, name: at.file, split })
      }
    }
    for (const t of trees) {
      for (const d of t.split) {
        const place = placeInText(t.text, { file: t.name, line: 1, col: 1 }, d.offset)
        const first = defs.get(d.name)
        if (first) this.problems.error(place, 'RE_DUPLICATE', `definition $${d.name} is already defined in ${first.file}:${placeInText(first.fileText, { file: first.file, line: 1, col: 1 }, first.offset).line}`)
        else if (BINDINGS.has(d.name) || FUNCTION_NAMES.has(d.name) || JSONATA_BUILTINS.has(d.name)) this.problems.error(place, 'RE_LIBRARY', `$${d.name} is already a ${BINDINGS.has(d.name) ? 'binding' : 'function'}: a definition needs a name of its own`)
        else defs.set(d.name, { ...d, file: t.name, fileText: t.text, refs: new Set() })
      }
    }
    if (!defs.size) return null
    const names = new Set(defs.keys())
    const known = { has: (n: string) => names.has(n) || FUNCTION_NAMES.has(n) || JSONATA_BUILTINS.has(n) }
    for (const d of defs.values()) {
      ;(d as { refs: ReadonlySet<string> }).refs = variablesIn(d.node, names)
      for (const p of definitionProblems(d.node, known)) this.problems.error(placeInText(d.fileText, { file: d.file, line: 1, col: 1 }, p.offset), p.code, p.message)
      for (const r of regexLiterals(d.text)) {
        const why = slowRegex(r.re.source, r.re.flags)
        if (why) this.problems.error(placeInText(d.fileText, { file: d.file, line: 1, col: 1 }, d.offset + r.offset), 'RE_SLOW_REGEX', `/${r.re.source}/ can backtrack catastrophically: ${why}`)
      }
    }
    return new SharedDefinitions(defs, this.limits)
  }

  stream(src: YamlSource, path: YamlPath, value: unknown): StreamProgram | null {
    if (typeof value !== 'string') {
      return compileStream(value as Record<string, unknown>, path, (p, v) => this.inline(src, p, String(v)))
    }
    if (!isFileRef(value, /\.ya?ml$/)) {
      this.problems.error(placeOf(src, nodeAt(src.doc, path)), 'RE_MISSING_FILE', 'a stream program is inline or the path of a .yaml file')
      return null
    }
    const file = resolve(dirname(src.path), value)
    if (this.#streams.has(file)) return this.#streams.get(file)!
    const prog = this.#byPath.get(file)
    if (!prog) {
      this.problems.error(placeOf(src, nodeAt(src.doc, path)), 'RE_MISSING_FILE', `stream program ${value} not found in the rules directory`)
      return null
    }
    this.used.add(file)
    const compiled = validateSource(prog, 'stream', this.problems)
      ? compileStream(prog.data as Record<string, unknown>, [], (p, v) => this.inline(prog, p, String(v)))
      : null
    this.#streams.set(file, compiled)
    return compiled
  }

  /** `text` with `{expression}` parts; `{raw: expression}` (paths only) opts out of percent-encoding. */
  template(src: YamlSource, path: YamlPath, text: string, where: 'path' | 'header'): Template {
    const parts: Template['parts'] = []
    const base = placeOfText(src, path)
    let i = 0
    let lit = ''
    while (i < text.length) {
      if (text[i] !== '{') { lit += text[i++]; continue }
      let depth = 0
      let j = i
      for (; j < text.length; j++) {
        if (text[j] === '{') depth++
        else if (text[j] === '}' && --depth === 0) break
      }
      if (lit) parts.push(lit)
      lit = ''
      const inner = text.slice(i + 1, j)
      // `raw:` cannot begin a JSONata expression, so the marker is unambiguous.
      const raw = RAW_MARKER.exec(inner)?.[0] ?? ''
      const at = { ...base, col: base.col + i + 1 }
      if (raw && where === 'header') {
        this.problems.error(at, 'RE_RAW_TEMPLATE', 'raw: applies to upstream.path only: header values are never percent-encoded (a value with control characters is refused)')
      }
      const e = this.compileText(inner.slice(raw.length), { ...at, col: at.col + raw.length })
      if (e) parts.push({ value: e, raw: raw !== '' })
      i = j + 1
    }
    if (lit) parts.push(lit)
    return { parts }
  }
}

const RAW_MARKER = /^\s*raw\s*:\s*/

const isFileRef = (v: string, ext: RegExp): boolean => ext.test(v) && !/\s/.test(v)

/** A function the expression defines itself (`$name := function…`). */
const definedIn = (text: string, name: string): boolean => new RegExp(`\\$${name}\\s*:=`).test(text)

export const JSONATA_BUILTINS = new Set(
  ('sum count max min average string substring substringBefore substringAfter lowercase uppercase length trim pad ' +
    'contains split join match replace now fromMillis toMillis formatNumber formatBase formatInteger parseInteger number ' +
    'abs floor ceil round power sqrt random boolean not exists map zip filter single reduce sift each error assert type ' +
    'sort reverse shuffle distinct append lookup spread merge keys values base64encode base64decode encodeUrlComponent ' +
    'encodeUrl decodeUrlComponent decodeUrl eval millis clone').split(' '),
)

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object' && !Object.isFrozen(o)) {
    if (o instanceof Map) for (const v of o.values()) deepFreeze(v)
    else if (!isExprObject(o)) for (const v of Object.values(o)) deepFreeze(v)
    Object.freeze(o)
  }
  return o
}

function checkExpr(text: string, limits: Limits, library: SharedDefinitions | null): CheckedExpr {
  const compiled = compileExpr(text, limits, library)
  if (!isExpr(compiled)) return { expr: null, problems: compiled.map((e) => ({ offset: e.offset, code: 'RE_JSONATA', message: `${e.code}: ${e.message}` })) }
  const problems: CheckedExpr['problems'] = []
  for (const f of calledFunctions(text)) {
    if (!FUNCTION_NAMES.has(f.name) && !BINDINGS.has(f.name) && !JSONATA_BUILTINS.has(f.name) && !library?.names.has(f.name) && !definedIn(text, f.name)) {
      problems.push({ offset: f.offset, code: 'RE_UNKNOWN_FUNCTION', message: `unknown function $${f.name}` })
    }
  }
  for (const r of regexLiterals(text)) {
    const why = slowRegex(r.re.source, r.re.flags)
    if (why) problems.push({ offset: r.offset, code: 'RE_SLOW_REGEX', message: `/${r.re.source}/ can backtrack catastrophically: ${why}` })
  }
  return { expr: compiled, problems }
}

// Compiled expressions, RegExps and the library (its parse trees hold the RegExps its compiled
// definitions use) hold internal state; freezing inside them would break them.
const isExprObject = (o: object): boolean => 'evaluate' in o || o instanceof RegExp || typeof o === 'function' || o instanceof SharedDefinitions

/** One stream program file on its own (tests), with the library its rules would bind. */
export function compileStreamFile(path: string, text: string, limits: Limits = DEFAULT_LIMITS, library: SharedDefinitions | null = null): { program: StreamProgram | null; problems: ProblemList } {
  const problems = new ProblemList()
  const sources = parseSources({ dir: dirname(path), files: [{ path, text }], hash: '' }, problems)
  const src = sources.yaml[0]
  if (!src) return { program: null, problems }
  const c = new Compiler(sources, problems, limits)
  c.library = library
  const program = c.stream(src, [], `./${path.split('/').pop()}`)
  return { program: problems.errors.length ? null : program, problems }
}

/** One library file on its own (tests, tools), checked as a ruleset's `library:` is. */
export function compileLibraryFile(path: string, text: string, limits: Limits = DEFAULT_LIMITS): { library: SharedDefinitions | null; problems: ProblemList } {
  const problems = new ProblemList()
  const src = parseYaml(resolve(dirname(path), '(library).yaml'), `library: ${JSON.stringify(basename(path))}`, problems)!
  const c = new Compiler({ dir: dirname(path), yaml: [src], texts: new Map([[resolve(path), text]]), hash: '', files: { dir: dirname(path), files: [{ path, text }], hash: '' } }, problems, limits)
  const library = c.loadLibrary([src])
  return { library: problems.errors.length ? null : library, problems }
}

/** Ruleset.dispatch: built once, so that matching a request tries only the rules its path can match. */
function dispatchTable(rules: readonly Rule[]): Ruleset['dispatch'] {
  const open = rules.filter((r) => !r.match.exactPaths)
  const byPath = new Map<string, Rule[]>()
  for (const r of rules) for (const p of r.match.exactPaths ?? []) byPath.set(p, [])
  for (const [p, list] of byPath) for (const r of rules) if (!r.match.exactPaths || r.match.exactPaths.has(p)) list.push(r)
  return { byPath, open }
}
