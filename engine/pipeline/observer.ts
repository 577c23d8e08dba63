// What explain, test and capture see of one request as proxy() runs it. Serving passes none, and
// every call site is a `?.`: an absent observer costs nothing.
import type { Dispatcher } from 'undici'
import type { RequestStep, Ruleset, Upstream } from '../ruleset/ruleset.js'
import type { Matched, MatchInput } from './match.js'
import type { UpstreamCall } from './send-upstream.js'

export interface Observer {
  /** The client's request, parsed, before matching, and the rules it runs on. */
  received?(input: MatchInput, ruleset: Ruleset): void
  /** The rule that matched, and the body with the alias applied. */
  matched?(m: Matched): void
  /** One request step: its output, or `ran: false` when its `when` did not hold. */
  step?(step: RequestStep, ran: boolean, out: unknown): void
  /** The upstream call as it is sent: credentials included, so mask before showing or saving. */
  upstream?(call: UpstreamCall, up: Upstream): void
  /** Sends this request's upstream call instead of the shared agents (a recorded reply, a recorder). */
  dispatcher?: Dispatcher
}
