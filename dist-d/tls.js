// TLS certificates for --tls-cert/--tls-key: read and check a pair (a renewal tool may be halfway
// through writing it), and watch the files so a renewed pair replaces the old one without a restart.
import { watch } from 'chokidar';
import { readFile } from 'node:fs/promises';
import { createSecureContext } from 'node:tls';
/** Reads a PEM certificate (chain) and its key; throws a readable error when either is unreadable or they do not belong together. */
export async function readCertificate(certPath, keyPath) {
    const [cert, key] = await Promise.all([readFile(certPath), readFile(keyPath)]);
    try {
        createSecureContext({ cert, key });
    }
    catch (err) {
        throw new Error(`the certificate ${certPath} and key ${keyPath} cannot be used together: ${err.message}`);
    }
    return { cert, key };
}
/** Calls `onChange` 100 ms after the last change to either file (writes of a pair come in bursts). */
export function watchCertificate(certPath, keyPath, onChange) {
    const w = watch([certPath, keyPath], { ignoreInitial: true });
    let timer = null;
    w.on('all', () => {
        if (timer)
            clearTimeout(timer);
        timer = setTimeout(onChange, 100);
    });
    return {
        ready: new Promise((resolve) => w.once('ready', () => resolve())),
        async close() {
            if (timer)
                clearTimeout(timer);
            await w.close();
        },
    };
}
//# sourceMappingURL=tls.js.map