// Partial matching of an example's expectations against what a run produced. An object expects
// only the keys it names; an array expects the same length, item by item; a scalar expects itself.
// An object with one `$` key is an operator:
//   $absent: true          the key is missing (false: present)
//   $match: "regex"        a string the regular expression finds
//   $contains: [a, b]      an array holding items that match a, b, in this order (others between)
//   $exact: value          deep-equal, nothing partial
//   $type: string          the JSON type (string, number, boolean, array, object, null)
import { isDeepStrictEqual } from 'node:util'
import { isPlainObject } from '../expr/functions.js'

export type Path = (string | number)[]

export interface Mismatch {
  /** Where: ['upstream', 'body', 'messages', 0, 'role']; formatPath makes it `upstream.body.messages[0].role`. */
  path: Path
  expected: unknown
  actual: unknown
  /** What the operator wanted, when it was one. */
  note?: string
}

export const ABSENT = Symbol('absent')

const OPERATORS = new Set(['$absent', '$match', '$contains', '$exact', '$type'])

export function isOperator(v: unknown): v is Record<string, unknown> {
  if (!isPlainObject(v)) return false
  const keys = Object.keys(v)
  return keys.length === 1 && OPERATORS.has(keys[0]!)
}

const typeOf = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v)

export function compare(expected: unknown, actual: unknown, path: Path = [], out: Mismatch[] = []): Mismatch[] {
  if (isOperator(expected)) return operator(expected, actual, path, out)
  if (isPlainObject(expected)) {
    if (!isPlainObject(actual)) { out.push({ path, expected, actual }); return out }
    for (const [k, v] of Object.entries(expected)) compare(v, k in actual ? actual[k] : ABSENT, [...path, k], out)
    return out
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual) || actual.length !== expected.length) {
      out.push({ path, expected, actual, note: Array.isArray(actual) ? `${expected.length} items expected, ${actual.length} found` : undefined })
      return out
    }
    expected.forEach((e, i) => compare(e, actual[i], [...path, i], out))
    return out
  }
  if (!isDeepStrictEqual(expected, actual)) out.push({ path, expected, actual })
  return out
}

function operator(op: Record<string, unknown>, actual: unknown, path: Path, out: Mismatch[]): Mismatch[] {
  const [name, arg] = Object.entries(op)[0]!
  const fail = (note: string) => { out.push({ path, expected: op, actual, note }); return out }
  switch (name) {
    case '$absent':
      return (actual === ABSENT) === (arg !== false) ? out : fail(arg === false ? 'should be present' : 'should be absent')
    case '$match':
      return typeof actual === 'string' && new RegExp(String(arg)).test(actual) ? out : fail(`should be a string matching /${String(arg)}/`)
    case '$exact':
      return isDeepStrictEqual(arg, actual) ? out : fail('should be exactly this value')
    case '$type':
      return actual !== ABSENT && typeOf(actual) === arg ? out : fail(`should be of type ${String(arg)}`)
    case '$contains': {
      if (!Array.isArray(actual)) return fail('should be an array')
      let from = 0
      for (const [i, want] of (arg as unknown[]).entries()) {
        const at = actual.findIndex((a, j) => j >= from && compare(want, a).length === 0)
        if (at === -1) {
          out.push({ path, expected: want, actual: closest(want, actual.slice(from)), note: `$contains[${i}]: no item like this${from ? ` after [${from - 1}]` : ''}; the closest is shown` })
          return out
        }
        from = at + 1
      }
      return out
    }
  }
  return out
}

/** The item with the fewest mismatches, to show next to what was expected. */
function closest(want: unknown, items: unknown[]): unknown {
  let best: unknown = ABSENT
  let score = Infinity
  for (const it of items) {
    const n = compare(want, it).length
    if (n < score) { score = n; best = it }
  }
  return best
}

export const formatPath = (path: Path): string =>
  path.map((k, i) => (typeof k === 'number' ? `[${k}]` : /^[A-Za-z_][\w]*$/.test(k) ? (i ? `.${k}` : k) : `[${JSON.stringify(k)}]`)).join('')

/** The value at a path, or ABSENT. */
export function valueAt(v: unknown, path: Path): unknown {
  let x: unknown = v
  for (const k of path) {
    if (x === null || typeof x !== 'object' || !(k in x)) return ABSENT
    x = (x as Record<string | number, unknown>)[k]
  }
  return x
}
