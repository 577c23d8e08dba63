// The one place an error becomes a client response, written by the rules' error writer
// (write-error.ts): a real HTTP error before the first byte; after it, the error travels down the
// stream (the program's error step, the writer's frame, the program's terminator).
import type { ServerResponse } from 'node:http'
import type { RouteError } from '../errors.js'
import { replyJson } from './reply.js'
import type { ClientStream } from './reply.js'
import type { Redact } from './redact.js'
import type { StreamRun } from './transform-stream.js'
import { writeError, type ErrorOut } from './write-error.js'

/** `redact` masks the ruleset's secrets in the message: it may quote an upstream or a transform's input. */
export async function replyError(res: ServerResponse, err: RouteError, out: ErrorOut, stream?: { client: ClientStream; run: StreamRun }, redact?: Redact): Promise<void> {
  if (res.destroyed) return
  if (redact) err.message = redact(err.message)
  if (!res.headersSent) {
    const r = await writeError(out, err, false)
    if (res.headersSent || res.destroyed) return
    if (r.body === undefined) res.writeHead(r.status, r.headers).end()
    else replyJson(res, r.status, r.body, r.headers)
    return
  }
  if (stream) {
    try {
      const r = await writeError(out, err, true)
      await stream.client.write(await stream.run.onError(err, r.body))
    } catch { /* the client is gone */ }
    stream.client.end()
    return
  }
  // Bytes of a pass-through body already went out: all that is left is to cut the connection.
  res.destroy()
}
