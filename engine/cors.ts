// CORS: which web origins may read the server's answers. By default, with inbound keys any origin
// may (`*`: a page still needs a key), and without keys none may: a page the user visits must not
// be able to use a loopback gateway that holds upstream keys. `--cors-origin` lists origins.
// Credentials (cookies) are never allowed, so `*` never meets `access-control-allow-credentials`.
import type { IncomingMessage, ServerResponse } from 'node:http'

export interface CorsPolicy {
  /** Any origin (`*`). */
  any: boolean
  /** Allowed origins, normalised (lower-case, no trailing slash). */
  origins: ReadonlySet<string>
}

const METHODS = 'GET, POST, PUT, PATCH, DELETE, OPTIONS'

/** The policy for configured origins (`*` or `scheme://host[:port]`); none configured → the default by keys. */
export function corsPolicy(configured: readonly string[] | undefined, hasKeys: boolean): CorsPolicy {
  const list = configured ?? (hasKeys ? ['*'] : [])
  return { any: list.includes('*'), origins: new Set(list.filter((o) => o !== '*').map(normalOrigin)) }
}

/** A configured origin that is not one: the reason, else null. */
export function badOrigin(o: string): string | null {
  if (o === '*') return null
  return /^[a-z][a-z0-9+.-]*:\/\/[^/?#\s]+\/?$/i.test(o) ? null : `'${o}' is not an origin (scheme://host[:port], or *)`
}

export const normalOrigin = (o: string): string => o.trim().toLowerCase().replace(/\/$/, '')

export function originAllowed(p: CorsPolicy, origin: string): boolean {
  return p.any || p.origins.has(normalOrigin(origin))
}

const ANY = { 'access-control-allow-origin': '*', 'access-control-allow-methods': METHODS, 'access-control-max-age': '86400' }

/** The CORS headers of every answer to this request. */
export function corsHeaders(p: CorsPolicy, origin: string | undefined): Record<string, string> {
  if (p.any) return ANY
  // The answer depends on the Origin: caches must keep one copy per origin.
  if (origin === undefined || !p.origins.has(normalOrigin(origin))) return { vary: 'origin' }
  return { ...ANY, 'access-control-allow-origin': origin, vary: 'origin' }
}

/** Answers a preflight; an origin not allowed gets no allow-origin header, so the browser stops there. */
export function preflight(req: IncomingMessage, res: ServerResponse, p: CorsPolicy): void {
  const origin = req.headers.origin
  const headers: Record<string, string> = { 'access-control-allow-headers': req.headers['access-control-request-headers'] ?? 'authorization, content-type' }
  // Chrome asks before a public page calls a private address; only an origin listed by name is told yes.
  if (origin !== undefined && p.origins.has(normalOrigin(origin)) && req.headers['access-control-request-private-network'] === 'true') {
    headers['access-control-allow-private-network'] = 'true'
  }
  res.writeHead(204, headers).end()
}
