// The schemas editors use (VS Code + the YAML extension): every shipped rule file, stream program and
// example validates against its schema and names it on its first line; every property has a
// description; every `examples` value in a schema validates against the schema it illustrates.
import t from 'tap'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { Ajv } from 'ajv'
import { parse } from 'yaml'

const root = new URL('../../', import.meta.url).pathname
const rules = join(root, 'rules')
const schemas = join(root, 'schemas')
const NAMES = ['rules.schema.json', 'stream.schema.json', 'example.schema.json']

function load() {
  const ajv = new Ajv({ allErrors: true, strict: false })
  for (const n of NAMES) ajv.addSchema(JSON.parse(readFileSync(join(schemas, n), 'utf8')), n)
  return ajv
}

const yamlFiles = (readdirSync(rules, { recursive: true }) as string[]).filter((f) => /\.ya?ml$/.test(f)).map((f) => join(rules, f)).sort()
const RULE_KEYS = ['rules', 'upstreams', 'pipelines', 'aliases', 'models', 'vars']

function schemaOf(file: string, data: Record<string, unknown>): string {
  if (relative(rules, file).startsWith('examples/')) return 'example.schema.json'
  return RULE_KEYS.some((k) => k in data) ? 'rules.schema.json' : 'stream.schema.json'
}

t.test('every shipped YAML file validates against the schema its first line names', async (t) => {
  const ajv = load()
  const kinds = new Map<string, number>()
  for (const file of yamlFiles) {
    const text = readFileSync(file, 'utf8')
    const data = parse(text, { merge: true }) as Record<string, unknown>
    const kind = schemaOf(file, data)
    kinds.set(kind, (kinds.get(kind) ?? 0) + 1)
    const name = relative(root, file)
    const first = /^# yaml-language-server: \$schema=(\S+)\n/.exec(text)
    t.ok(first, `${name} names its schema on the first line`)
    if (first) t.equal(resolve(dirname(file), first[1]!), join(schemas, kind), `${name} → ${kind}`)
    const validate = ajv.getSchema(kind)!
    t.ok(validate(data), `${name}: ${JSON.stringify(validate.errors?.slice(0, 3))}`)
  }
  t.ok((kinds.get('rules.schema.json') ?? 0) >= 5, 'the rule files')
  t.ok((kinds.get('stream.schema.json') ?? 0) >= 4, 'the stream programs')
  t.ok((kinds.get('example.schema.json') ?? 0) >= 20, 'the examples')
})

t.test('the schema rejects what an editor should flag', async (t) => {
  const v = load().getSchema('rules.schema.json')!
  t.notOk(v({ rules: [{ name: 'x', match: { modle: 'a' }, reply: {} }] }), 'a misspelt key')
  t.notOk(v({ rules: [{ name: 'x', match: { method: 'FETCH' }, reply: {} }] }), 'an unknown method')
  t.notOk(v({ rules: [{ name: 'x', match: {}, reply: {}, drops: { user: '' } }] }), 'a drop without its reason')
  t.ok(v({ rules: [{ name: 'x', match: { method: ['GET', 'POST'] }, reply: {}, drops: { 'a.*.b': { reason: 'r', match: '^x' } }, outputs: { body: { type: 'object' } } }] }))
  const e = load().getSchema('example.schema.json')!
  t.notOk(e({ request: { path: '/x', body: {}, bodyFile: 'a.json' }, expect: {} }), 'body and bodyFile together')
  t.notOk(e({ request: { path: '/x' }, expect: { client: { frames: { $contains: [], $absent: true } } } }), 'two operators in one object')
})

function* nodes(n: unknown, pointer: string): Generator<[string, Record<string, unknown>]> {
  if (!n || typeof n !== 'object') return
  if (Array.isArray(n)) { for (const [i, x] of n.entries()) yield* nodes(x, `${pointer}/${i}`); return }
  const o = n as Record<string, unknown>
  yield [pointer, o]
  for (const [k, v] of Object.entries(o)) if (k !== 'examples' && k !== 'enum' && k !== 'default') yield* nodes(v, `${pointer}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`)
}

t.test('every property has a description; every example validates against its schema', async (t) => {
  const ajv = load()
  let described = 0
  let examples = 0
  for (const name of NAMES) {
    const schema = JSON.parse(readFileSync(join(schemas, name), 'utf8'))
    for (const [pointer, node] of nodes(schema, '')) {
      for (const [key, prop] of Object.entries((node.properties ?? {}) as Record<string, Record<string, unknown>>)) {
        t.ok(typeof prop.description === 'string' && prop.description.length > 3, `${name}#${pointer}/properties/${key} has a description`)
        described++
      }
      if (Array.isArray(node.examples)) {
        const validate = ajv.compile({ $ref: `${name}#${pointer}` })
        for (const ex of node.examples) {
          t.ok(validate(ex), `${name}#${pointer} example ${JSON.stringify(ex)}: ${JSON.stringify(validate.errors?.[0])}`)
          examples++
        }
      }
    }
  }
  t.ok(described > 80, `${described} properties described`)
  t.ok(examples > 20, `${examples} schema examples checked`)
})

t.test('the README says how to get completion in VS Code', async (t) => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8')
  t.match(readme, /### Editor completion \(VS Code\)/)
  t.match(readme, /redhat\.vscode-yaml/)
  t.match(readme, /yaml\.schemas/)
  t.ok(existsSync(join(root, 'docs/guide.md')), 'the guide exists')
})
