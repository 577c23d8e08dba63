// A keyed store shared across requests: stream transforms write what an upstream will need back
// (and a client drops), later request transforms read it. Async so a shared store can implement it.
export {};
//# sourceMappingURL=store.js.map