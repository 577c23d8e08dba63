// The library (`library:`): shared definitions bound as $name in every transform. Compiled once and
// called on the caller's runtime, they must give what jsonata's interpreter gives when the transform
// is read inside a block that defines them; limits hold inside them; a failure in one names its
// place; lint checks them; a reload compiles again exactly the transforms whose definitions changed.
import t from 'tap'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import jsonata from 'jsonata'
import { RouteError } from '../../engine/errors.js'
import { difference } from '../../engine/expr/check.js'
import { compileExpr, isExpr, LIBRARY, parseExpr } from '../../engine/expr/compile.js'
import { compileProgram, Unsupported } from '../../engine/expr/program.js'
import { Fallback } from '../../engine/expr/runtime.js'
import { evaluate } from '../../engine/expr/evaluate.js'
import { FUNCTIONS } from '../../engine/expr/functions.js'
import { loadRuleset } from '../../engine/ruleset/compile.js'
import { lintBindings } from '../../engine/ruleset/lint-bindings.js'
import { ProblemList } from '../../engine/ruleset/problems.js'

const LIB = `/* shared */
(
  $chunk := function($delta) { { "choices": [{ "index": 0, "delta": $delta }] } };
  $CLOSE := "</details>";
  $tagged := function($d) { $merge([$chunk($d), { "tag": $CLOSE }]) };
  $fact := function($n) { $n <= 1 ? 1 : $n * $fact($n - 1) };
  $double := function($x) { $x * 2 };
  $apply := function($f, $x) { $f($x) };
  $boom := function($s) { $number($s) };
  $spin := function($n) { $spin($n + 1) + 1 };
  $slow := function() { $reduce([1..9999999], function($a, $x) { $a + $x }) };
  $word := function($s) { $contains($s, /^[a-z]+$/) and $match($s, /[aeiou]/).index = 1 };
)
`

function dir(files: Record<string, string>): string {
  const d = mkdtempSync(join(tmpdir(), 're-library-'))
  for (const [name, text] of Object.entries(files)) writeFileSync(join(d, name), text)
  return d
}

const rules = (reply: string) => `
library: lib.jsonata
rules:
  - name: r
    match: { path: /x }
    reply: { body: '${reply}' }
`

async function shared(lib = LIB) {
  const { ruleset, problems } = await loadRuleset(dir({ 'lib.jsonata': lib, 'rules.yaml': rules('1') }), { limits: { timeoutMs: 500, maxDepth: 200 } })
  if (!ruleset) throw new Error(problems.items.map((p) => p.message).join('\n'))
  return ruleset.library!
}

t.test('compiled definitions give what the interpreter gives, with the definitions written before the transform', async (t) => {
  const lib = await shared()
  const cases: [string, unknown][] = [
    ['$chunk({"content": a})', { a: 'hi' }],
    ['$tagged({"content": a})', { a: 'hi' }],
    ['$CLOSE & "!"', null],
    ['$fact(10)', null],
    ['$map(xs, $double)', { xs: [1, 2, 3] }],
    ['$apply($double, 21)', null],
    ['$apply(function($v) { $v & "!" }, a)', { a: 'x' }],
    ['($chunk := function($d) { "mine" }; $chunk(1))', null],
    ['xs.$chunk($)', { xs: [1, 2] }],
    ['$double', null],
    // the ruleset is frozen after load: a definition's regular expressions still work (regression)
    ['[$word("cat"), $word("Cat"), $word("tea")]', null],
  ]
  for (const [src, input] of cases) {
    const expr = compileExpr(src, undefined, lib)
    if (!isExpr(expr)) throw new Error(`${src}: ${JSON.stringify(expr)}`)
    t.equal(expr.compiled, true, `${src}: compiled`)
    const reference = jsonata(lib.wrap(src, lib.uses(src)).text)
    for (const [name, [fn, sig]] of Object.entries(FUNCTIONS)) reference.registerFunction(name, fn, sig)
    const want = await reference.evaluate(input, {})
    // the program itself: a hand-back to the interpreter throws here instead of hiding in the result
    const program = compileProgram(parseExpr(src), LIBRARY, 500, false, lib.compiled(LIBRARY))
    if (program instanceof Unsupported) throw new Error(program.reason)
    let got: unknown
    try { got = await program.run(input, {}, 5000, 500) } catch (e) { got = e instanceof Fallback ? `handed back: ${e.reason}` : e }
    t.equal(difference(want, got, '$'), null, `${src}: same result, compiled`)
  }
  t.same(lib.uses('$tagged(1)'), ['chunk', 'CLOSE', 'tagged'], 'what a transform uses: transitively, in library order')
  t.same(lib.uses('$chunks(1) & "$double"'), ['double'], 'by name (a mention in a string counts; a longer name does not)')
})

t.test('inside a definition: the caller\'s limits hold, a failure names the definition and its caller', async (t) => {
  const { ruleset } = await loadRuleset(dir({ 'lib.jsonata': LIB, 'rules.yaml': rules('$boom("x")') }), { limits: { timeoutMs: 300, maxDepth: 200 } })
  const lib = ruleset!.library!
  const at = { file: 'rules.yaml', line: 3, col: 1 }
  const run = async (src: string) => {
    const expr = compileExpr(src, { timeoutMs: 300, maxDepth: 200 }, lib)
    if (!isExpr(expr)) throw new Error(src)
    try { await evaluate({ expr, at, library: lib }, null, {}, 'r'); return null } catch (e) { return e as RouteError }
  }
  const boom = await run('$boom("x")')
  t.equal(boom?.code, 'RE_TRANSFORM_FAILED')
  t.match(boom?.message, /^transform in rule 'r' at .*lib\.jsonata:9:\d+ \(\$boom, called from rules\.yaml:3:1\) failed: /)
  const deep = await run('$spin(0)')
  t.equal(deep?.code, 'RE_TRANSFORM_FAILED')
  t.match(deep?.message, /recursion limit/)
  const slow = await run('$slow()')
  t.equal(slow?.code, 'RE_TRANSFORM_TIMEOUT', "the caller's time limit")
})

t.test('lint checks the library: what a definition may read, its shape, names, functions, syntax', async (t) => {
  const load = async (lib: string, reply = '1') => {
    const { problems } = await loadRuleset(dir({ 'lib.jsonata': lib, 'rules.yaml': rules(reply) }))
    return problems.items.map((p) => `${p.code}@${p.line}:${p.col} ${p.message}`)
  }
  t.same(await load('(\n  $fine := function($x) { $x };\n  $bad := function($x) { $vars.a & $x };\n)'),
    ['RE_LIBRARY@3:26 a definition reads $vars: it sees only its arguments, the other definitions and the functions (pass $vars as an argument)'])
  t.same(await load('(\n  $fine := function($x) { field & $x };\n  $root := function() { $$.a };\n  $ctx0 := function() { $ };\n)'), [
    'RE_LIBRARY@2:27 a definition reads the input\'s field "field": pass what it needs as an argument',
    'RE_LIBRARY@3:25 a definition reads $$ (the input): it sees only its arguments, the other definitions and the functions',
    'RE_LIBRARY@4:25 a definition reads $ (the input): pass what it needs as an argument',
  ])
  t.same(await load('(\n  $fine := function($x) { $x.a.($ & "!") };\n  $ok := function($xs) { $xs[$ > 1] };\n)'), [], 'paths and predicates on an argument read the argument')
  t.same(await load('{"fine": 1}'), ['RE_LIBRARY@1:1 a library is a block of definitions: ( $name := …; $other := …; … )'])
  t.same(await load('(\n  $fine := 1;\n  "loose"\n)'), ['RE_LIBRARY@3:9 every statement of a library is a definition ($name := …)'])
  t.same(await load('(\n  $fine := 1;\n  $string := 2;\n  $state := 3\n)'), [
    'RE_LIBRARY@3:3 $string is already a function: a definition needs a name of its own',
    'RE_LIBRARY@4:3 $state is already a binding: a definition needs a name of its own',
  ])
  t.match((await load('(\n  $fine := 1;\n  $fine := 4\n)'))[0], /^RE_DUPLICATE@3:3 definition \$fine is already defined in .*lib\.jsonata:2$/)
  t.same(await load('(\n  $fine := function($x) { $nope($x) };\n)'), ['RE_UNKNOWN_FUNCTION@2:27 unknown function $nope'])
  t.match((await load('(\n  $fine := function($x) { $x + };\n)'))[0], /^RE_JSONATA@2:\d+ S0211/)

  const { ruleset } = await loadRuleset(dir({ 'lib.jsonata': LIB, 'rules.yaml': rules('$chunk($CLOSE) ~> $apply($double)') }))
  const problems = new ProblemList()
  lintBindings(ruleset!, problems)
  t.same(problems.items, [], 'definitions are neither unknown functions nor unknown bindings in a transform')
})

t.test('a reload compiles again the transforms whose definitions changed, and only those', async (t) => {
  const d = dir({
    'lib.jsonata': '(\n  $a := function($x) { $x + 1 };\n  $b := function($x) { $x * 10 };\n)',
    'rules.yaml': `
library: lib.jsonata
rules:
  - { name: uses-a, match: { path: /a }, reply: { body: '$a(1)' } }
  - { name: uses-b, match: { path: /b }, reply: { body: '$b(1)' } }
  - { name: plain, match: { path: /p }, reply: { body: '"plain"' } }
`,
  })
  const first = (await loadRuleset(d)).ruleset!
  writeFileSync(join(d, 'lib.jsonata'), '(\n  $a := function($x) { $x + 2 };\n  $b := function($x) { $x * 10 };\n)')
  const second = (await loadRuleset(d)).ruleset!
  const body = (r: typeof first, name: string) => r.rules.find((x) => x.name === name)!.reply!.body!
  t.not(body(second, 'uses-a').expr, body(first, 'uses-a').expr, 'a caller of the changed definition: compiled again')
  t.equal(await body(second, 'uses-a').expr.evaluate(null, {}), 3)
  t.equal(body(second, 'uses-b').expr, body(first, 'uses-b').expr, 'a caller of an unchanged one: reused')
  t.equal(body(second, 'plain').expr, body(first, 'plain').expr, 'a transform that uses none: reused')
})
