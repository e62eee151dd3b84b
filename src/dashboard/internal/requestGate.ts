import type { IncomingMessage } from 'node:http';
import { bearerToken, header, hostAllowed, originAllowed, safeEqual } from '../../adapters/internal/websocket/upgradeGate.js';

export { isLoopbackAddress, LOOPBACK_HOSTS } from '../../adapters/internal/websocket/upgradeGate.js';

/**
 * The dashboard's request checks: the websocket server's own gate functions (a `Host` allowlist
 * that defaults to loopback names when bound to loopback, which stops DNS rebinding; an `Origin`
 * that must name the same host; constant-time token comparison), applied to every page, asset and
 * socket request, plus the dashboard's token cookie.
 */

/** Name of the cookie that carries the token after the first authorised page load. */
export const TOKEN_COOKIE = 'seqstream_dashboard';

/** Why a request was refused: HTTP status, stable code, message. */
export interface DashboardRefusal {
  status: 401 | 403;
  code: 'SEQ_DASHBOARD_HOST' | 'SEQ_DASHBOARD_ORIGIN' | 'SEQ_DASHBOARD_TOKEN';
  message: string;
}

/** What the gate checks against. */
export interface DashboardGatePolicy {
  allowedHosts: '*' | readonly string[];
  /** `'same-host'`: no Origin, or one whose host equals the Host header; a list: those origins. */
  allowedOrigins: 'same-host' | '*' | readonly string[];
  token: string | null;
}

/**
 * Checks one request (page, asset or websocket upgrade) and returns why it is refused, or null.
 *
 * @example
 * ```ts
 * const refusal = checkRequest(req, { allowedHosts: LOOPBACK_HOSTS, allowedOrigins: 'same-host', token: null });
 * if (refusal) res.writeHead(refusal.status).end(refusal.code);
 * ```
 */
export function checkRequest(req: IncomingMessage, policy: DashboardGatePolicy): DashboardRefusal | null {
  const host = header(req.headers, 'host');
  if (!hostAllowed(host, policy.allowedHosts)) return { status: 403, code: 'SEQ_DASHBOARD_HOST', message: `Host ${JSON.stringify(host)} is not allowed` };
  const origin = header(req.headers, 'origin');
  if (!originAllowed(origin, host?.toLowerCase() ?? null, policy.allowedOrigins)) return { status: 403, code: 'SEQ_DASHBOARD_ORIGIN', message: `Origin ${JSON.stringify(origin)} is not allowed` };
  if (policy.token !== null) {
    const given = requestToken(req);
    if (given === null || !safeEqual(given, policy.token)) return { status: 401, code: 'SEQ_DASHBOARD_TOKEN', message: 'a valid token is required (?token=...)' };
  }
  return null;
}

/**
 * The token a request carries: `Authorization: Bearer`, `?token=`, or the dashboard cookie.
 *
 * @example
 * ```ts
 * requestToken(req); // 's3cret' for GET /?token=s3cret
 * ```
 */
export function requestToken(req: IncomingMessage): string | null {
  const given = bearerToken(req.headers, new URL(req.url ?? '/', 'http://x'));
  if (given) return given;
  const cookie = header(req.headers, 'cookie');
  if (cookie) {
    for (const part of cookie.split(';')) {
      const [name, ...rest] = part.trim().split('=');
      if (name === TOKEN_COOKIE) return decodeURIComponent(rest.join('='));
    }
  }
  return null;
}
