import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import type { MiddlewareHandler } from 'hono'
import { getCookie, setCookie } from 'hono/cookie'
import { isLoopback } from './options.js'

export const TOKEN_COOKIE = 'nenc_monitor_token'

const digest = (s: string) => createHash('sha256').update(s).digest()
const same = (a: string, b: string) => timingSafeEqual(digest(a), digest(b))

/** A fresh CSRF token for one server (every form carries it; POSTs must send it back). */
export const newCsrfToken = (): string => randomBytes(24).toString('base64url')

/**
 * Headers on every response: no framing, no sniffing, no referrer, and scripts from the monitor
 * only (htmx and monitor.js are served by the package; no CDN, no inline script).
 */
export const securityHeaders: MiddlewareHandler = async (c, next) => {
  await next()
  c.header(
    'Content-Security-Policy',
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
  )
  c.header('X-Content-Type-Options', 'nosniff')
  c.header('X-Frame-Options', 'DENY')
  c.header('Referrer-Policy', 'no-referrer')
  c.header('Cache-Control', 'no-store')
}

/**
 * With a token: every request must carry it — `Authorization: Bearer <token>`, the cookie, or
 * `?token=` (which sets the cookie and redirects to the URL without it). Without one (loopback
 * only): the Host header must name a loopback host, so a web page elsewhere cannot reach the
 * monitor through DNS rebinding.
 */
export function authenticate(token: string | null): MiddlewareHandler {
  return async (c, next) => {
    if (token === null) {
      const host = (c.req.header('host') ?? '').replace(/:\d+$/, '')
      if (!isLoopback(host)) return c.text('Forbidden: the monitor answers loopback host names only.', 403)
      return next()
    }
    const url = new URL(c.req.url)
    const query = url.searchParams.get('token')
    if (query !== null && same(query, token)) {
      setCookie(c, TOKEN_COOKIE, token, { httpOnly: true, sameSite: 'Strict', path: '/' })
      url.searchParams.delete('token')
      return c.redirect(`${url.pathname}${url.search}`, 303)
    }
    const bearer = /^Bearer (.+)$/.exec(c.req.header('authorization') ?? '')?.[1]
    const given = bearer ?? getCookie(c, TOKEN_COOKIE)
    if (given !== undefined && same(given, token)) return next()
    c.header('WWW-Authenticate', 'Bearer realm="nenc monitor"')
    return c.text('Unauthorized: this monitor requires its token (open it once with ?token=…).', 401)
  }
}

/** POSTs must send the server's CSRF token (`_csrf` form field or `X-CSRF-Token`) and, when sent, a same-origin Origin. */
export function checkCsrf(csrf: string): MiddlewareHandler {
  return async (c, next) => {
    if (c.req.method !== 'POST') return next()
    const origin = c.req.header('origin')
    if (origin && origin !== 'null' && new URL(origin).host !== c.req.header('host')) {
      return c.text('Forbidden: cross-origin request.', 403)
    }
    let sent = c.req.header('x-csrf-token')
    if (sent === undefined) {
      const body = await c.req.parseBody()
      sent = typeof body._csrf === 'string' ? body._csrf : undefined
    }
    if (sent === undefined || !same(sent, csrf)) return c.text('Forbidden: missing or wrong CSRF token.', 403)
    return next()
  }
}
