// The concurrent-request limit of each upstream (`maxConcurrent`): a lease from the store, so every
// instance sharing a store counts against one limit (the memory store: this process). Counted by
// upstream name, so a reload that rebuilds the Upstream objects keeps counting the calls in flight.
import { RouteError } from '../errors.js'
import type { Upstream } from '../ruleset/ruleset.js'
import type { Release, Store } from '../store/store.js'

/** Calls in flight in this process, by upstream name (the upstream_in_flight metric). */
const inFlight = new Map<string, number>()

/** Takes a slot for one call; the returned function gives it back (once). Throws RE_UPSTREAM_BUSY when none is free. */
export async function takeSlot(store: Store, up: Upstream, rule: string): Promise<Release> {
  const lease = up.maxConcurrent === null ? null : await store.lease(`upstream:${up.name}`, up.maxConcurrent)
  if (up.maxConcurrent !== null && !lease) {
    throw new RouteError('RE_UPSTREAM_BUSY', `upstream '${up.name}' is busy: ${up.maxConcurrent} requests in flight, its maxConcurrent (rule '${rule}')`, { rule, upstream: up.name, headers: { 'retry-after': '1' } })
  }
  inFlight.set(up.name, (inFlight.get(up.name) ?? 0) + 1)
  let given = false
  return () => {
    if (given) return
    given = true
    inFlight.set(up.name, inFlight.get(up.name)! - 1)
    return lease?.()
  }
}

/** Calls in flight by upstream name (for metrics). */
export function slotsInUse(): ReadonlyMap<string, number> {
  return inFlight
}
