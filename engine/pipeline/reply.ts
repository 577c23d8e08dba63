// Writing to the client: JSON replies, and a stream writer that sends headers with the first
// frame (so a failure before it can still be a real HTTP error), honours backpressure, and sends
// keep-alive comments while the upstream is silent.
import { once } from 'node:events'
import type { ServerResponse } from 'node:http'
import { encodeComment } from '../sse/encode.js'

export function replyJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body)
  res.writeHead(status, { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
  res.end(text)
}

export class ClientStream {
  #keepalive: NodeJS.Timeout | null = null
  #lastWrite = Date.now()
  frames = 0
  /** performance.now() when the first frame was written (time to first token). */
  firstFrameAt: number | null = null

  constructor(readonly res: ServerResponse, readonly signal: AbortSignal, keepaliveMs: number | null) {
    if (keepaliveMs) {
      this.#keepalive = setInterval(() => {
        if (Date.now() - this.#lastWrite >= keepaliveMs) void this.write(encodeComment('keep-alive'), false)
      }, Math.max(50, Math.floor(keepaliveMs / 4)))
      this.#keepalive.unref()
    }
  }

  get started(): boolean {
    return this.res.headersSent
  }

  async write(text: string, frame = true): Promise<void> {
    if (!text || this.res.destroyed) return
    // The headers go out with the first frame, in one write.
    if (!this.res.headersSent) this.res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' })
    this.#lastWrite = Date.now()
    if (frame) {
      if (this.frames === 0) this.firstFrameAt = performance.now()
      // Encoded frames never hold a blank line: each ends with one.
      for (let i = text.indexOf('\n\n'); i !== -1; i = text.indexOf('\n\n', i + 2)) this.frames++
    }
    if (!this.res.write(text)) await once(this.res, 'drain', { signal: this.signal })
  }

  end(): void {
    this.stop()
    if (!this.res.destroyed && !this.res.writableEnded) this.res.end()
  }

  stop(): void {
    if (this.#keepalive) clearInterval(this.#keepalive)
    this.#keepalive = null
  }
}
