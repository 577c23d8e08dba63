// The baseline: the thinnest correct Node pass-through proxy (undici.request + a write loop that honours
// backpressure, hop-by-hop headers stripped: engineering-notes §4). Forwards every request to
// UPSTREAM + the same path. Prints {"url"} on stdout when listening.
import { once } from 'node:events'
import { createServer } from 'node:http'
import { Agent, request } from 'undici'

const upstream = process.env.UPSTREAM
const agent = new Agent({ keepAliveTimeout: 10_000, connections: 256 })
const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'host', 'content-length'])
const endToEnd = (h) => {
  const out = {}
  for (const [k, v] of Object.entries(h)) if (v !== undefined && !HOP.has(k)) out[k] = v
  return out
}

const server = createServer(async (req, res) => {
  const ac = new AbortController()
  res.on('close', () => { if (!res.writableFinished) ac.abort(new Error('client disconnected')) })
  try {
    const chunks = []
    for await (const c of req) chunks.push(c)
    const up = await request(upstream + req.url, {
      method: req.method, body: Buffer.concat(chunks), dispatcher: agent, signal: ac.signal,
      headers: { ...endToEnd(req.headers), 'accept-encoding': 'identity' },
    })
    res.writeHead(up.statusCode, endToEnd(up.headers))
    res.flushHeaders()
    for await (const chunk of up.body) {
      if (!res.write(chunk)) await once(res, 'drain', { signal: ac.signal })
    }
    res.end()
  } catch {
    if (!res.headersSent) res.writeHead(502).end()
    else res.destroy()
  }
})

server.keepAliveTimeout = 60_000
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ url: `http://127.0.0.1:${server.address().port}` }) + '\n')
})
