// Loopback mock upstream for the bench: answers the Anthropic Messages, OpenAI Responses and Chat
// Completions routes with the transcripts of test/fixtures/streams (JSON bodies, or SSE replayed at full
// speed or at a token pace), and /raw with a fixed JSON body (pass-through). The bench sets the replay
// mode with POST /_mode {pace, tokens}; GET /_last answers the last request's body and headers (the
// bench compares what the proxies send). Prints {"url"} on stdout when listening.
import { createServer } from 'node:http'
import { loadTranscripts } from '../lib/transcripts.mjs'

let mode = { pace: 0, tokens: 100 }
let transcripts = loadTranscripts(mode.tokens)
let last = { headers: {}, body: Buffer.alloc(0) }

const server = createServer((req, res) => {
  const chunks = []
  req.on('data', (c) => chunks.push(c))
  req.on('end', () => {
    const url = req.url ?? '/'
    if (url === '/_mode') {
      mode = { ...mode, ...JSON.parse(Buffer.concat(chunks).toString('utf8')) }
      transcripts = loadTranscripts(mode.tokens)
      res.writeHead(204).end()
      return
    }
    if (url === '/_last') return json(res, JSON.stringify({ headers: last.headers, body: last.body.toString('utf8') }))
    last = { headers: req.headers, body: Buffer.concat(chunks) }
    if (url === '/raw') return json(res, transcripts.raw)
    const api = url.endsWith('/messages') ? transcripts.anthropic : url.endsWith('/responses') ? transcripts.responses : url.endsWith('/chat/completions') ? transcripts.chat : null
    if (!api) { res.writeHead(404).end(); return }
    // Only the stream flag matters; a regex keeps the mock's own cost flat whatever the body size.
    const stream = /"stream"\s*:\s*true/.test(last.body.toString('latin1'))
    if (!stream) return json(res, api.body)
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' })
    replay(res, api.events)
  })
})

function json(res, text) {
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
  res.end(text)
}

function replay(res, events) {
  if (!mode.pace) {
    for (const e of events) res.write(e)
    res.end()
    return
  }
  let i = 0
  const next = () => {
    if (res.destroyed) return
    // lifecycle events go out together; each token event waits one pace interval
    while (i < events.length) {
      const e = events[i++]
      res.write(e)
      if (e.includes('delta')) { setTimeout(next, mode.pace); return }
    }
    res.end()
  }
  next()
}

server.keepAliveTimeout = 60_000
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ url: `http://127.0.0.1:${server.address().port}` }) + '\n')
})
