// Bodies no real client sends, through the shipped rules: more tools or messages than the client
// schema takes (a 400 naming the field and the limit, before any transform runs), and thousands of
// leading reasoning blocks in an assistant turn (stripped, not a 500 from the recursion limit).
import t from 'tap'
import { request } from 'undici'
import { normalize, SHIPPED_RULES } from '../helpers/pack.js'
import { startEngine } from '../helpers/server.js'

const tool = (i: number) => ({ type: 'function', function: { name: `tool_${i}`, parameters: { type: 'object' } } })

t.test('more tools, messages or input items than any client sends: a 400 naming the field and the limit', async (t) => {
  const engine = await startEngine(SHIPPED_RULES, { maxBodyBytes: 8 << 20 })
  t.teardown(() => engine.close())
  const post = async (body: unknown) => {
    const r = await request(`${engine.url}/cursor/chat/completions`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } })
    return { status: r.statusCode, body: (await r.body.json()) as any }
  }
  const hi = { role: 'user', content: 'hi' }
  const cases = [
    { field: 'tools', limit: 4096, body: { model: 'claude-sonnet-4-5', messages: [hi], tools: Array.from({ length: 4097 }, (_, i) => tool(i)) } },
    { field: 'messages', limit: 10000, body: { model: 'claude-sonnet-4-5', messages: Array.from({ length: 10_001 }, () => hi) } },
    { field: 'input', limit: 10000, body: { model: 'gpt-5', input: Array.from({ length: 10_001 }, () => hi) } },
  ]
  for (const c of cases) {
    const r = await post(c.body)
    t.equal(r.status, 400, c.field)
    t.equal(r.body.error.code, 'RE_BAD_REQUEST', c.field)
    t.equal(r.body.error.param, c.field)
    t.match(r.body.error.message, new RegExp(`^bad input: /${c.field} must NOT have more than ${c.limit} items`), c.field)
  }
})

t.test('5,000 leading <think> blocks in an assistant turn are stripped, as one is', async (t) => {
  const mixed = '<think>a</think>\n<thinking>b</thinking><details><summary>Thinking</summary>c</details>'
  const body = (content: string) => ({
    model: 'claude-sonnet-4-5',
    messages: [{ role: 'user', content: 'hi' }, { role: 'assistant', content }, { role: 'user', content: 'more' }],
  })
  const one = await normalize(body('<think>x</think>\n\nthe answer'))
  t.equal(one.messages[1].content, 'the answer')
  const many = await normalize(body('<think>x</think>'.repeat(5000) + '\n\nthe answer'))
  t.equal(many.messages[1].content, 'the answer')
  const kinds = await normalize(body(mixed.repeat(3000) + ' the answer <think>kept</think>'))
  t.equal(kinds.messages[1].content, 'the answer <think>kept</think>', 'every kind, mixed; the same tags later in the text stay')
  const unclosed = await normalize(body('<think>x</think>'.repeat(5000) + '<think>cut short'))
  t.notOk(unclosed.messages.some((m: any) => m.role === 'assistant'), 'a block left open runs to the end: nothing is left of the turn')
})
