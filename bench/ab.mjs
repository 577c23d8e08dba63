// A/B of two builds of the engine, as whole servers: each build (a copy of dist/ in a folder of the
// project root, so that it resolves node_modules and schemas/) serves the shipped rules in a process of
// its own; load alternates between them, round after round, so a busy machine disturbs both alike.
// Prints the median requests/s and CPU per request of each.
//   npm run build && cp -r dist dist-a   (then change the code)   npm run build && cp -r dist dist-b
//   node bench/ab.mjs chat-anthropic dist-a dist-b
// scenarios: chat-anthropic chat-anthropic-stream chat-compat (suite.mjs's Chat requests), pass, and on
// Cursor's 10 KB Responses-shaped turn translate (→ Anthropic) gemini stream-anthropic stream-responses
import { spawn } from 'node:child_process'
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { request } from 'undici'
import { closeAgent, saturate, setMode } from './lib/load.mjs'
import { startScript } from './lib/processes.mjs'
import { chatRequest, cursorRequest } from './lib/transcripts.mjs'

const root = new URL('../', import.meta.url).pathname
const [scenario, ...builds] = process.argv.slice(2)
const SCENARIOS = {
  'chat-anthropic': ['/v1/chat/completions', JSON.stringify(chatRequest('claude-sonnet-4-6', false))],
  'chat-anthropic-stream': ['/v1/chat/completions', JSON.stringify(chatRequest('claude-sonnet-4-6', true))],
  'chat-compat': ['/v1/chat/completions', JSON.stringify(chatRequest('deepseek-chat', false))],
  pass: ['/bench/pass', JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }] })],
  translate: ['/cursor/chat/completions', JSON.stringify(cursorRequest('claude-sonnet-4-6', false))],
  gemini: ['/cursor/chat/completions', JSON.stringify(cursorRequest('gemini-2.5-pro', false))],
  'stream-anthropic': ['/cursor/chat/completions', JSON.stringify(cursorRequest('claude-sonnet-4-6', true))],
  'stream-responses': ['/cursor/chat/completions', JSON.stringify(cursorRequest('gpt-5.5', true))],
}
if (!SCENARIOS[scenario] || builds.length < 2) {
  process.stderr.write(`usage: node bench/ab.mjs <${Object.keys(SCENARIOS).join('|')}> <build folder> <build folder> …\n`)
  process.exit(2)
}
const [path, body] = SCENARIOS[scenario]

const mock = await startScript('mock-upstream.mjs')
await setMode(mock.url, { pace: 0, tokens: 100 })
const rulesDir = mkdtempSync(join(tmpdir(), 'bench-ab-'))
cpSync(`${root}rules/`, rulesDir, { recursive: true })
writeFileSync(join(rulesDir, '90-bench-pass.yaml'), readFileSync(`${root}bench/rules/pass.yaml`))
const env = {
  ...process.env, LOG_LEVEL: 'info', BENCH_MOCK_URL: mock.url,
  ANTHROPIC_BASE_URL: `${mock.url}/v1`, ANTHROPIC_API_KEY: 'bench', OPENAI_BASE_URL: `${mock.url}/v1`, OPENAI_API_KEY: 'bench',
  GEMINI_BASE_URL: `${mock.url}/v1beta`, GEMINI_API_KEY: 'bench', OPENAI_COMPAT_BASE_URL: `${mock.url}/v1`, OPENAI_COMPAT_API_KEY: 'bench',
}

const servers = []
for (const [i, build] of builds.entries()) {
  const port = 19300 + i
  const child = spawn(process.execPath, [`${root}${build}/main.js`, 'serve', '--rules', rulesDir, '--port', String(port), '--no-watch'], { env, stdio: ['ignore', 'ignore', 'inherit'] })
  const url = `http://127.0.0.1:${port}`
  for (let tries = 0; ; tries++) {
    try { const r = await request(`${url}/healthz`); await r.body.text(); break } catch { if (tries > 200) throw new Error(`${build} did not start`) }
    await new Promise((r) => setTimeout(r, 50))
  }
  const cpuMs = () => { const f = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1].split(' '); return (Number(f[11]) + Number(f[12])) * 10 }
  servers.push({ build, url, child, cpuMs, rps: [], cpu: [] })
}

for (const s of servers) await saturate({ url: s.url + path, body }, 16, 2)
for (let round = 0; round < 6; round++) {
  for (const s of servers) {
    const c0 = s.cpuMs()
    const r = await saturate({ url: s.url + path, body }, 16, 2)
    s.rps.push(r.rps)
    s.cpu.push(((s.cpuMs() - c0) * 1000) / r.done)
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1]
for (const s of servers) {
  process.stdout.write(`${scenario} ${s.build.padEnd(12)} ${median(s.rps).toFixed(0).padStart(6)} requests/s  ${median(s.cpu).toFixed(0).padStart(5)} µs CPU per request\n`)
  s.child.kill()
}
await mock.stop()
await closeAgent()
rmSync(rulesDir, { recursive: true, force: true })
