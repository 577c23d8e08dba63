// The Dockerfile without Docker: its steps read and replayed in a folder per stage, with this machine's
// Node and npm standing in for the base image's. WORKDIR, COPY (the build context filtered by
// .dockerignore, or --from an earlier stage) and RUN (sh -c, in the stage's WORKDIR, with its ENV and a
// HOME of its own; an npm cache mount is this machine's npm cache) run as a build would; USER, ENV, EXPOSE, HEALTHCHECK and CMD are kept for running the result. Any other
// instruction is an error, so the Dockerfile cannot grow a step this replay silently skips.
import { spawn } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs'
import { homedir } from 'node:os'
import { basename, join, posix, relative } from 'node:path'

export interface Stage {
  from: string
  name?: string
  /** The folder standing for this stage's filesystem root. */
  root: string
  workdir: string
  env: Record<string, string>
  user?: string
  expose: string[]
  healthcheck?: string[]
  cmd?: string[]
  /** The RUN commands, as written. */
  runs: string[]
}

/** The instructions of a Dockerfile, continuation lines joined, comments dropped. */
export function instructions(text: string): { op: string; args: string; line: number }[] {
  const out: { op: string; args: string; line: number }[] = []
  let pending = ''
  let start = 0
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim()
    if (!pending && (!line || line.startsWith('#'))) return
    if (!pending) start = i + 1
    pending += (pending ? ' ' : '') + line.replace(/\\$/, '').trim()
    if (line.endsWith('\\')) return
    const [, op, args] = /^(\S+)\s*(.*)$/.exec(pending)!
    out.push({ op: op!.toUpperCase(), args: args!, line: start })
    pending = ''
  })
  return out
}

/** Builds every stage under `into` (an empty folder) and returns them, the image last. */
export async function replay(dockerfile: string, context: string, into: string): Promise<Stage[]> {
  const ignored = dockerignore(context)
  const stages: Stage[] = []
  for (const { op, args, line } of instructions(readFileSync(dockerfile, 'utf8'))) {
    const where = `Dockerfile:${line}`
    if (op === 'FROM') {
      const [from, as, name] = args.split(/\s+/)
      const root = join(into, `stage-${stages.length}`)
      mkdirSync(root)
      stages.push({ from: from!, name: as?.toUpperCase() === 'AS' ? name : undefined, root, workdir: '/', env: {}, expose: [], runs: [] })
      continue
    }
    const stage = stages.at(-1)
    if (!stage) throw new Error(`${where}: ${op} before FROM`)
    const inStage = (path: string) => join(stage.root, posix.resolve(stage.workdir, path))
    switch (op) {
      case 'WORKDIR':
        stage.workdir = posix.resolve(stage.workdir, args)
        mkdirSync(inStage('.'), { recursive: true })
        break
      case 'COPY': {
        const words = args.split(/\s+/)
        const fromName = words[0]!.startsWith('--from=') ? words.shift()!.slice('--from='.length) : undefined
        if (words.some((w) => w.startsWith('--'))) throw new Error(`${where}: COPY ${words.find((w) => w.startsWith('--'))} is not replayed`)
        const dest = words.pop()!
        const from = fromName === undefined ? undefined : stages.find((s) => s.name === fromName)
        if (fromName !== undefined && !from) throw new Error(`${where}: no stage ${fromName}`)
        for (const src of words) {
          const path = from ? join(from.root, src) : join(context, src)
          if (!existsSync(path) || (!from && ignored(src))) throw new Error(`${where}: COPY ${src}: not in the ${from ? `stage ${fromName}` : 'build context'}`)
          const filter = (p: string) => from !== undefined || !ignored(relative(context, p))
          // a folder's contents go to dest; a file goes into dest/ or becomes dest
          const target = statSync(path).isDirectory() || !(dest.endsWith('/') || words.length > 1) ? inStage(dest) : join(inStage(dest), basename(src))
          cpSync(path, target, { recursive: true, filter })
        }
        break
      }
      case 'RUN': {
        const [, mounts = '', command = ''] = /^((?:--mount=\S+\s+)*)(.*)$/.exec(args)!
        const env: Record<string, string> = { PATH: process.env.PATH!, HOME: join(stage.root, 'root') }
        for (const [, mount] of mounts.matchAll(/--mount=(\S+)/g)) {
          // npm's build cache, kept between builds: this machine's npm cache
          if (mount !== `type=cache,target=${NPM_CACHE}`) throw new Error(`${where}: RUN --mount=${mount} is not replayed`)
          env.npm_config_cache = join(homedir(), '.npm')
        }
        stage.runs.push(command)
        mkdirSync(env.HOME!, { recursive: true })
        const code = await run(['sh', '-c', command], inStage('.'), { ...env, ...stage.env })
        if (code !== 0) throw new Error(`${where}: RUN ${command}: exit ${code}`)
        break
      }
      case 'ENV':
        for (const [, k, v] of args.matchAll(/(\w+)=("[^"]*"|\S*)/g)) stage.env[k!] = v!.replace(/^"|"$/g, '')
        break
      case 'USER': stage.user = args; break
      case 'EXPOSE': stage.expose.push(...args.split(/\s+/)); break
      case 'HEALTHCHECK': stage.healthcheck = JSON.parse(/\bCMD\s+(\[.*\])$/.exec(args)?.[1] ?? 'null') ?? undefined; break
      case 'CMD': stage.cmd = JSON.parse(args); break
      default: throw new Error(`${where}: ${op} is not replayed`)
    }
  }
  return stages
}

/** The build user's npm cache in the image (root's). */
const NPM_CACHE = '/root/.npm'

/** A RUN with only the environment given: none of the test runner's NODE_OPTIONS. */
function run(argv: string[], cwd: string, env: Record<string, string>): Promise<number | null> {
  const child = spawn(argv[0]!, argv.slice(1), { cwd, env, stdio: ['ignore', 'inherit', 'inherit'] })
  return new Promise((resolve, reject) => { child.once('error', reject); child.once('exit', resolve) })
}

/** .dockerignore as a test of a context-relative path: a pattern matches the path or a folder above it. */
function dockerignore(context: string): (path: string) => boolean {
  const file = join(context, '.dockerignore')
  const patterns = existsSync(file) ? readFileSync(file, 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#')) : []
  if (patterns.some((p) => p.startsWith('!') || p.includes('**'))) throw new Error('.dockerignore: ! and ** are not replayed')
  const res = patterns.map((p) => new RegExp(`^${p.replace(/^\/|\/$/g, '').replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')}$`))
  return (path) => {
    const parts = path.split('/')
    return parts.some((_, i) => res.some((re) => re.test(parts.slice(0, i + 1).join('/'))))
  }
}
