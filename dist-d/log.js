// Structured logs (pino): one line per request, and rule-load problems. Request headers and bodies
// are never logged; the redact paths are a second guard for anything that carries credentials.
import { destination as logDestination, pino } from 'pino';
export function createLogger(level = process.env.LOG_LEVEL ?? 'info', destination) {
    return pino({
        level,
        base: undefined,
        redact: { paths: ['headers.authorization', 'headers["x-api-key"]', 'headers["x-goog-api-key"]', '*.authorization', '*["x-api-key"]', '*["x-goog-api-key"]', 'key', 'keys'], censor: '[redacted]' },
    }, 
    // Asynchronous writes to stdout: a blocking write per request line would hold up every request
    // behind the log (pino flushes what is buffered when the process exits).
    (destination ?? logDestination({ dest: 1, sync: false })));
}
//# sourceMappingURL=log.js.map