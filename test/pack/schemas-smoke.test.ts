import t from 'tap'
import { readFileSync } from 'node:fs'
import { schema, explain } from '../helpers/schemas.js'

t.test('fixture requests validate against the official schemas', async (t) => {
  const cases: [string, 'openai' | 'anthropic' | 'gemini', string][] = [
    ['responses/text.request.json', 'openai', 'CreateResponse'],
    ['anthropic-messages/text.request.json', 'anthropic', 'CreateMessageParams'],
    ['gemini/text.request.json', 'gemini', 'GenerateContentRequest'],
    ['chat-completions/text.request.json', 'openai', 'CreateChatCompletionRequest'],
  ]
  for (const [file, api, name] of cases) {
    const v = schema(api, name)
    const body = JSON.parse(readFileSync(new URL(`../fixtures/streams/${file}`, import.meta.url), 'utf8'))
    t.ok(v(body), `${file}: ${explain(v)}`)
  }
})
