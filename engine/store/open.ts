// The store a server uses, from its setting (ROUTE_ENGINE_STORE / --store): `memory` (the default)
// or a Redis URL, redis://[user:password@]host:port/db or rediss:// for TLS.
import type { Logger } from '../log.js'
import { MemoryStore } from './memory.js'
import type { StoreErrorReason } from './outage.js'
import { RedisStore } from './redis.js'
import type { Store } from './store.js'

export interface StoreSettings {
  /** `memory`, a redis:// or rediss:// URL; unset = memory. */
  url?: string
  prefix: string
  timeoutMs: number
  logger: Logger
  onError?: (op: string, reason: StoreErrorReason) => void
}

/** Throws, naming the setting, when it is neither; never with the URL in the message (it may hold a password). */
export function checkStoreSetting(url: string | undefined): 'memory' | 'redis' {
  if (url === undefined || url === '' || url === 'memory') return 'memory'
  if (!/^rediss?:\/\//.test(url)) throw new Error('ROUTE_ENGINE_STORE (--store): expected "memory", redis://host:port/db or rediss://host:port/db')
  let u: URL
  try { u = new URL(url) } catch { throw new Error('ROUTE_ENGINE_STORE (--store): not a valid URL') }
  if (!u.hostname) throw new Error('ROUTE_ENGINE_STORE (--store): the URL names no host')
  if (u.pathname.length > 1 && !/^\/\d+$/.test(u.pathname)) throw new Error('ROUTE_ENGINE_STORE (--store): the database after the host must be a number (redis://host:6379/0)')
  return 'redis'
}

/** Opens the store; a Redis that is unreachable now is an outage, not a failure to start. */
export async function openStore(s: StoreSettings): Promise<Store> {
  if (checkStoreSetting(s.url) === 'memory') return new MemoryStore()
  const store = new RedisStore({ url: s.url!, prefix: s.prefix, timeoutMs: s.timeoutMs, logger: s.logger, onError: s.onError })
  await store.connect()
  return store
}
