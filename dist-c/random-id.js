// Random ids drawn from a pool of random bytes: one crypto.randomBytes call per id costs more than
// the rest of a pass-through request's bookkeeping.
import { randomBytes } from 'node:crypto';
const POOL_BYTES = 4096;
let pool = Buffer.alloc(0);
let used = 0;
export function randomId(alphabet, length, prefix = '') {
    if (used + length > pool.length) {
        pool = randomBytes(Math.max(POOL_BYTES, length));
        used = 0;
    }
    let out = prefix;
    for (let i = 0; i < length; i++)
        out += alphabet[pool[used++] % alphabet.length];
    return out;
}
//# sourceMappingURL=random-id.js.map