#!/usr/bin/env node
import { existsSync } from 'node:fs'

// A checkout builds dist/ on `npm install` (the `prepare` script); a production install
// (`npm ci --omit=dev`) has no TypeScript to build it with.
if (!existsSync(new URL('../dist/main.js', import.meta.url))) {
  process.stderr.write('route-engine: dist/ is not built. In a checkout run `npm install` (or `npm run build`);\n' +
    'a production install (`--omit=dev`) needs dist/ from a build: see docs/operations.md, "Install".\n')
  process.exit(1)
}
const { run } = await import('../dist/main.js')
run()
