// Structured logs (pino): one line per request, and rule-load problems. Request headers and bodies
// are never logged; the redact paths are a second guard for anything that carries credentials.
import { pino, type Logger } from 'pino'

export function createLogger(level = process.env.LOG_LEVEL ?? 'info', destination?: NodeJS.WritableStream): Logger {
  return pino(
    {
      level,
      base: undefined,
      redact: { paths: ['headers.authorization', 'headers["x-api-key"]', 'headers["x-goog-api-key"]', '*.authorization', '*["x-api-key"]', '*["x-goog-api-key"]', 'key', 'keys'], censor: '[redacted]' },
    },
    destination as never,
  )
}

export type { Logger }
