// A server without inbound keys answers anyone who can reach it, and a web page the user visits can
// reach a loopback server: a form or fetch() POST with `content-type: text/plain` needs no CORS
// preflight, and DNS rebinding makes a page's own host name point at 127.0.0.1. So, without keys:
//   - on a loopback address, only loopback Host names are served (a rebound name is refused);
//   - a request from a web origin not allowed by the CORS policy is refused: browsers send `Origin`
//     with every request whose method is not GET or HEAD, and with every cross-origin fetch;
//   - a body is read only as JSON (`application/json`, `application/*+json`).
// A request without a content type is served: a page can send one (fetch with an untyped Blob),
// but then the browser sends Origin, and the origin check above has refused it; the clients that
// send none (scripts, some HTTP libraries) are not pages. Likewise a request without a Host header
// (HTTP/1.0): browsers always send one.
import type { IncomingMessage } from 'node:http'
import { isIPv4 } from 'node:net'
import { originAllowed, type CorsPolicy } from './cors.js'
import { RouteError } from './errors.js'

/** The checks for a server without inbound keys; null when there are keys. */
export function keylessGuard(opts: { keys: readonly unknown[]; host: string; cors: CorsPolicy }): ((req: IncomingMessage) => RouteError | null) | null {
  if (opts.keys.length) return null
  const checkHost = isLoopbackName(opts.host)
  return (req) => {
    const host = req.headers.host
    if (checkHost && host !== undefined && !isLoopbackName(hostName(host))) {
      return new RouteError('RE_FORBIDDEN_HOST', `forbidden: this server has no inbound keys and answers only to a loopback host name (localhost, 127.x.x.x, [::1]), not '${host}' (set ROUTE_ENGINE_KEYS to serve other names)`)
    }
    const origin = req.headers.origin
    if (origin !== undefined && !originAllowed(opts.cors, origin)) {
      return new RouteError('RE_FORBIDDEN_ORIGIN', `forbidden: this server has no inbound keys and does not serve web pages of origin '${origin}' (allow it with --cors-origin / ROUTE_ENGINE_CORS_ORIGINS, or set ROUTE_ENGINE_KEYS)`)
    }
    const type = req.headers['content-type']
    if (type && !isJson(type) && req.method !== 'GET' && req.method !== 'HEAD') {
      return new RouteError('RE_UNSUPPORTED_MEDIA_TYPE', `bad input: the request body's content-type '${type}' is not JSON: send 'content-type: application/json'`)
    }
    return null
  }
}

/** `application/json` or `application/<anything>+json`, with or without parameters. */
export function isJson(contentType: string): boolean {
  const t = contentType.split(';', 1)[0]!.trim().toLowerCase()
  return t === 'application/json' || /^application\/[\w.!#$&^-]+\+json$/.test(t)
}

/** A Host header's name: without its port and IPv6 brackets. */
function hostName(host: string): string {
  const h = host.trim().toLowerCase()
  if (h.startsWith('[')) return h.slice(1, h.indexOf(']') === -1 ? undefined : h.indexOf(']'))
  const colon = h.indexOf(':')
  return colon === -1 ? h : h.slice(0, colon)
}

/** localhost, 127.x.x.x, ::1. */
export function isLoopbackName(name: string): boolean {
  const n = name.toLowerCase()
  return n === 'localhost' || n === '::1' || (isIPv4(n) && n.startsWith('127.'))
}
