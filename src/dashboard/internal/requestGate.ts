import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/**
 * The dashboard's request checks, pure functions of a request's headers: the same Host and
 * Origin rules as `websocketServer` (a `Host` allowlist that defaults to loopback names when bound
 * to loopback, which stops DNS rebinding; an Origin that must name the same host), plus a bearer
 * token taken from `?token=`, `Authorization: Bearer` or the dashboard's cookie.
 */

/** Host names a loopback-bound server accepts in the `Host` header. */
export const LOOPBACK_HOSTS: readonly string[] = Object.freeze(['localhost', '127.0.0.1', '::1']);

/** Name of the cookie that carries the token after the first authorised page load. */
export const TOKEN_COOKIE = 'seqstream_dashboard';

/** Why a request was refused: HTTP status, stable code, message. */
export interface GateRefusal {
  status: 401 | 403;
  code: 'SEQ_DASHBOARD_HOST' | 'SEQ_DASHBOARD_ORIGIN' | 'SEQ_DASHBOARD_TOKEN';
  message: string;
}

/** What the gate checks against. */
export interface GatePolicy {
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
export function checkRequest(req: IncomingMessage, policy: GatePolicy): GateRefusal | null {
  const host = header(req, 'host');
  if (!hostAllowed(host, policy.allowedHosts)) return { status: 403, code: 'SEQ_DASHBOARD_HOST', message: `Host ${JSON.stringify(host)} is not allowed` };
  const origin = header(req, 'origin');
  if (!originAllowed(origin, host, policy.allowedOrigins)) return { status: 403, code: 'SEQ_DASHBOARD_ORIGIN', message: `Origin ${JSON.stringify(origin)} is not allowed` };
  if (policy.token !== null) {
    const given = requestToken(req);
    if (given === null || !safeEqual(given, policy.token)) return { status: 401, code: 'SEQ_DASHBOARD_TOKEN', message: 'a valid token is required (?token=...)' };
  }
  return null;
}

/**
 * The token a request carries: `?token=`, `Authorization: Bearer ...`, or the dashboard cookie.
 *
 * @example
 * ```ts
 * requestToken(req); // 's3cret' for GET /?token=s3cret
 * ```
 */
export function requestToken(req: IncomingMessage): string | null {
  const query = new URL(req.url ?? '/', 'http://x').searchParams.get('token');
  if (query) return query;
  const auth = header(req, 'authorization');
  if (auth?.startsWith('Bearer ')) return auth.slice(7).trim();
  const cookie = header(req, 'cookie');
  if (cookie) {
    for (const part of cookie.split(';')) {
      const [name, ...rest] = part.trim().split('=');
      if (name === TOKEN_COOKIE) return decodeURIComponent(rest.join('='));
    }
  }
  return null;
}

/**
 * Whether `address` is a loopback address (then the Host allowlist defaults to loopback names).
 *
 * @example
 * ```ts
 * isLoopbackAddress('127.0.0.1'); // true
 * ```
 */
export function isLoopbackAddress(address: string): boolean {
  return address === '::1' || /^(::ffff:)?127\./i.test(address) || address === 'localhost';
}

/**
 * Whether the `Host` header names an allowed host (port, IPv6 brackets, one trailing dot ignored).
 *
 * @example
 * ```ts
 * hostAllowed('127.0.0.1:8080', LOOPBACK_HOSTS); // true
 * hostAllowed('attacker.example', LOOPBACK_HOSTS); // false
 * ```
 */
export function hostAllowed(host: string | null, allowed: '*' | readonly string[]): boolean {
  if (allowed === '*') return true;
  if (host === null) return false;
  const name = hostName(host);
  return allowed.some((a) => normaliseHost(a) === name);
}

/**
 * Whether a request's `Origin` is allowed (`'same-host'`: absent, or its host equals `Host`).
 *
 * @example
 * ```ts
 * originAllowed('http://127.0.0.1:8080', '127.0.0.1:8080', 'same-host'); // true
 * ```
 */
export function originAllowed(origin: string | null, host: string | null, allowed: 'same-host' | '*' | readonly string[]): boolean {
  if (allowed === '*' || origin === null) return true;
  if (allowed === 'same-host') {
    try {
      return host !== null && new URL(origin).host === host.toLowerCase();
    } catch {
      return false;
    }
  }
  return allowed.includes(origin);
}

function header(req: IncomingMessage, name: string): string | null {
  const v = req.headers[name];
  return typeof v === 'string' ? v : null;
}

function hostName(value: string): string {
  const v = value.trim().toLowerCase();
  const name = v.startsWith('[') ? v.slice(1, v.indexOf(']') === -1 ? undefined : v.indexOf(']')) : v.replace(/:\d*$/, '');
  return name.endsWith('.') ? name.slice(0, -1) : name;
}

function normaliseHost(name: string): string {
  const v = name.trim().toLowerCase();
  return v.startsWith('[') && v.endsWith(']') ? v.slice(1, -1) : v;
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
