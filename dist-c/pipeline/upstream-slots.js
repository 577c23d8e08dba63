// The concurrent-request limit of each upstream (`maxConcurrent`). Counted by upstream name, so a
// reload that rebuilds the Upstream objects keeps counting the calls already in flight.
import { RouteError } from '../errors.js';
const inFlight = new Map();
/** Takes a slot for one call; the returned function gives it back (once). Throws RE_UPSTREAM_BUSY when none is free. */
export function takeSlot(up, rule) {
    const n = inFlight.get(up.name) ?? 0;
    if (up.maxConcurrent !== null && n >= up.maxConcurrent) {
        throw new RouteError('RE_UPSTREAM_BUSY', `upstream '${up.name}' is busy: ${up.maxConcurrent} requests in flight, its maxConcurrent (rule '${rule}')`, { rule, upstream: up.name, headers: { 'retry-after': '1' } });
    }
    inFlight.set(up.name, n + 1);
    let given = false;
    return () => {
        if (given)
            return;
        given = true;
        inFlight.set(up.name, inFlight.get(up.name) - 1);
    };
}
/** Calls in flight by upstream name (for metrics). */
export function slotsInUse() {
    return inFlight;
}
//# sourceMappingURL=upstream-slots.js.map