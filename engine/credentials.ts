// Which request headers carry credentials: HTTP's own, the headers that carry the inbound key, and
// every header an upstream takes its value for from the environment (its key: the header a client
// would put that upstream's key in; a constant such as a version header is not one). They are hidden
// from $ctx.headers, masked in explain and replaced in captures. One set per Ruleset.
import type { IncomingHttpHeaders } from 'node:http'
import type { Ruleset } from './ruleset/ruleset.js'

/** The inbound key: `Authorization: Bearer <key>`, or the key alone in `x-api-key`. */
export const INBOUND_KEY_HEADERS = ['authorization', 'x-api-key'] as const

const HTTP_CREDENTIALS = ['authorization', 'proxy-authorization', 'cookie', 'set-cookie']

/** The key a request carries, if any. */
export function inboundKey(headers: IncomingHttpHeaders): string | undefined {
  const auth = headers.authorization
  if (auth?.startsWith('Bearer ')) return auth.slice(7).trim()
  const key = headers['x-api-key']
  return typeof key === 'string' ? key : undefined
}

const byRuleset = new WeakMap<Ruleset, ReadonlySet<string>>()

/** Lower-case header names whose values are never shown, logged or saved. */
export function credentialHeaders(ruleset: Ruleset): ReadonlySet<string> {
  let set = byRuleset.get(ruleset)
  if (!set) {
    set = new Set([...HTTP_CREDENTIALS, ...INBOUND_KEY_HEADERS, ...[...ruleset.upstreams.values()].flatMap((u) => u.keyHeaders)])
    byRuleset.set(ruleset, set)
  }
  return set
}
