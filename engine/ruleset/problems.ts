// Problems in rule files are collected, not thrown, so lint can list every one in a single run.
import type { Place } from '../errors.js'

export type ProblemCode =
  | 'RE_YAML' | 'RE_SCHEMA' | 'RE_JSONATA' | 'RE_UNKNOWN_UPSTREAM' | 'RE_UNKNOWN_PIPELINE' | 'RE_MISSING_FILE'
  | 'RE_DUPLICATE' | 'RE_UNSET_ENV' | 'RE_UNKNOWN_FUNCTION' | 'RE_BAD_PATTERN' | 'RE_UNUSED_FILE' | 'RE_READ'
  | 'RE_NO_RULES' | 'RE_SLOW_REGEX' | 'RE_UNKNOWN_BINDING' | 'RE_SHADOWED' | 'RE_DROPPED_FIELD' | 'RE_OUTPUT_SCHEMA' | 'RE_EXAMPLE'
  | 'RE_RAW_TEMPLATE' | 'RE_LIBRARY'

export interface Problem extends Place {
  code: ProblemCode
  message: string
  severity: 'error' | 'warning'
}

export function formatProblem(p: Problem, source?: string): string {
  let out = `${p.file}:${p.line}:${p.col}: ${p.severity === 'warning' ? 'warning ' : ''}${p.code} ${p.message}`
  const text = source?.split(/\r?\n/)[p.line - 1]
  if (text !== undefined && text.trim()) out += `\n    ${text}\n    ${' '.repeat(Math.max(0, p.col - 1))}^`
  return out
}

export class ProblemList {
  readonly items: Problem[] = []
  error(at: Place, code: ProblemCode, message: string): void {
    this.items.push({ ...at, code, message, severity: 'error' })
  }
  warn(at: Place, code: ProblemCode, message: string): void {
    this.items.push({ ...at, code, message, severity: 'warning' })
  }
  get errors(): Problem[] {
    return this.items.filter((p) => p.severity === 'error')
  }
}
