// The command line from one table per command: the same flags, environment variables and defaults
// drive the parsing and the help text, so a flag cannot be accepted by one command and shown by another.
import { parseArgs } from 'node:util'

export interface Flag {
  /** The placeholder of a flag that takes a value (`--port PORT`); none: a switch. */
  value?: string
  /** The values it may take (shown as `text|json`). */
  choices?: readonly string[]
  /** A number within [min, max]; `integer` for whole numbers only. */
  number?: { min: number; max?: number; integer?: boolean }
  /** May be given more than once; its values are collected. */
  multiple?: boolean
  /** Read when the flag is not given (an empty variable counts as unset). */
  env?: string
  /** Used when neither the flag nor its variable is given. */
  default?: string
  help: string
}

export interface Command {
  /** Positional arguments, `[NAME]` when optional. */
  args: string[]
  /** What the command does, shown in both helps. */
  about: string
  flags: Record<string, Flag>
  /** A problem with the flags together, once each is known good. */
  check?: (values: Values) => string | undefined
}

export type Values = Record<string, string | string[] | boolean | undefined>

export type Parsed =
  | { kind: 'run'; command: string; values: Values; args: string[] }
  | { kind: 'help'; command?: string }
  | { kind: 'version' }
  /** A usage error; `command` names the help to show with it (none: the overview). */
  | { kind: 'error'; message: string; command?: string }

const HELP_FLAG: Flag = { help: 'this help' }

export function parse(argv: string[], commands: Record<string, Command>, env: NodeJS.ProcessEnv): Parsed {
  const [first, ...rest] = argv
  if (first === undefined) return { kind: 'error', message: 'no command given' }
  if (first === '--version' || first === '-V' || first === '-v') return { kind: 'version' }
  if (first === '--help' || first === '-h') return { kind: 'help' }
  if (first === 'help') {
    const [name, extra] = rest
    if (extra !== undefined || (name !== undefined && !Object.hasOwn(commands, name))) return { kind: 'error', message: `help: no command ${rest.join(' ')}` }
    return { kind: 'help', command: name }
  }
  if (first.startsWith('-')) return { kind: 'error', message: `${first}: the command comes first (${Object.keys(commands).join(', ')}), then its flags` }
  if (!Object.hasOwn(commands, first)) return { kind: 'error', message: `unknown command: ${first}` }
  const spec = commands[first]!
  const error = (message: string): Parsed => ({ kind: 'error', message: `${first}: ${message}`, command: first })

  const options = Object.fromEntries(Object.entries(spec.flags).map(([name, f]) => [name, { type: f.value ? 'string' as const : 'boolean' as const }]))
  const { tokens } = parseArgs({ args: rest, options: { ...options, help: { type: 'boolean', short: 'h' } }, strict: false, allowPositionals: true, tokens: true })
  // --help wins over whatever else is on the line: the line is often being written when help is wanted
  if (tokens.some((token) => token.kind === 'option' && token.name === 'help')) return { kind: 'help', command: first }
  const values: Values = {}
  const args: string[] = []
  for (const token of tokens) {
    if (token.kind === 'positional') { args.push(token.value); continue }
    if (token.kind !== 'option') continue
    const flag = Object.hasOwn(spec.flags, token.name) ? spec.flags[token.name] : undefined
    if (!flag) {
      const owners = Object.keys(commands).filter((c) => Object.hasOwn(commands[c]!.flags, token.name))
      return error(`unknown flag ${token.rawName}${owners.length ? ` (a flag of ${owners.join(', ')})` : ''}`)
    }
    if (!flag.value) {
      if (token.value !== undefined) return error(`${token.rawName} takes no value`)
      values[token.name] = true
      continue
    }
    // `--rules --port 5`: a flag where a value should be is a forgotten value, not a value
    if (token.value === undefined || (!token.inlineValue && token.value.startsWith('-'))) return error(`${token.rawName} needs a value (${flag.value})`)
    values[token.name] = flag.multiple ? [...((values[token.name] as string[] | undefined) ?? []), token.value] : token.value
  }

  const required = spec.args.filter((a) => !a.startsWith('[')).length
  if (args.length < required) return error(`missing ${spec.args.slice(args.length, required).join(' ')}`)
  if (args.length > spec.args.length) return error(`unexpected argument ${args[spec.args.length]}`)

  for (const [name, f] of Object.entries(spec.flags)) {
    if (!f.value || f.multiple) continue
    let source = `--${name}`
    if (values[name] === undefined) {
      const fromEnv = f.env ? env[f.env] || undefined : undefined
      if (fromEnv !== undefined) source = f.env!
      values[name] = fromEnv ?? f.default
    }
    const value = values[name]
    const problem = typeof value === 'string' ? badValue(f, value) : undefined
    if (problem) return error(`bad ${source}: ${value} (${problem})`)
  }
  const problem = spec.check?.(values)
  if (problem) return error(problem)
  return { kind: 'run', command: first, values, args }
}

function badValue(f: Flag, value: string): string | undefined {
  if (f.choices && !f.choices.includes(value)) return `one of ${f.choices.join(', ')}`
  if (!f.number) return undefined
  const { min, max = Infinity, integer } = f.number
  const n = Number(value)
  const ok = value.trim() !== '' && Number.isFinite(n) && n >= min && n <= max && (!integer || Number.isInteger(n))
  return ok ? undefined : `${integer ? 'an integer' : 'a number'} ${max === Infinity ? `≥ ${min}` : `from ${min} to ${max}`}`
}

/** `route-engine serve [--rules DIR] …`, wrapped under its own start. */
export function synopsis(name: string, spec: Command, width = 98): string {
  const head = `route-engine ${name}`
  const parts = [...spec.args, ...Object.entries(spec.flags).map(([flag, f]) => `[${flagText(flag, f)}]${f.multiple ? '…' : ''}`)]
  const lines = [head]
  for (const part of parts) {
    if (lines.at(-1)!.length + 1 + part.length > width) lines.push(' '.repeat(head.length))
    lines[lines.length - 1] += ` ${part}`
  }
  return lines.join('\n')
}

const flagText = (name: string, f: Flag) => `--${name}${f.value ? ` ${f.choices ? f.choices.join('|') : f.value}` : ''}`

/** A command's help: its synopsis, what it does, and every flag with its variable and default. */
export function commandHelp(name: string, spec: Command): string {
  const rows = [...Object.entries(spec.flags).map(([flag, f]) => [flagText(flag, f), flagNote(f)] as const), ['-h, --help', HELP_FLAG.help] as const]
  const width = Math.max(...rows.map(([left]) => left.length)) + 2
  const wrap = (text: string) => text.replace(new RegExp(`(.{1,${100 - 2 - width}})(?: |$)`, 'g'), '$1\n').trimEnd().replace(/\n/g, `\n${' '.repeat(2 + width)}`)
  return `${synopsis(name, spec)}\n\n${spec.about}\n\nFlags:\n${rows.map(([left, right]) => `  ${left.padEnd(width)}${wrap(right)}`).join('\n')}\n`
}

function flagNote(f: Flag): string {
  const notes = [f.env && `env ${f.env}`, f.default !== undefined && `default ${f.default}`, f.multiple && 'repeatable'].filter(Boolean)
  return notes.length ? `${f.help} (${notes.join('; ')})` : f.help
}
