import t from 'tap'
import { runStream, every } from '../helpers/stream.js'

const program = new URL('../fixtures/programs/counter.yaml', import.meta.url).pathname
const ev = (name: string, data: unknown) => `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`

t.test('dispatch, state, several chunks per event, end, envelope, done — at any chunk boundary', async (t) => {
  const sse = ev('tick', { word: 'a' }) + ev('other', { x: 1 }) + ev('tick', { word: 'é' }) + ev('tick', { big: true }) + 'data: {"type":"tick","word":"c"}\n\n'
  const want = [
    { id: 's-test0000', n: 1 }, { id: 's-test0000', n: 2 }, { id: 's-test0000', big: 2 }, { id: 's-test0000', big2: 2 },
    { id: 's-test0000', n: 13 }, { id: 's-test0000', total: 13, text: 'aéc' }, '[DONE]',
  ]
  t.same((await runStream(program, sse)).frames, want)
  const len = new TextEncoder().encode(sse).length
  for (let i = 1; i < len; i++) t.same((await runStream(program, sse, { split: [i] })).frames, want, `split at ${i}`)
  t.same((await runStream(program, sse, { split: every(1, len) })).frames, want, 'byte at a time')
})

t.test('stop ends reading; end still runs', async (t) => {
  const r = await runStream(program, ev('tick', { word: 'a' }) + ev('halt', {}) + ev('tick', { word: 'b' }))
  t.same(r.frames.slice(-2), [{ id: 's-test0000', total: 1, text: 'a' }, '[DONE]'])
  const d = await runStream(program, 'data: {"type":"tick","word":"a"}\n\ndata: [DONE]\n\ndata: {"type":"tick","word":"b"}\n\n')
  t.same(d.frames.slice(-2), [{ id: 's-test0000', total: 1, text: 'a' }, '[DONE]'], 'raw [DONE] dispatches by its text')
})

t.test('fail before the first frame is an HTTP error; after it, the error step, an error frame and done', async (t) => {
  const early = await runStream(program, ev('boom', { reason: 'overloaded' }))
  t.same(early.httpError, { status: 503, body: { error: { message: 'upstream said overloaded', type: 'upstream_error', param: null, code: 'RE_UPSTREAM_STREAM' } } })
  const late = await runStream(program, ev('tick', { word: 'a' }) + ev('boom', { reason: 'overloaded' }))
  t.same(late.frames, [
    { id: 's-test0000', n: 1 },
    { id: 's-test0000', failed: 'upstream said overloaded' },
    { error: { message: 'upstream said overloaded', type: 'upstream_error', param: null, code: 'RE_UPSTREAM_STREAM' } },
    '[DONE]',
  ])
})

t.test('event lines: the frame names its event (else the envelope); no line break gets into the name; strings are unnamed', async (t) => {
  const named = new URL('../fixtures/programs/named.yaml', import.meta.url).pathname
  const r = await runStream(named, 'data: {"type":"tick","n":1}\n\ndata: {"type":"named","name":"x\\r\\ny"}\n\ndata: [END]\n\ndata: {"type":"tick","n":2}\n\n')
  t.equal(r.text, 'event: chunk\ndata: {"type":"chunk","n":1}\n\nevent: xy\ndata: {"type":"x\\r\\ny"}\n\ndata: raw text\n\n', 'stopped at the [END] sentinel; no terminator')
})
