// The container's health check: exit 0 when this container's server answers GET /readyz with 200
// (rules loaded, not draining), 1 otherwise. It reads the server's own HOST-independent settings:
// PORT, and HTTPS when a certificate is set (not verified: it is issued for a public name, not 127.0.0.1).
import { get as getHttp } from 'node:http'
import { get as getHttps } from 'node:https'

const tls = Boolean(process.env.ROUTE_ENGINE_TLS_CERT)
const url = `${tls ? 'https' : 'http'}://127.0.0.1:${process.env.PORT || 8787}/readyz`
const req = (tls ? getHttps : getHttp)(url, { rejectUnauthorized: false, timeout: 2000 }, (res) => {
  res.resume()
  process.exitCode = res.statusCode === 200 ? 0 : 1
})
req.on('timeout', () => req.destroy(new Error('no answer in 2 s')))
req.on('error', (err) => { console.error(`${url}: ${err.message}`); process.exitCode = 1 })
