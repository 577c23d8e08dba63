import t from 'tap'
import { parsePartialJson } from '../../engine/expr/partial-json.js'

t.test('every prefix of a JSON text parses to a prefix of its value', async (t) => {
  const value = { input: '*** Begin Patch\n+const s = "é🎉\\\\";\n*** End Patch', n: [1, 2.5, true, null] }
  const text = JSON.stringify(value).replace('é', '\\u00e9').replace('🎉', '\\ud83c\\udf89')
  let last = ''
  for (let i = 0; i <= text.length; i++) {
    const v = parsePartialJson(text.slice(0, i)) as any
    const input: string = v?.input ?? ''
    t.ok(value.input.startsWith(input), `prefix ${i}: ${JSON.stringify(input)}`)
    t.ok(input.length >= last.length, `prefix ${i} never shrinks`)
    last = input
  }
  t.same(parsePartialJson(text), value)
})

t.test('incomplete literals and keys are held back', async (t) => {
  t.same(parsePartialJson('{"a": tr'), {})
  t.same(parsePartialJson('{"a": 12'), {})
  t.same(parsePartialJson('{"a": 12,'), { a: 12 })
  t.same(parsePartialJson('{"ab'), {})
  t.same(parsePartialJson('{"a": "x\\'), { a: 'x' })
  t.same(parsePartialJson('{"a": "x\\u00'), { a: 'x' })
  t.equal(parsePartialJson(''), undefined)
})
