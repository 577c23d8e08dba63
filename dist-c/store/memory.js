export class MemoryStore {
    // A Map keeps insertion order, and set() re-inserts, so the first key is the oldest write.
    #entries = new Map();
    #ttl;
    #max;
    #now;
    constructor(opts = {}) {
        this.#ttl = opts.ttlSeconds ?? 6 * 3600;
        this.#max = opts.maxEntries ?? 50_000;
        this.#now = opts.now ?? Date.now;
    }
    get size() {
        return this.#entries.size;
    }
    async get(key) {
        const e = this.#entries.get(key);
        if (!e)
            return undefined;
        if (e.expires <= this.#now()) {
            this.#entries.delete(key);
            return undefined;
        }
        return e.value;
    }
    async set(key, value, ttlSeconds) {
        this.#entries.delete(key);
        this.#entries.set(key, { value, expires: this.#now() + (ttlSeconds ?? this.#ttl) * 1000 });
        while (this.#entries.size > this.#max) {
            const oldest = this.#entries.keys().next().value;
            this.#entries.delete(oldest);
        }
    }
    async close() {
        this.#entries.clear();
    }
}
//# sourceMappingURL=memory.js.map