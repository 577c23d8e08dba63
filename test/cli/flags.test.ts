// The command line's conventions, in process: help per command, flags checked against the command
// they are given to, values from flag, variable or default. (cli.test.ts runs the built bin.)
import t from 'tap'
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs'
import { spawnSync } from 'node:child_process'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parse } from '../../engine/cli.js'
import { COMMANDS, main } from '../../engine/main.js'

const version = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version

async function cli(argv: string[], env: NodeJS.ProcessEnv = {}) {
  let stdout = ''
  let stderr = ''
  const code = await main(argv, { stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => (stderr += s) }, env })
  return { code, stdout, stderr }
}

const flagsOf = (command: string) => Object.keys(COMMANDS[command]!.flags).map((f) => `--${f}`)

t.test('help COMMAND, COMMAND --help and COMMAND -h print that command\'s flags, and only those', async (t) => {
  for (const command of Object.keys(COMMANDS)) {
    const help = await cli(['help', command])
    t.equal(help.code, 0, `help ${command}`)
    t.match(help.stdout, new RegExp(`^route-engine ${command} `), `help ${command} starts with its usage`)
    for (const flag of flagsOf(command)) t.match(help.stdout, new RegExp(`^  ${flag}\\b`, 'm'), `help ${command} lists ${flag}`)
    const others = Object.keys(COMMANDS).flatMap(flagsOf).filter((f) => !flagsOf(command).includes(f))
    for (const flag of others) t.notMatch(help.stdout, new RegExp(`${flag}(?![\\w-])`), `help ${command} does not list ${flag}`)
    t.same(await cli([command, '--help']), help, `${command} --help`)
    t.same(await cli([command, '--frobnicate', '-h']), help, `${command} -h, whatever else the line holds`)
  }
  const serve = await cli(['help', 'serve'])
  t.match(serve.stdout, /--port PORT +port to listen on, 0 for any free one \(env PORT; default 8787\)/, 'a flag shows its variable and default')
  const unknown = await cli(['help', 'frobnicate'])
  t.equal(unknown.code, 2)
  t.match(unknown.stderr, /help: no command frobnicate/)
})

t.test('the overview lists every command and how to get its flags', async (t) => {
  for (const argv of [['--help'], ['-h'], ['help']]) {
    const r = await cli(argv)
    t.equal(r.code, 0, argv.join(' '))
    for (const command of Object.keys(COMMANDS)) t.match(r.stdout, new RegExp(`^  route-engine ${command}\\b`, 'm'), `${argv.join(' ')}: ${command}`)
    t.match(r.stdout, /route-engine help COMMAND/)
  }
  const none = await cli([])
  t.equal(none.code, 2, 'no command is a usage error')
  t.match(none.stderr, /no command given\n\nUsage:\n  route-engine serve/)
})

t.test('-V, -v and --version print the version', async (t) => {
  for (const flag of ['-V', '-v', '--version']) t.same(await cli([flag]), { code: 0, stdout: `${version}\n`, stderr: '' }, flag)
})

t.test('a flag of another command is an error naming its command (lint --port 5 and test --workers 3 exited 0)', async (t) => {
  const lint = await cli(['lint', '--port', '5'])
  t.equal(lint.code, 2)
  t.match(lint.stderr, /^lint: unknown flag --port \(a flag of serve\)\n\nUsage:\n  route-engine lint \[DIR\] \[--format text\|json\]\nEvery flag: route-engine help lint\n$/)
  const test = await cli(['test', '--workers', '3'])
  t.equal(test.code, 2)
  t.match(test.stderr, /^test: unknown flag --workers \(a flag of serve\)/)
  const rules = await cli(['lint', '--rules', 'x'])
  t.match(rules.stderr, /^lint: unknown flag --rules \(a flag of serve, explain\)/)
})

t.test('an unknown flag prints the command\'s usage', async (t) => {
  for (const argv of [['serve', '--frobnicate'], ['explain', 'x.json', '-x'], ['test', '--filter=a', '--colour']]) {
    const r = await cli(argv)
    t.equal(r.code, 2, argv.join(' '))
    t.match(r.stderr, new RegExp(`^${argv[0]}: unknown flag -{1,2}\\w+\\n\\nUsage:\\n  route-engine ${argv[0]} `), argv.join(' '))
    t.equal(r.stdout, '')
  }
  const first = await cli(['--port', '5', 'serve'])
  t.equal(first.code, 2)
  t.match(first.stderr, /^--port: the command comes first \(serve, lint, test, explain\), then its flags\n\nUsage:/)
  const unknown = await cli(['frobnicate'])
  t.equal(unknown.code, 2)
  t.match(unknown.stderr, /^unknown command: frobnicate\n\nUsage:/)
})

t.test('values: the flag, else its variable (empty counts as unset), else the default; each checked', async (t) => {
  const run = (argv: string[], env: NodeJS.ProcessEnv = {}) => parse(argv, COMMANDS, env)
  const ran = (argv: string[], env: NodeJS.ProcessEnv = {}) => {
    const p = run(argv, env)
    if (p.kind !== 'run') throw new Error(JSON.stringify(p))
    return p
  }
  t.equal(ran(['serve']).values.port, '8787')
  t.equal(ran(['serve'], { PORT: '' }).values.port, '8787', 'an empty PORT is unset (it used to mean port 0)')
  t.equal(ran(['serve'], { PORT: '9000' }).values.port, '9000')
  t.equal(ran(['serve', '--port', '0'], { PORT: '9000' }).values.port, '0', 'the flag wins over the variable')
  t.equal(ran(['serve', '--port=7'], { PORT: '9000' }).values.port, '7')
  t.same(ran(['explain', 'f.json', '--header', 'a: 1', '--header', 'b: 2']).values.header, ['a: 1', 'b: 2'])
  t.same(ran(['explain', 'f.json']).args, ['f.json'])
  t.same(ran(['lint', '--', '--odd-dir']).args, ['--odd-dir'], 'after --, a positional')
  t.equal(ran(['serve', '--no-watch']).values['no-watch'], true)

  const errors: [string[], NodeJS.ProcessEnv, string][] = [
    [['serve'], { PORT: 'abc' }, 'serve: bad PORT: abc (an integer from 0 to 65535)'],
    [['serve', '--port', '70000'], {}, 'serve: bad --port: 70000 (an integer from 0 to 65535)'],
    [['serve', '--workers', '0'], {}, 'serve: bad --workers: 0 (an integer ≥ 1)'],
    [['serve', '--max-body', ''], {}, 'serve: bad --max-body:  (a number ≥ 1)'],
    [['serve'], { ROUTE_ENGINE_DRAIN_TIMEOUT: '-5' }, 'serve: bad ROUTE_ENGINE_DRAIN_TIMEOUT: -5 (a number ≥ 0)'],
    [['serve', '--rules', '--port', '5'], {}, 'serve: --rules needs a value (DIR)'],
    [['serve', '--port'], {}, 'serve: --port needs a value (PORT)'],
    [['serve', '--no-watch=yes'], {}, 'serve: --no-watch takes no value'],
    [['serve', '--tls-cert', 'c.pem'], {}, 'serve: --tls-cert and --tls-key go together'],
    [['serve'], { ROUTE_ENGINE_TLS_KEY: 'k.pem' }, 'serve: --tls-cert and --tls-key go together'],
    [['serve', 'rules'], {}, 'serve: unexpected argument rules'],
    [['lint', 'a', 'b'], {}, 'lint: unexpected argument b'],
    [['explain'], {}, 'explain: missing FILE'],
    [['explain', 'f', '--upstream-status', '99'], {}, 'explain: bad --upstream-status: 99 (an integer from 100 to 599)'],
    [['test', '--format', 'xml'], {}, 'test: bad --format: xml (one of text, json)'],
  ]
  for (const [argv, env, message] of errors) t.same(run(argv, env), { kind: 'error', message, command: argv[0] }, `${argv.join(' ')} ${JSON.stringify(env)}`)
  const viaMain = await cli(['serve'], { PORT: 'abc' })
  t.equal(viaMain.code, 2, 'main answers a bad value with exit 2, before serving')
  t.match(viaMain.stderr, /^serve: bad PORT: abc/)
})

t.test('a checkout without dist/ is told how to build it', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 're-bin-'))
  mkdirSync(join(dir, 'bin'))
  copyFileSync(new URL('../../bin/route-engine.js', import.meta.url), join(dir, 'bin', 'route-engine.js'))
  const r = spawnSync(process.execPath, [join(dir, 'bin', 'route-engine.js'), 'serve'], { encoding: 'utf8' })
  t.equal(r.status, 1)
  t.match(r.stderr, /^route-engine: dist\/ is not built\. In a checkout run `npm install` \(or `npm run build`\)/)
})
