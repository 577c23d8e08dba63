// argv → a command. The only place that sets the exit code.
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { explain } from './commands/explain.js'
import { lint } from './commands/lint.js'
import { DEFAULT_LIMITS } from './expr/compile.js'
import { serve } from './commands/serve.js'
import { test } from './commands/test.js'
import { checkStoreSetting } from './store/open.js'

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
const SHIPPED_RULES = fileURLToPath(new URL('../rules/', import.meta.url))

const HELP = `route-engine ${pkg.version} — an LLM routing gateway driven by YAML rules

Usage:
  route-engine serve [--rules DIR] [--host HOST] [--port PORT] [--max-body BYTES] [--transform-timeout MS]
                     [--no-watch] [--insecure-no-auth] [--workers N] [--tls-cert FILE --tls-key FILE]
                     [--drain-timeout MS] [--max-header-size BYTES] [--capture DIR [--redact PATH,…]]
                     [--store memory|redis://HOST:PORT/DB|rediss://… [--store-prefix P] [--store-timeout MS]]
  route-engine lint [DIR] [--format text|json]
  route-engine test [DIR] [--filter TEXT] [--format text|json]
  route-engine explain FILE [--rules DIR] [--route PATH] [--method M] [--header 'name: value']…
                       [--upstream-reply FILE] [--upstream-status N] [--format text|json]
  route-engine --help | --version

serve   Serve the rules (default: the shipped rules) on HOST:PORT (default 127.0.0.1:8787; HOST and
        PORT environment variables too), reloading them when files change. Inbound keys come from
        ROUTE_ENGINE_KEYS (comma-separated); without keys the server only listens on loopback.
        SIGTERM drains (docs/operations.md); SIGHUP reloads the rules and the certificate.
        --capture DIR writes each request and its upstream reply as a rule example under DIR/<rule>/,
        credentials and the --redact body fields replaced by [redacted] (docs/guide.md).
        --store (ROUTE_ENGINE_STORE) a Redis URL: instances share what rules remember, maxConcurrent
        and rate limits (docs/operations.md); default memory, per process.
lint    Check a rules directory (default: the shipped rules): exit 0 when clean, 1 with every problem.
        Also runs its examples: shadowed rules, dropped fields, output schemas, slow regexes, bindings.
test    Run the examples in DIR/examples through the real pipeline: exit 0 when all pass, 1 with a
        diff per failure that names the rule and the step that produced the value.
explain Show, offline, what the rules do with one request: FILE is a JSON body (with --route) or an
        example .yaml. Every rule tried, the body after each step, the upstream request (credentials
        masked) and, with --upstream-reply (a .sse transcript or a JSON body), the client's reply.
`

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean', short: 'v' },
      rules: { type: 'string' },
      host: { type: 'string' },
      port: { type: 'string' },
      'max-body': { type: 'string' },
      'transform-timeout': { type: 'string' },
      'no-watch': { type: 'boolean' },
      'insecure-no-auth': { type: 'boolean' },
      workers: { type: 'string' },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      'drain-timeout': { type: 'string' },
      'max-header-size': { type: 'string' },
      format: { type: 'string' },
      filter: { type: 'string' },
      route: { type: 'string' },
      method: { type: 'string' },
      header: { type: 'string', multiple: true },
      'upstream-reply': { type: 'string' },
      'upstream-status': { type: 'string' },
      capture: { type: 'string' },
      redact: { type: 'string', multiple: true },
      store: { type: 'string' },
      'store-prefix': { type: 'string' },
      'store-timeout': { type: 'string' },
    },
  })
  if (values.version) { process.stdout.write(pkg.version + '\n'); return 0 }
  const [command, ...rest] = positionals
  if (values.help || !command) { process.stdout.write(HELP); return command || values.help ? 0 : 2 }
  switch (command) {
    case 'serve': {
      const port = Number(values.port ?? process.env.PORT ?? 8787)
      const maxBody = Number(values['max-body'] ?? process.env.ROUTE_ENGINE_MAX_BODY ?? 50 * 1024 * 1024)
      if (!Number.isInteger(port) || port < 0 || port > 65535) return usage(`bad --port: ${values.port ?? process.env.PORT}`)
      if (!Number.isFinite(maxBody) || maxBody <= 0) return usage(`bad --max-body: ${values['max-body']}`)
      const timeout = Number(values['transform-timeout'] ?? process.env.ROUTE_ENGINE_TRANSFORM_TIMEOUT ?? DEFAULT_LIMITS.timeoutMs)
      if (!Number.isFinite(timeout) || timeout <= 0) return usage(`bad --transform-timeout: ${values['transform-timeout']}`)
      const workers = Number(values.workers ?? process.env.ROUTE_ENGINE_WORKERS ?? 1)
      if (!Number.isInteger(workers) || workers < 1) return usage(`bad --workers: ${values.workers}`)
      const drain = Number(values['drain-timeout'] ?? process.env.ROUTE_ENGINE_DRAIN_TIMEOUT ?? 30_000)
      if (!Number.isFinite(drain) || drain < 0) return usage(`bad --drain-timeout: ${values['drain-timeout']}`)
      const maxHeader = Number(values['max-header-size'] ?? process.env.ROUTE_ENGINE_MAX_HEADER_SIZE ?? 16 * 1024)
      if (!Number.isInteger(maxHeader) || maxHeader < 1024) return usage(`bad --max-header-size: ${values['max-header-size']}`)
      const tlsCert = values['tls-cert'] ?? process.env.ROUTE_ENGINE_TLS_CERT
      const tlsKey = values['tls-key'] ?? process.env.ROUTE_ENGINE_TLS_KEY
      if (!tlsCert !== !tlsKey) return usage('--tls-cert and --tls-key go together')
      const store = values.store ?? process.env.ROUTE_ENGINE_STORE
      try { checkStoreSetting(store) } catch (err) { return usage((err as Error).message) }
      const storeTimeout = Number(values['store-timeout'] ?? process.env.ROUTE_ENGINE_STORE_TIMEOUT ?? 1000)
      if (!Number.isFinite(storeTimeout) || storeTimeout <= 0) return usage(`bad --store-timeout: ${values['store-timeout']}`)
      return serve({
        rules: values.rules ?? SHIPPED_RULES,
        host: values.host ?? process.env.HOST ?? '127.0.0.1',
        port,
        maxBodyBytes: maxBody,
        insecureNoAuth: values['insecure-no-auth'] ?? false,
        watch: !values['no-watch'],
        transformTimeoutMs: timeout,
        workers,
        tlsCert,
        tlsKey,
        drainTimeoutMs: drain,
        maxHeaderBytes: maxHeader,
        capture: values.capture,
        redact: (values.redact ?? []).flatMap((r) => r.split(',')).map((r) => r.trim()).filter(Boolean),
        store: { url: store, prefix: values['store-prefix'] ?? process.env.ROUTE_ENGINE_STORE_PREFIX ?? 'route-engine:', timeoutMs: storeTimeout },
      })
    }
    case 'lint': {
      const format = values.format ?? 'text'
      if (format !== 'text' && format !== 'json') return usage(`bad --format: ${format}`)
      return lint(rest[0] ?? SHIPPED_RULES, format)
    }
    case 'test': {
      const format = values.format ?? 'text'
      if (format !== 'text' && format !== 'json') return usage(`bad --format: ${format}`)
      return test(rest[0] ?? SHIPPED_RULES, { format, filter: values.filter })
    }
    case 'explain': {
      const format = values.format ?? 'text'
      if (format !== 'text' && format !== 'json') return usage(`bad --format: ${format}`)
      if (!rest[0]) return usage('explain: which request? give a JSON body file or an example .yaml')
      const status = values['upstream-status'] === undefined ? undefined : Number(values['upstream-status'])
      if (status !== undefined && !(Number.isInteger(status) && status >= 100 && status <= 599)) return usage(`bad --upstream-status: ${values['upstream-status']}`)
      return explain({
        rules: values.rules ?? SHIPPED_RULES,
        file: rest[0],
        route: values.route,
        method: values.method,
        headers: values.header ?? [],
        upstreamReply: values['upstream-reply'],
        upstreamStatus: status,
        format,
      })
    }
    default:
      return usage(`unknown command: ${command}`)
  }
}

function usage(message: string): number {
  process.stderr.write(`${message}\n\n${HELP}`)
  return 2
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code },
  (err: Error) => { process.stderr.write(`route-engine: ${err.message}\n`); process.exitCode = err.name === 'TypeError' && /parseArgs|argument/i.test(err.message) ? 2 : 1 },
)
