// The `server-timing` response header: how long each phase of the request took, in ms, for browser
// dev tools and clients that read it. Set just before the headers go out; a retried request shows
// the phases of the try that answered.
import type { ServerResponse } from 'node:http'

export interface Phases {
  match?: number
  transforms?: number
  connect?: number
  firstByte?: number
}

const NAMES: [keyof Phases, string][] = [['match', 'match'], ['transforms', 'transforms'], ['connect', 'connect'], ['firstByte', 'firstbyte']]

export function setServerTiming(res: ServerResponse, p: Phases): void {
  if (res.headersSent) return
  let v = ''
  for (const [k, name] of NAMES) {
    const ms = p[k]
    if (ms !== undefined) v += `${v ? ', ' : ''}${name};dur=${ms.toFixed(2)}`
  }
  if (v) res.setHeader('server-timing', v)
}
