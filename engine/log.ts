// Structured logs (pino): one line per request, and rule-load problems. Request headers and bodies
// are never logged; the redact paths are a second guard: any headers object, and keys, are censored
// whole (which headers carry credentials depends on the rules, which a logger outlives).
import { destination as logDestination, pino, type Logger } from 'pino'

export function createLogger(level = process.env.LOG_LEVEL ?? 'info', destination?: NodeJS.WritableStream): Logger {
  return pino(
    {
      level,
      base: undefined,
      redact: { paths: ['headers', '*.headers', 'key', 'keys'], censor: '[redacted]' },
    },
    // Asynchronous writes to stdout: a blocking write per request line would hold up every request
    // behind the log (pino flushes what is buffered when the process exits).
    (destination ?? logDestination({ dest: 1, sync: false })) as never,
  )
}

export type { Logger }
