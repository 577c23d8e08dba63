// Reads the client's body within the size limit and the server's body budget, and parses it as JSON
// within the depth limit.
import type { IncomingMessage } from 'node:http'
import { promisify } from 'node:util'
import { brotliDecompress, gunzip, inflate } from 'node:zlib'
import { RouteError } from '../errors.js'
import type { BodyHold } from './body-budget.js'
import { ByteBuffer } from './byte-buffer.js'

export interface ReceiveLimits {
  maxBodyBytes: number
  maxDepth: number
}

/**
 * The parsed body; undefined when the request has none. `hold` counts the body's bytes against the
 * server's budget for bodies held at once (the caller releases them when the request has ended).
 */
export async function receive(req: IncomingMessage, limits: ReceiveLimits, hold?: BodyHold): Promise<unknown> {
  const declared = Number(req.headers['content-length'] ?? NaN)
  if (declared > limits.maxBodyBytes) throw tooLarge(limits)
  const raw = await readBody(req, limits, hold, Number.isInteger(declared) ? declared : 0)
  if (raw.length === 0) return undefined
  const text = (await decoded(raw, req.headers['content-encoding'], limits, hold)).toString('utf8')
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch (err) {
    throw new RouteError('RE_BAD_JSON', `bad input: the request body is not valid JSON (${(err as Error).message})`)
  }
  const depth = depthOver(body, limits.maxDepth)
  if (depth) throw new RouteError('RE_TOO_DEEP', `bad input: the request body nests deeper than ${limits.maxDepth} levels (at ${depth})`)
  return body
}

/**
 * The body's bytes, read from the stream's events (an async iterator per request costs more) into one
 * buffer. A body refused part-way (too large, over the budget) is still read, and dropped, so that the
 * client gets the answer rather than a reset; the answer closes the connection.
 */
function readBody(req: IncomingMessage, limits: ReceiveLimits, hold: BodyHold | undefined, declared: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const buf = new ByteBuffer(limits.maxBodyBytes, declared)
    const done = () => {
      req.off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose)
    }
    const refuse = (err: unknown) => {
      done()
      req.on('data', drop).on('error', drop)
      reject(err)
    }
    const onData = (chunk: Buffer) => {
      const grow = buf.growth(chunk.length)
      if (grow === null) return refuse(tooLarge(limits))
      if (grow > 0) try { hold?.take(grow) } catch (err) { return refuse(err) }
      buf.push(chunk)
    }
    const onEnd = () => { done(); resolve(buf.bytes()) }
    const onError = (err: Error) => { done(); reject(err) }
    // a body cut short without an error event still ends the wait
    const onClose = () => onError(new RouteError('RE_BAD_REQUEST', 'client disconnected before the body was complete'))
    req.on('data', onData).on('end', onEnd).on('error', onError).on('close', onClose)
  })
}

const drop = (): void => {}

const DECODERS: Record<string, (buf: Buffer, opts: { maxOutputLength: number }) => Promise<Buffer>> = {
  gzip: promisify(gunzip), 'x-gzip': promisify(gunzip), deflate: promisify(inflate), br: promisify(brotliDecompress),
}

/** A compressed body, decompressed off the main thread; the size limit holds for what it expands to. */
async function decoded(body: Buffer, encoding: string | undefined, limits: ReceiveLimits, hold: BodyHold | undefined): Promise<Buffer> {
  const name = (encoding ?? 'identity').trim().toLowerCase()
  if (name === 'identity' || name === '') return body
  const decode = DECODERS[name]
  if (!decode) throw new RouteError('RE_BAD_REQUEST', `bad input: the request body's content-encoding '${name}' is not supported (gzip, deflate, br or none)`, { status: 415 })
  let out: Buffer
  try {
    out = await decode(body, { maxOutputLength: limits.maxBodyBytes })
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge(limits)
    throw new RouteError('RE_BAD_REQUEST', `bad input: the request body is not valid ${name} data (${(err as Error).message})`)
  }
  hold?.take(out.length)
  return out
}

/** The rest of the body is not read: the answer closes the connection. */
function tooLarge(limits: ReceiveLimits): RouteError {
  return new RouteError('RE_BODY_TOO_LARGE', `bad input: the request body is larger than the limit of ${limits.maxBodyBytes} bytes`, { headers: { connection: 'close' } })
}

/**
 * The JSON path where nesting first exceeds `max`, or null; iterative so depth cannot overflow the stack.
 * The walk builds no path (it runs on every request); only a body over the limit is walked again for it.
 */
function depthOver(root: unknown, max: number): string | null {
  const values: unknown[] = [root]
  const depths: number[] = [0]
  while (values.length) {
    const v = values.pop()
    const d = depths.pop()!
    if (d >= max) return pathOver(root, max)
    if (Array.isArray(v)) {
      for (const x of v) if (x !== null && typeof x === 'object') { values.push(x); depths.push(d + 1) }
    } else {
      for (const k in v as object) {
        const x = (v as Record<string, unknown>)[k]
        if (x !== null && typeof x === 'object') { values.push(x); depths.push(d + 1) }
      }
    }
  }
  return null
}

function pathOver(root: unknown, max: number): string | null {
  const stack: [unknown, number, string][] = [[root, 0, '']]
  while (stack.length) {
    const [v, d, path] = stack.pop()!
    if (v === null || typeof v !== 'object') continue
    if (d >= max) return path || '/'
    if (Array.isArray(v)) v.forEach((x, i) => stack.push([x, d + 1, `${path}/${i}`]))
    else for (const [k, x] of Object.entries(v)) stack.push([x, d + 1, `${path}/${k}`])
  }
  return null
}
