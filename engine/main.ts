// argv → a command. The commands and their flags (the table cli.ts parses and shows); the only place
// that sets the exit code.
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { commandHelp, parse, synopsis, type Command, type Values } from './cli.js'
import { badOrigin } from './cors.js'
import { DEFAULT_LIMITS } from './expr/compile.js'
import { DEFAULT_SETTLE_MS } from './ruleset/reload.js'
import { SERVER_DEFAULTS } from './server.js'
import { checkStoreSetting } from './store/open.js'

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
const SHIPPED_RULES = fileURLToPath(new URL('../rules/', import.meta.url))

const format = { value: 'FORMAT', choices: ['text', 'json'], default: 'text', help: 'output format' } as const

export const COMMANDS: Record<string, Command> = {
  serve: {
    args: [],
    about: `Serve the rules on HOST:PORT, reloading them when their files change. Inbound keys come from
ROUTE_ENGINE_KEYS (comma-separated); without keys the server only listens on loopback, answers
only loopback Host names, reads only JSON bodies and serves no web page's origin unless
--cors-origin lists it.
A reload waits until the rules folder has been quiet for --reload-settle ms; a reload that is broken
or holds no rule keeps the last good rules. SIGTERM drains (docs/operations.md); SIGHUP reloads
the rules and the certificate.
--capture DIR writes each request and its upstream reply as a rule example under DIR/<rule>/,
credentials and the --redact body fields replaced by [redacted] (docs/guide.md).
--store a Redis URL: instances share what rules remember, maxConcurrent and rate limits
(docs/operations.md); default memory, per process.`,
    flags: {
      rules: { value: 'DIR', default: SHIPPED_RULES, help: 'the rules folder' },
      host: { value: 'HOST', env: 'HOST', default: '127.0.0.1', help: 'address to listen on' },
      port: { value: 'PORT', env: 'PORT', default: '8787', number: { min: 0, max: 65535, integer: true }, help: 'port to listen on, 0 for any free one' },
      'max-body': { value: 'BYTES', env: 'ROUTE_ENGINE_MAX_BODY', default: String(SERVER_DEFAULTS.maxBodyBytes), number: { min: 1 }, help: 'request body limit' },
      'transform-timeout': { value: 'MS', env: 'ROUTE_ENGINE_TRANSFORM_TIMEOUT', default: String(DEFAULT_LIMITS.timeoutMs), number: { min: 1 }, help: 'time limit of one transform evaluation' },
      'no-watch': { help: 'do not reload the rules when their files change (SIGHUP still does)' },
      'insecure-no-auth': { help: 'listen on any address without inbound keys' },
      workers: { value: 'N', env: 'ROUTE_ENGINE_WORKERS', default: '1', number: { min: 1, integer: true }, help: 'processes serving the port' },
      'tls-cert': { value: 'FILE', env: 'ROUTE_ENGINE_TLS_CERT', help: 'serve HTTPS with this PEM certificate, with --tls-key' },
      'tls-key': { value: 'FILE', env: 'ROUTE_ENGINE_TLS_KEY', help: 'the PEM private key of --tls-cert' },
      'drain-timeout': { value: 'MS', env: 'ROUTE_ENGINE_DRAIN_TIMEOUT', default: '30000', number: { min: 0 }, help: 'on SIGTERM, how long requests in flight may finish' },
      'reload-settle': { value: 'MS', env: 'ROUTE_ENGINE_RELOAD_SETTLE', default: String(DEFAULT_SETTLE_MS), number: { min: 0 }, help: 'how long the rules folder must be quiet before a reload' },
      'worker-timeout': { value: 'MS', env: 'ROUTE_ENGINE_WORKER_TIMEOUT', default: '30000', number: { min: 1 }, help: 'with --workers: how long one may take to start serving or to answer a reload before it is replaced' },
      'max-header-size': { value: 'BYTES', env: 'ROUTE_ENGINE_MAX_HEADER_SIZE', default: String(16 * 1024), number: { min: 1024, integer: true }, help: 'limit of the request line and headers' },
      'body-budget': { value: 'BYTES', env: 'ROUTE_ENGINE_BODY_BUDGET', number: { min: 1, integer: true }, help: `bytes of request bodies held at once across requests; past it, 503 (default: the larger of ${SERVER_DEFAULTS.bodyBudgetBytes} and --max-body)` },
      'max-upstream-reply': { value: 'BYTES', env: 'ROUTE_ENGINE_MAX_UPSTREAM_REPLY', default: String(SERVER_DEFAULTS.maxUpstreamReplyBytes), number: { min: 1, integer: true }, help: 'the largest upstream JSON reply read; past it, 502' },
      'header-timeout': { value: 'MS', env: 'ROUTE_ENGINE_HEADER_TIMEOUT', default: String(SERVER_DEFAULTS.headerTimeoutMs), number: { min: 1, integer: true }, help: "time for a request's line and headers to arrive; past it, 408" },
      'request-timeout': { value: 'MS', env: 'ROUTE_ENGINE_REQUEST_TIMEOUT', default: String(SERVER_DEFAULTS.requestTimeoutMs), number: { min: 1, integer: true }, help: 'time for a whole request, headers and body, to arrive; past it, 408' },
      'max-connections': { value: 'N', env: 'ROUTE_ENGINE_MAX_CONNECTIONS', default: String(SERVER_DEFAULTS.maxConnections), number: { min: 1, integer: true }, help: 'connections open at once; a request on one more is answered 503' },
      store: { value: 'URL', env: 'ROUTE_ENGINE_STORE', help: 'memory (per process) or a Redis URL (redis://HOST:PORT/DB, rediss://…): instances share what rules remember, maxConcurrent and rate limits' },
      'store-prefix': { value: 'PREFIX', env: 'ROUTE_ENGINE_STORE_PREFIX', default: 'route-engine:', help: 'prefix of every key in the store' },
      'store-timeout': { value: 'MS', env: 'ROUTE_ENGINE_STORE_TIMEOUT', default: '1000', number: { min: 1 }, help: 'the longest wait for one store call; past it, the store counts as unreachable' },
      capture: { value: 'DIR', help: 'write each request and its upstream reply as an example under DIR/<rule>/' },
      'cors-origin': { value: 'ORIGINS', env: 'ROUTE_ENGINE_CORS_ORIGINS', help: 'web origins CORS allows, comma-separated (* any; default: any with keys, none without)' },
      redact: { value: 'PATHS', multiple: true, help: 'body fields to redact in captures: dotted paths, comma-separated, * for any key or item' },
    },
    check: (v) => {
      if (!v['tls-cert'] !== !v['tls-key']) return '--tls-cert and --tls-key go together'
      if (Number(v['header-timeout']) > Number(v['request-timeout'])) return 'bad --header-timeout: at most --request-timeout'
      if (v['body-budget'] !== undefined && Number(v['body-budget']) < Number(v['max-body'])) return 'bad --body-budget: at least --max-body'
      const bad = corsOrigins(v)?.map(badOrigin).find((e) => e !== null)
      if (bad) return `bad --cors-origin: ${bad}`
      try { checkStoreSetting(str(v, 'store')) } catch (err) { return (err as Error).message }
      return undefined
    },
  },
  lint: {
    args: ['[DIR]'],
    about: `Check a rules folder (default: the shipped rules): exit 0 when clean, 1 with every problem.
Also runs its examples: shadowed rules, dropped fields, output schemas, slow regexes, bindings.`,
    flags: { format },
  },
  test: {
    args: ['[DIR]'],
    about: `Run the examples in DIR/examples (default: the shipped rules) through the real pipeline: exit 0
when all pass, 1 with a diff per failure that names the rule and the step that produced the value.`,
    flags: {
      filter: { value: 'TEXT', help: 'only the examples whose id contains TEXT' },
      format,
    },
  },
  explain: {
    args: ['FILE'],
    about: `Show, offline, what the rules do with one request: FILE is a JSON body (with --route) or an
example .yaml. Every rule tried, the body after each step, the upstream request (credentials
masked) and, with --upstream-reply (a .sse transcript or a JSON body), the client's reply.`,
    flags: {
      rules: { value: 'DIR', default: SHIPPED_RULES, help: 'the rules folder' },
      route: { value: 'PATH', help: 'the request path, for a JSON body' },
      method: { value: 'M', help: 'the request method' },
      header: { value: "'NAME: VALUE'", multiple: true, help: 'a request header' },
      'upstream-reply': { value: 'FILE', help: "the upstream's reply: a .sse transcript or a JSON body" },
      'upstream-status': { value: 'N', number: { min: 100, max: 599, integer: true }, help: "the upstream reply's status" },
      format,
    },
  },
}

// Each command's module is loaded when it runs: help, version and usage errors load none of them.
type Run = (v: Values, args: string[]) => Promise<number>
const str = (v: Values, name: string) => v[name] as string | undefined
const num = (v: Values, name: string) => (v[name] === undefined ? undefined : Number(v[name]))
const fmt = (v: Values) => v.format as 'text' | 'json'
/** An empty list counts as unset: the default by keys. */
function corsOrigins(v: Values): string[] | undefined {
  const list = str(v, 'cors-origin')?.split(',').map((o) => o.trim()).filter(Boolean)
  return list?.length ? list : undefined
}

const RUN: Record<keyof typeof COMMANDS, Run> = {
  serve: async (v) => (await import('./commands/serve.js')).serve({
    rules: str(v, 'rules')!,
    host: str(v, 'host')!,
    port: num(v, 'port')!,
    maxBodyBytes: num(v, 'max-body')!,
    insecureNoAuth: v['insecure-no-auth'] === true,
    watch: v['no-watch'] !== true,
    transformTimeoutMs: num(v, 'transform-timeout')!,
    workers: num(v, 'workers')!,
    tlsCert: str(v, 'tls-cert'),
    tlsKey: str(v, 'tls-key'),
    drainTimeoutMs: num(v, 'drain-timeout')!,
    maxHeaderBytes: num(v, 'max-header-size')!,
    capture: str(v, 'capture'),
    corsOrigins: corsOrigins(v),
    settleMs: num(v, 'reload-settle')!,
    bodyBudgetBytes: num(v, 'body-budget') ?? Math.max(SERVER_DEFAULTS.bodyBudgetBytes, num(v, 'max-body')!),
    maxUpstreamReplyBytes: num(v, 'max-upstream-reply')!,
    headerTimeoutMs: num(v, 'header-timeout')!,
    requestTimeoutMs: num(v, 'request-timeout')!,
    maxConnections: num(v, 'max-connections')!,
    workerTimeoutMs: num(v, 'worker-timeout')!,
    store: { url: str(v, 'store'), prefix: str(v, 'store-prefix')!, timeoutMs: num(v, 'store-timeout')! },
    redact: ((v.redact as string[] | undefined) ?? []).flatMap((r) => r.split(',')).map((r) => r.trim()).filter(Boolean),
  }),
  lint: async (v, [dir]) => (await import('./commands/lint.js')).lint(dir ?? SHIPPED_RULES, fmt(v)),
  test: async (v, [dir]) => (await import('./commands/test.js')).test(dir ?? SHIPPED_RULES, { format: fmt(v), filter: str(v, 'filter') }),
  explain: async (v, [file]) => (await import('./commands/explain.js')).explain({
    rules: str(v, 'rules')!,
    file: file!,
    route: str(v, 'route'),
    method: str(v, 'method'),
    headers: (v.header as string[] | undefined) ?? [],
    upstreamReply: str(v, 'upstream-reply'),
    upstreamStatus: num(v, 'upstream-status'),
    format: fmt(v),
  }),
}

const indent = (text: string) => text.replace(/^/gm, '  ')

const USAGE = `Usage:
${Object.entries(COMMANDS).map(([name, spec]) => indent(synopsis(name, spec))).join('\n')}
  route-engine help COMMAND       a command's flags, variables and defaults (or: COMMAND --help)
  route-engine --help | --version (-h, -V)
`

const OVERVIEW = `route-engine ${pkg.version} — an LLM routing gateway driven by YAML rules

${USAGE}
${Object.entries(COMMANDS).map(([name, spec]) => `${name.padEnd(8)}${spec.about.replace(/\n/g, '\n        ')}`).join('\n')}
`

export interface Io {
  stdout: { write(text: string): unknown }
  stderr: { write(text: string): unknown }
  env: NodeJS.ProcessEnv
}

/** Runs one command line; resolves with its exit code (2: a usage error). */
export async function main(argv: string[], io: Io = process): Promise<number> {
  const p = parse(argv, COMMANDS, io.env)
  switch (p.kind) {
    case 'version': io.stdout.write(pkg.version + '\n'); return 0
    case 'help': io.stdout.write(p.command ? commandHelp(p.command, COMMANDS[p.command]!) : OVERVIEW); return 0
    case 'error': {
      const usage = p.command ? `Usage:\n${indent(synopsis(p.command, COMMANDS[p.command]!))}\nEvery flag: route-engine help ${p.command}\n` : USAGE
      io.stderr.write(`${p.message}\n\n${usage}`)
      return 2
    }
  }
  return RUN[p.command]!(p.values, p.args)
}

/** The process entry (bin/route-engine.js). */
export function run(): void {
  main(process.argv.slice(2)).then(
    (code) => { process.exitCode = code },
    (err: Error) => { process.stderr.write(`route-engine: ${err.message}\n`); process.exitCode = 1 },
  )
}
