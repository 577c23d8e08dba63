// The one place an error becomes a client response: a real HTTP error before the first byte; after
// it, the error travels down the stream (the program's error step, an error frame, the sentinel).
import type { ServerResponse } from 'node:http'
import type { RouteError } from '../errors.js'
import { replyJson } from './reply.js'
import type { ClientStream } from './reply.js'
import type { Redact } from './redact.js'
import type { StreamRun } from './transform-stream.js'

/** `redact` masks the ruleset's secrets in the message: it may quote an upstream or a transform's input. */
export async function replyError(res: ServerResponse, err: RouteError, stream?: { client: ClientStream; run: StreamRun }, redact?: Redact): Promise<void> {
  if (res.destroyed) return
  if (redact) err.message = redact(err.message)
  if (!res.headersSent) {
    replyJson(res, err.status, err.toBody(), err.headers ?? {})
    return
  }
  if (stream) {
    try {
      await stream.client.write(await stream.run.onError(err))
    } catch { /* the client is gone */ }
    stream.client.end()
    return
  }
  // Bytes of a pass-through body already went out: all that is left is to cut the connection.
  res.destroy()
}
