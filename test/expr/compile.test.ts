// The JSONata compiler against jsonata's interpreter, case by case: each expression runs in both and
// the results must be identical (value, key order, the sequence flags jsonata leaves on arrays).
// Cases that the compiler hands back to the interpreter say so; every other case must run compiled.
import t from 'tap'
import jsonata from 'jsonata'
import { compileExpr, isExpr, LIBRARY } from '../../engine/expr/compile.js'
import { difference } from '../../engine/expr/check.js'
import { FUNCTIONS } from '../../engine/expr/functions.js'
import { compileProgram, Unsupported, type Program } from '../../engine/expr/program.js'
import { Fallback } from '../../engine/expr/runtime.js'

type Case = [src: string, input?: unknown, bindings?: Record<string, unknown>]

function engines(src: string): { reference: jsonata.Expression; program: Program } {
  const reference = jsonata(src)
  for (const [name, [fn, sig]] of Object.entries(FUNCTIONS)) reference.registerFunction(name, fn, sig)
  const program = compileProgram(reference.ast(), LIBRARY, 500)
  if (program instanceof Unsupported) throw new Error(`${src}: not compiled (${program.reason})`)
  return { reference, program }
}

/** Both engines on one case: {value} or {error: code} from each, and whether the compiled code handed back. */
async function both(src: string, input: unknown, bindings: Record<string, unknown> = {}) {
  const { reference, program } = engines(src)
  let ref: { value?: unknown; error?: string }
  try { ref = { value: await reference.evaluate(input, bindings) } } catch (e) { ref = { error: (e as { code?: string }).code ?? String(e) } }
  let out: { value?: unknown; error?: string; handedBack?: string }
  try { out = { value: await program.run(input, bindings, 5000, 500) } } catch (e) {
    out = e instanceof Fallback ? { handedBack: e.reason } : { error: (e as { code?: string }).code ?? String(e) }
  }
  return { ref, out }
}

function same(t: { notOk(v: unknown, m: string): void; equal(a: unknown, b: unknown, m: string): void }, src: string, input: unknown, bindings?: Record<string, unknown>) {
  return both(src, input, bindings).then(({ ref, out }) => {
    t.notOk(out.handedBack, `${src}: runs compiled${out.handedBack ? ` (handed back: ${out.handedBack})` : ''}`)
    if ('error' in ref) t.equal(out.error, ref.error, `${src}: same error`)
    else t.equal(difference(ref.value, out.value, '$'), null, `${src}: same result`)
  })
}

const groups: Record<string, Case[]> = {
  'paths and sequences': [
    ['a.b', { a: { b: 1 } }], ['a.b', { a: [{ b: 1 }, { b: 2 }] }], ['a.b', { a: [{ b: [1, 2] }, { b: 3 }] }],
    ['a.b.c', { a: [{ b: { c: [1, 2] } }, { b: { c: 3 } }] }], ['a.b', { a: { b: [1] } }], ['a.b', { a: { b: [] } }],
    ['$.a', { a: { b: [] } }], ['a.(b)', { a: [{ b: 1 }, { b: 2 }] }], ['(a.b)[0]', { a: [{ b: [5, 6] }, { b: 7 }] }],
    ['a.b[]', { a: { b: 1 } }], ['a[].b', { a: { b: 1 } }], ['x', [{ x: 1 }, { x: 2 }]], ['$', [1, 2]], ['$$', [1, 2]], ['$[0]', [1, 2]],
    ['$$.a', { a: 5 }], ['a.$', { a: [1, 2] }], ['a.b.c', { a: 'str' }], ['a.b', { a: null }], ['[1, [2, 3]].$', null],
    ['$x.a', {}, { x: [{ a: 1 }, { a: [2, 3] }] }], ['$x.a.b', {}, { x: { a: [{ b: 1 }, { b: 2 }] } }],
    ['($s := a.b; $s)', { a: [{ b: 1 }, { b: 2 }] }], ['[a.b]', { a: { b: [1] } }],
  ],
  predicates: [
    ['a[0]', { a: [1, 2] }], ['a[-1]', { a: [1, 2] }], ['a[5]', { a: [1, 2] }], ['a[b > 1]', { a: [{ b: 1 }, { b: 2 }] }],
    ['a[b > 1].b', { a: [{ b: 1 }, { b: 2 }, { b: 3 }] }], ['a[0].b', { a: [{ b: 1 }, { b: 2 }] }], ['a[[0, 2]]', { a: [1, 2, 3] }],
    ['a[$ > 1][0]', { a: [1, 2, 3] }], ['a[type = "x"]', { a: [{ type: 'x' }, { type: 'y' }, { type: 'x' }] }], ['a[[]]', { a: [1] }],
    ['a[b][0]', { a: [{ b: [] }, { b: [0] }, { b: 'x' }] }], ['a[0][0]', { a: [[1, 2], [3]] }], ['$x[1]', {}, { x: [1, 2, 3] }],
    // a predicate on a node that is not a path: its result is a sequence to unwrap like any other
    ['[1, 2][0]', null], ['{"a": [1, 2][1]}', null], ['$string([5][0])', null], ['[[1, 2][0]]', null], ['{"a": 1}[0].a', null],
    ['("a" & "b")[0]', null], ['[1, 2, 3][$ > 1]', null], ['[1, 2, 3][$ > 5]', null], ['$type([{"a": 1}][0])', null],
  ],
  'index bindings (tuples)': [
    ['a#$i.{"i": $i, "v": $}', { a: ['x', 'y'] }], ['a#$i[$i > 0]', { a: ['x', 'y', 'z'] }], ['$x#$i.($i)', {}, { x: [5, 6] }],
    ['a#$i.b#$j.[$i, $j]', { a: [{ b: [1, 2] }, { b: 3 }] }], ['a[$ != "y"]#$i.($i)', { a: ['x', 'y', 'z'] }],
    ['$x#$i[$i = 1 or $ = "c"]', {}, { x: ['a', 'b', 'c'] }],
  ],
  constructors: [
    ['{"x": a, "y": b}', { a: 1 }], ['a.{"x": b}', { a: [{ b: 1 }, { b: 2 }] }], ['{"a": 1, "b": undefined}', {}],
    ['{a: b}', { a: 'k', b: 2 }], ['{"k": [1]}.k', {}], ['[a]', { a: 1 }], ['[a]', { a: [1, 2] }], ['[[1, 2], [3]]', {}],
    ['[[1, 2], [3]][0]', {}], ['[]', {}], ['[a, b]', {}], ['{"__proto__": 1}', {}], ['{"1": "a", "b": 2, "0": 3}', {}],
    ['$distinct(["a", "b"]){$: $uppercase($)}', {}], ['items{type: $count($)}', { items: [{ type: 'a' }, { type: 'b' }, { type: 'a' }] }],
    ['[1..5]', {}], ['[5..1]', {}], ['[1..3].($ * 2)', {}],
  ],
  'operators and truthiness': [
    ['a ? "y" : "n"', { a: [] }], ['a ? "y" : "n"', { a: [0, ''] }], ['a ? "y" : "n"', { a: {} }], ['a ? "y"', { a: '' }],
    ['a ?: "d"', {}], ['a ?: "d"', { a: 0 }], ['a ?? "d"', { a: null }], ['a ?? "d"', {}], ['a and b', { a: 1 }], ['a or b', { b: 'x' }],
    ['"x" & 1.5 & true & null & {"a": 0.1}', {}], ['1 + 2.5 * 2 - 4 / 2 % 3', {}], ['a + 1', {}], ['a = b', { a: { x: [1] }, b: { x: [1] } }],
    ['a != "x"', {}], ['a = "x"', { a: ['x'] }], ['a in ["x", "y"]', { a: 'y' }], ['a in b', { a: 1, b: [1, 2] }], ['"a" < "b"', {}],
    ['-a', { a: 2 }], ['$not(a)', { a: 0 }], ['$boolean([0, 1])', {}], ['0.1 + 0.2', {}],
  ],
  'blocks, scope and lambdas': [
    ['($x := 1; $y := $x + 1; [$x, $y])', {}], ['($x := 1; ($x := 2); $x)', {}], ['($x := 1; ($y := $x; $x := 2; [$y, $x]))', {}],
    ['($f := function($x){ $x > 1 ? $f($x - 1) : $x }; $f(5))', {}], ['(function($x){$map($x, function($y){$y})})([[1]])', {}],
    ['($g := function($x){ $x.a }; $map([{"a":[1]},{"a":2}], $g))', {}], ['($n := 0; $f := function(){ $n }; $n := 5; $f())', {}],
    ['($a := function($x, $y){ $y }; $a(1))', {}], ['($f := function($v, $i, $arr){ [$i, $count($arr)] }; $map([5, 6], $f))', {}],
    ['($compose := function($f, $g){ function($x){ $g($f($x)) } }; $compose(function($s){$uppercase($s)}, function($s){$lowercase($s & "X")})("aB"))', {}],
    ['($t := function($x){ $lookup($x, "k") }; $map([[{"k": 1}]], $t))', {}],
    ['$split := function($s) { $s }', {}], ['($split := function($s) { $s & "!" }; $split("a"))', {}],
    ['a.($x := b; $x * 2)', { a: [{ b: 1 }, { b: 2 }] }], ['$map([1, 2], function($v) { $v = 1 ? [$v] : $v })', {}],
  ],
  'library functions': [
    ['$count(a)', { a: [1, 2] }], ['$count(a)', {}], ['$count(a)', { a: 'x' }], ['$merge([{"a":1},{"b":2}])', {}], ['$merge([])', {}],
    ['$string(1.1+2.2)', {}], ['$string({"a": 1.123456789012345678})', {}], ['$join(["a","b"], ",")', {}], ['$join([])', {}], ['$join("a")', {}],
    ['$exists(a.b.c)', { a: { b: { c: null } } }], ['$type($)', [1, 2]], ['$type(a)', {}], ['$lookup({"a":1}, "a")', {}],
    ['$lookup([{"a":1},{"a":[2,3]}], "a")', {}], ['$keys({"b":1,"a":2,"1":3})', {}], ['$keys([{"a":1},{"b":2,"a":3}])', {}],
    ['$reduce([1,2,3], function($a,$b){$a+$b})', {}], ['$reduce([1,2,3], function($a,$b){$a+$b}, 10)', {}],
    ['$each({"a":1,"b":2}, function($v,$k){$k&$v})', {}], ['$sift({"a":1,"b":null}, function($v){$v})', {}], ['$sift({}, function($v){$v})', {}],
    ['$filter([1,2,3], function($v){$v>1})', {}], ['$filter([1,2,3], function($v, $i){$i = 0})', {}], ['$single([1,2,3], function($v){$v=2})', {}],
    ['$contains("abc", /b/)', {}], ['$contains("abc", "z")', {}], ['$replace("a  b", /\\s+/, "-")', {}], ['$replace("abc", /(b)/, "[$1$0$$]")', {}],
    ['$replace("aaa", "a", "b", 2)', {}], ['$match("ab12cd34", /(\\d)(\\d)/)', {}], ['$match("ab", /x/)', {}], ['$split("a,b,,c", ",")', {}],
    ['$split("a1b22c", /\\d+/)', {}], ['$substring("héllo😀x", 1, 5)', {}], ['$substring("hello", -3)', {}], ['$length("😀ab")', {}],
    ['$substringBefore("a.b.c", ".")', {}], ['$substringAfter("a.b.c", ".")', {}], ['$lowercase("AbC")', {}], ['$trim("  a  b ")', {}],
    ['$zip([1,2],[3,4,5])', {}], ['$distinct([1,2,1,{"a":1},{"a":1}])', {}], ['$reverse([1,2,3])', {}], ['$reverse([1])', {}],
    ['$append([1],[2,3])', {}], ['$append(1,2)', {}], ['$append(a, 1)', {}], ['$sum([1,2.5])', {}], ['$max([])', {}], ['$min([3, 1])', {}],
    ['$number("12.5")', {}], ['$number("0x1A")', {}], ['$floor(2.7) + $ceil(2.1)', {}], ['$round(2.5)', {}], ['$round(3.14159, 2)', {}],
    ['$abs(-2)', {}], ['$spread({"a": 1, "b": 2})', {}], ['$average([1, 2])', {}], ['$uppercase("a")', {}],
    ['$groupRuns([1,1,2], [1,1,2])', {}], ['$indexBy([{"id":"a"},{"id":"b"}], "id")', {}], ['$compact({"a":null,"b":1})', {}],
    ['$omit({"a": 1, "b": 2}, ["a"])', {}], ['$pick({"a": 1, "b": 2}, "b")', {}], ['$toJson({"a": [1]})', {}], ['$parseJson("[1,")', {}],
    ['$partialJson("{\\"a\\": [1, \\"x")', {}], ['$deepMerge({"a": {"b": 1}}, {"a": {"c": 2}})', {}], ['$array(a)', {}],
    ['a.b.c ~> $string()', { a: { b: { c: 5 } } }], ['"x" ~> function($s) { $s & "!" }', {}], ['($r := /a(b)?/; $r("xab"))', {}], ['$type(/a/)', {}],
    ['$estimateTokens("abcdefgh")', {}], ['$globMatch("gemini-3-pro", "gemini-3*")', {}],
  ],
  bindings: [
    ['$state.n + 1', {}, { state: { n: 1 } }], ['$request.model', {}, { request: { model: 'm' } }], ['$vars.x ? "on"', {}, { vars: { x: true } }],
    ['$error.message', {}, { error: { message: 'boom' } }], ['$exists($nothing)', {}],
  ],
}

for (const [name, cases] of Object.entries(groups)) {
  t.test(name, async (t) => {
    for (const [src, input, bindings] of cases) await same(t, src, input ?? {}, bindings)
  })
}

t.test('calls that can await ($recall, $remember) run as async code with the same results', async (t) => {
  const store = new Map<string, unknown>([['k1', { v: 1 }], ['k2', [1, 2]]])
  const bindings = () => ({
    recall: async (k: string) => store.get(k),
    remember: async (k: string, v: unknown) => { store.set(k, v); return v },
  })
  for (const src of [
    '$recall("k1")', '$recall("k2")[1]', '["k1", "k2", "k3"].$recall($)', '$map(["k1", "k2"], function($k) { $recall($k) })',
    '($f := function($k) { {"got": $recall($k)} }; [$f("k1"), $f("k3")])', '($x := $remember("k4", {"a": [1]}); $recall("k4").a)',
    '{"a": $recall("k1").v, "b": [1, 2].($ + $recall("k1").v)}', '$count($filter(["k1", "k3"], function($k) { $recall($k) }))',
  ]) await same(t, src, {}, bindings())
})

t.test('a failing evaluation gives the interpreter\'s own error', async (t) => {
  for (const [src, code] of [['"a" + 1', 'T2001'], ['1 < "a"', 'T2009'], ['$number("x")', 'D3030'], ['{"a": 1, "a": 2}', 'D1009'], ['$error("no")', 'D3137'], ['$x()', 'T1006']] as const) {
    const e = compileExpr(src)
    if (!isExpr(e)) throw new Error('syntax')
    const reference = jsonata(src)
    const want = await reference.evaluate({}).then(() => null, (err) => err)
    const got = await e.evaluate({}, {}).then(() => null, (err) => err)
    t.equal(got?.code, code, `${src}: ${code}`)
    t.equal(got?.message, want?.message, `${src}: the interpreter's message`)
    t.equal(got?.position, want?.position, `${src}: the interpreter's position`)
  }
})

t.test('the limits hold: deep recursion and a runaway loop stop with D1011 and D1012', async (t) => {
  const deep = compileExpr('($f := function($n) { $n = 0 ? 0 : 1 + $f($n - 1) }; $f(100000))')
  if (!isExpr(deep)) throw new Error('syntax')
  t.equal(deep.compiled, true)
  await t.rejects(deep.evaluate({}, {}), { code: 'D1011' })
  const slow = compileExpr('($f := function($n) { $n > 0 ? $f($n - 1) + $f($n - 1) : 0 }; $f(40))', { timeoutMs: 50, maxDepth: 500 })
  if (!isExpr(slow)) throw new Error('syntax')
  await t.rejects(slow.evaluate({}, {}), { code: 'D1012' })
})

t.test('$distinct, linear in the compiled code, keeps what the interpreter keeps: scalars, NaN, objects in any key order, arrays, sequences', async (t) => {
  const input = {
    xs: ['a', 'b', 'a', 1, '1', 1, true, 'true', null, null, 0, -0, false],
    objs: [{ a: 1, b: [1, 2] }, { b: [1, 2], a: 1 }, { a: 1, b: [2, 1] }, { a: '1' }, { a: 1 }, { a: 1 }, [1, 2], [1, 2], [2, 1], {}, {}, [], []],
    deep: [{ x: { y: [1, { z: 2 }] } }, { x: { y: [1, { z: 2 }] } }, { x: { y: [1, { z: 3 }] } }],
    items: [{ k: 'a' }, { k: 'b' }, { k: 'a' }],
  }
  for (const src of ['$distinct(xs)', '$distinct(objs)', '$distinct(deep)', '$distinct(items.k)', '$distinct([1, 0/0, 0/0, 1])', '$distinct(items)', '$distinct([])', '$distinct("a")']) {
    await same(t, src, input)
  }
})

t.test('the time limit holds inside a loop of library calls on large arrays, fewer than the 1024 iterations between its checks', async (t) => {
  // each of 400 iterations copies and scans a 200,000-item array; all of them take seconds
  const e = compileExpr('$count($map([1..400], function($i) { $count($distinct($append($big, $i))) }))', { timeoutMs: 100, maxDepth: 500 })
  if (!isExpr(e)) throw new Error('syntax')
  t.equal(e.compiled, true)
  await t.rejects(e.evaluate({}, { big: Array.from({ length: 200_000 }, (_, i) => i) }), { code: 'D1012' })
})

t.test('synchronous evaluation: run() answers without a Promise unless something awaited', async (t) => {
  const e = compileExpr('{"n": $count(a)}')
  if (!isExpr(e)) throw new Error('syntax')
  t.same(e.run({ a: [1, 2] }, {}), { n: 2 })
  const a = compileExpr('$recall("k")')
  if (!isExpr(a)) throw new Error('syntax')
  const r = a.run({}, { recall: async () => 7 })
  t.ok(r instanceof Promise)
  t.equal(await r, 7)
})

t.test('what the compiler leaves to the interpreter is still evaluated, by the interpreter', async (t) => {
  for (const [src, input] of [
    ['$sort([3, 1, 2])', {}],
    ['[{"a": 1}, {"a": 2}].{"a": a}', {}],
    ['$.{"k": $}', [1, 2]],
    ['"x" ~> $uppercase', {}],
    ['$map(["a"], $uppercase)', {}],
  ] as const) {
    const e = compileExpr(src)
    if (!isExpr(e)) throw new Error('syntax')
    const reference = jsonata(src)
    t.equal(difference(await reference.evaluate(input), await e.evaluate(input, {}), '$'), null, src)
  }
  const sorted = compileExpr('$sort([3, 1, 2])')
  t.match(isExpr(sorted) && sorted.compiled, /\$sort/, 'the reason names what is not compiled')
})

t.test('difference() sees values, key order, flags and functions', async (t) => {
  const s = Object.assign([1], { sequence: true })
  t.equal(difference({ a: 1, b: 2 }, { a: 1, b: 2 }, '$'), null)
  t.match(difference({ a: 1, b: 2 }, { b: 2, a: 1 }, '$'), /keys/)
  t.match(difference(s, [1], '$'), /flag sequence/)
  t.match(difference([1, 2], [1, 3], '$'), /\$\[1\]/)
  t.equal(difference(() => 1, { _jsonata_lambda: true }, '$'), null)
})
