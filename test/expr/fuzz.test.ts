// The JSONata compiler against jsonata's interpreter on generated expressions: paths, predicates,
// constructors, operators, blocks, lambdas and library calls nested at random (seeded), each run in
// both on several inputs. Results must be identical — value, key order, sequence flags — or both
// fail with the same error code; the compiled code may hand an evaluation back to the interpreter.
import t from 'tap'
import jsonata from 'jsonata'
import { LIBRARY } from '../../engine/expr/compile.js'
import { difference } from '../../engine/expr/check.js'
import { FUNCTIONS } from '../../engine/expr/functions.js'
import { compileProgram, Unsupported } from '../../engine/expr/program.js'
import { Fallback } from '../../engine/expr/runtime.js'

const EXPRESSIONS = Number(process.env.EXPR_FUZZ_COUNT ?? 1500)
let seed = Number(process.env.EXPR_FUZZ_SEED ?? 11)
// mulberry32: a small seeded generator, so a failure reproduces
const rand = (n: number): number => {
  seed = (seed + 0x6d2b79f5) | 0
  let x = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x
  return ((x ^ (x >>> 14)) >>> 0) % n
}
const pick = <T>(xs: readonly T[]): T => xs[rand(xs.length)]!

const INPUTS: unknown[] = [
  { a: [1, 2, { b: 3 }], b: { c: 'x', d: [true, null] }, c: [[1], [2, 3]], s: 'text', n: 2 },
  { a: { b: [{ c: 1 }, { c: [2, 3] }] }, b: [], c: {}, s: '', n: 0 },
  [{ a: 1, b: 'y' }, { a: [4, 5], c: { d: 1 } }],
]

const NAMES = ['a', 'b', 'c', 'd', 's', 'n']
const LITERALS = ['1', '2.5', '-3', '"s"', '""', 'true', 'false', 'null', '[]', '{}', '[1, 2]', '["x", "y"]', '{"k": 1}']

function atom(vars: string[]): string {
  switch (rand(6)) {
    case 0: return pick(LITERALS)
    case 1: return vars.length ? pick(vars) : '$'
    case 2: return `${pick(NAMES)}.${pick(NAMES)}`
    case 3: return pick(['$', '$$'])
    default: return pick(NAMES)
  }
}

function expr(depth: number, vars: string[]): string {
  if (depth <= 0) return atom(vars)
  const e = () => expr(depth - 1, vars)
  switch (rand(22)) {
    case 0: return `${e()}.${pick(NAMES)}`
    case 1: return `${e()}.(${e()})`
    case 2: return `(${e()})[${pick(['0', '1', '-1', '$ > 1', 'true', '$type($) = "number"', `${pick(NAMES)}`])}]`
    case 3: return `[${e()}, ${e()}]${rand(3) === 0 ? `[${pick(['0', '1', '-1'])}]` : ''}`
    case 4: return `{"k": ${e()}, "m": ${e()}}${rand(4) === 0 ? '.k' : ''}`
    case 5: return `${e()} ${pick(['+', '-', '*', '&', '=', '!=', '<', 'and', 'or', 'in'])} ${e()}`
    case 6: return `${e()} ? ${e()} : ${e()}`
    case 7: return `${e()} ${pick(['?:', '??'])} ${e()}`
    case 8: return `$${pick(['count', 'exists', 'string', 'type', 'keys', 'distinct', 'reverse', 'boolean', 'not', 'array', 'compact'])}(${e()})`
    case 9: return `$${pick(['append', 'lookup', 'join', 'merge', 'zip', 'omit', 'deepMerge'])}(${e()}, ${pick(['"a"', '","', e()])})`
    case 10: return `$merge([${e()}, ${e()}])`
    case 11: {
      const v = `$v${depth}`
      return `$map(${e()}, function(${v}) { ${expr(depth - 1, [...vars, v])} })`
    }
    case 12: {
      const v = `$v${depth}`
      return `$filter(${e()}, function(${v}) { ${expr(depth - 1, [...vars, v])} })`
    }
    case 13: {
      const v = `$x${depth}`
      return `(${v} := ${e()}; ${expr(depth - 1, [...vars, v])})`
    }
    case 14: return `${pick(NAMES)}#$i.${pick(['$i', '[$i, $]', '{"i": $i}'])}`
    case 15: return `${e()}.{"v": $}`
    case 16: return `${e()}[]`
    case 17: return `-(${e()})`
    case 18: return `$reduce(${e()}, function($p, $q) { [$p, $q] })`
    case 19: return `(${e()}; ${e()})`
    case 20: return `$each(${e()}, function($val, $key) { $key })`
    default: return `${e()} ~> $string()`
  }
}

function evaluations(src: string) {
  const reference = jsonata(src)
  for (const [name, [fn, sig]] of Object.entries(FUNCTIONS)) reference.registerFunction(name, fn, sig)
  const program = compileProgram(reference.ast(), LIBRARY, 500)
  return { reference, program }
}

t.test(`${EXPRESSIONS} generated expressions: compiled code and interpreter agree`, async (t) => {
  const tally = { compared: 0, sameError: 0, handedBack: 0, notCompiled: 0, syntax: 0, interpreterCrash: 0 }
  const differences: string[] = []
  for (let i = 0; i < EXPRESSIONS; i++) {
    const src = expr(1 + rand(4), [])
    let engines: ReturnType<typeof evaluations>
    try { engines = evaluations(src) } catch { tally.syntax++; continue }
    const { reference, program } = engines
    if (program instanceof Unsupported) { tally.notCompiled++; continue }
    for (const input of INPUTS) {
      let ref: { value?: unknown; error?: string }
      try { ref = { value: await reference.evaluate(structuredClone(input)) } } catch (e) {
        // the interpreter's own crash (a JavaScript error, no JSONata code) is no reference to compare with
        if ((e as { code?: string }).code === undefined) { tally.interpreterCrash++; continue }
        ref = { error: (e as { code: string }).code }
      }
      let out: { value?: unknown; error?: string }
      try { out = { value: await program.run(structuredClone(input), {}, 5000, 500) } } catch (e) {
        if (e instanceof Fallback) { tally.handedBack++; continue }
        out = { error: (e as { code?: string }).code ?? String(e) }
      }
      tally.compared++
      if ('error' in ref || 'error' in out) {
        if (ref.error === out.error) tally.sameError++
        else differences.push(`${src} on ${JSON.stringify(input)}: interpreter ${ref.error ?? JSON.stringify(ref.value)}, compiled ${out.error ?? JSON.stringify(out.value)}`)
        continue
      }
      const d = difference(ref.value, out.value, '$')
      if (d) differences.push(`${src} on ${JSON.stringify(input)}: ${d}`)
    }
  }
  t.comment(`expressions: ${EXPRESSIONS}; ${JSON.stringify(tally)}`)
  t.ok(tally.compared > EXPRESSIONS, 'most evaluations ran compiled and were compared')
  t.same(differences.slice(0, 20), [], `${differences.length} differences`)
})
