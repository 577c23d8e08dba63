// Upstream path and header templates → text. Values from a request must not change where a call goes
// or which headers it carries: a path value is percent-encoded as one URL component (so `/ ? # \ %`
// stay inside their segment or parameter), a path that would end up with a `.`/`..` segment is
// refused (URL parsers resolve them, encoded or not), and a header value that holds a control
// character or a character beyond Latin-1 is refused. `{raw: …}` parts of a path are pasted as they
// are: the rule vouches for them (lint warns when they can carry request values).
import { RouteError } from '../errors.js'
import { evaluate } from '../expr/evaluate.js'
import type { Template, TemplateValue } from '../ruleset/ruleset.js'

export async function renderPath(t: Template, body: unknown, bindings: Record<string, unknown>, rule: string): Promise<string> {
  let out = ''
  let dynamic = false
  for (const p of t.parts) {
    if (typeof p === 'string') { out += p; continue }
    dynamic = true
    const text = await valueText(p, body, bindings, rule)
    if (p.raw) { out += text; continue }
    try {
      out += encodeURIComponent(text)
    } catch {
      throw unsafe(p, rule, 'the upstream path', 'is not valid Unicode (it holds a lone surrogate)')
    }
  }
  if (dynamic) {
    const dots = dotSegment(out)
    if (dots !== null) throw new RouteError('RE_UNSAFE_TEMPLATE_VALUE', `bad input: a value of the request would make the upstream path a '${dots}' segment, which leaves its place in the URL (rule '${rule}', upstream.path)`, { rule })
  }
  return out
}

export async function renderHeader(name: string, t: Template, body: unknown, bindings: Record<string, unknown>, rule: string): Promise<string> {
  let out = ''
  for (const p of t.parts) {
    if (typeof p === 'string') { out += p; continue }
    const text = await valueText(p, body, bindings, rule)
    const bad = HEADER_UNSAFE.exec(text)
    if (bad) {
      const ch = `U+${bad[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`
      throw unsafe(p, rule, `upstream header '${name}'`, `holds the character ${ch} at offset ${bad.index}: a header value cannot hold control characters or characters beyond U+00FF`)
    }
    out += text
  }
  return out
}

async function valueText(p: TemplateValue, body: unknown, bindings: Record<string, unknown>, rule: string): Promise<string> {
  return String((await evaluate(p.value, body, bindings, rule)) ?? '')
}

/** What HTTP allows in a field value, as undici sends it (Latin-1): tab, visible ASCII, 0x80–0xFF. */
const HEADER_UNSAFE = /[^\t\x20-\x7e\x80-\xff]/u

/** A `.` or `..` path segment as WHATWG URL parsing sees it (`%2e` counts as a dot); null when none. */
function dotSegment(path: string): string | null {
  const end = path.search(/[?#]/)
  for (const seg of (end === -1 ? path : path.slice(0, end)).split(/[/\\]/)) {
    const s = seg.toLowerCase().replaceAll('%2e', '.')
    if (s === '.' || s === '..') return seg
  }
  return null
}

function unsafe(p: TemplateValue, rule: string, where: string, what: string): RouteError {
  const { file, line, col } = p.value.at
  return new RouteError('RE_UNSAFE_TEMPLATE_VALUE', `bad input: the value of {${p.value.expr.source}} for ${where} ${what} (rule '${rule}', ${file}:${line}:${col})`, { rule })
}
