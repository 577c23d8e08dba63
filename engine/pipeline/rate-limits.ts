// Rate limits: requests and tokens per minute by inbound key (checked once a request has matched a
// rule, so its error is written like the rule's others) and by upstream (checked before each call,
// so a limited upstream is retried or falls back like one that answered 429). Counted in the store's
// sliding windows, shared by every instance on one Redis. Tokens are known only once a reply ends:
// a request is refused when the window is already used up, and its own tokens are added after it.
import { RouteError } from '../errors.js'
import type { RateLimits, Ruleset, Upstream } from '../ruleset/ruleset.js'
import type { Store, Window } from '../store/store.js'

const MINUTE = 60_000
const NO_LIMIT = Number.MAX_SAFE_INTEGER

/** The limits of an inbound key: its own, else `*`. `client` is the key's name; none without inbound keys. */
export function clientLimits(ruleset: Ruleset, client: string | undefined): { scope: string; limits: RateLimits } | null {
  const name = client ?? '*'
  const limits = ruleset.limits.keys.get(name) ?? ruleset.limits.keys.get('*')
  return limits ? { scope: `key:${name}`, limits } : null
}

/** Throws RE_RATE_LIMITED (429, retry-after) when a window of `limits` is full; else counts the request. */
export async function checkLimits(store: Store, scope: string, limits: RateLimits, what: string, rule: string, upstream?: string): Promise<void> {
  const ws: Window[] = []
  if (limits.requestsPerMinute) ws.push({ key: `${scope}:requests`, limit: limits.requestsPerMinute, need: 1, add: 1, windowMs: MINUTE })
  if (limits.tokensPerMinute) ws.push({ key: `${scope}:tokens`, limit: limits.tokensPerMinute, need: 1, add: 0, windowMs: MINUTE })
  if (!ws.length) return
  const r = await store.take(ws)
  if (r.ok) return
  const seconds = Math.max(1, Math.ceil(r.retryAfterMs / 1000))
  const which = ws[r.window]!.key.endsWith(':tokens') ? `${limits.tokensPerMinute} tokens` : `${limits.requestsPerMinute} requests`
  throw new RouteError('RE_RATE_LIMITED', `rate limited: ${what} has used its ${which} per minute; retry in ${seconds} s (rule '${rule}')`, { rule, upstream, headers: { 'retry-after': String(seconds) } })
}

/** Adds the tokens a request used to its key's and its upstream's token windows. */
export async function spendTokens(store: Store, ruleset: Ruleset, client: string | undefined, upstream: Upstream | undefined, tokens: number): Promise<void> {
  const ws: Window[] = []
  const c = clientLimits(ruleset, client)
  if (c?.limits.tokensPerMinute) ws.push({ key: `${c.scope}:tokens`, limit: NO_LIMIT, need: 0, add: tokens, windowMs: MINUTE })
  if (upstream?.limits?.tokensPerMinute) ws.push({ key: `upstream:${upstream.name}:tokens`, limit: NO_LIMIT, need: 0, add: tokens, windowMs: MINUTE })
  // The store never rejects: a failure is its outage, counted and logged there.
  if (ws.length) await store.take(ws)
}
