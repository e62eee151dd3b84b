import { timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { describe } from '../../../errors.js';

/** Why an upgrade (or a page request) is refused: HTTP status, stable code, message. */
export interface GateRefusal {
  status: number;
  code: string;
  message: string;
}

/** What the gate needs to know about a request: its URL and headers, nothing else. */
export interface GateRequest {
  url?: string;
  headers: IncomingHttpHeaders;
}

/** The request checks of {@link checkUpgrade}, resolved from server options. */
export interface GatePolicy {
  /** Only this path (others: 404); undefined = any path. */
  path?: string;
  /** Host names the `Host` header may name, or `'*'`. */
  allowedHosts: '*' | readonly string[];
  /** Browser origins allowed (see `WebSocketServerOptions.allowedOrigins`). */
  allowedOrigins: 'same-host' | '*' | readonly string[];
  /** Shortest accepted `?session=` id. */
  minSessionIdLength: number;
}

/** A request that passed {@link checkUpgrade}: the parsed URL, session id and bearer token. */
export interface GatePass {
  url: URL;
  session: string | null;
  token: string | null;
  origin: string | null;
}

const SESSION_CHARS = /^[A-Za-z0-9._~-]+$/;
/** Longest session id accepted. */
export const MAX_SESSION_ID_LENGTH = 128;
/** Host names accepted by default when the server is bound to a loopback address. */
export const LOOPBACK_HOSTS: readonly string[] = Object.freeze(['localhost', '127.0.0.1', '::1']);

/**
 * Checks an HTTP request against the policy, in this order: URL syntax (400), path (404), `Host`
 * allowlist (403 `SEQ_WS_HOST`), origin allowlist (403 `SEQ_WS_ORIGIN`), session id syntax and
 * length (400 `SEQ_WS_BAD_SESSION`). Pure: no I/O, no state. Shared by the websocket server and the
 * dashboard, so both stop DNS rebinding the same way.
 *
 * @example
 * ```ts
 * const verdict = checkUpgrade({ url: '/?session=abc', headers: { host: 'localhost:8080' } },
 *   { allowedHosts: LOOPBACK_HOSTS, allowedOrigins: 'same-host', minSessionIdLength: 16 });
 * // { status: 400, code: 'SEQ_WS_BAD_SESSION', ... }: 'abc' is too short to be a secret
 * ```
 */
export function checkUpgrade(request: GateRequest, policy: GatePolicy): GatePass | GateRefusal {
  let url: URL;
  try {
    url = new URL(request.url ?? '/', 'http://localhost');
  } catch {
    return { status: 400, code: 'SEQ_WS_BAD_REQUEST', message: 'Request URL does not parse' };
  }
  if (policy.path !== undefined && url.pathname !== policy.path) {
    return { status: 404, code: 'SEQ_WS_NOT_FOUND', message: `No websocket endpoint at ${url.pathname}` };
  }
  const host = header(request.headers, 'host');
  if (!hostAllowed(host, policy.allowedHosts)) {
    return { status: 403, code: 'SEQ_WS_HOST', message: `Host ${describe(host)} is not allowed (allowedHosts)` };
  }
  const origin = header(request.headers, 'origin');
  if (!originAllowed(origin, host, policy.allowedOrigins)) {
    return { status: 403, code: 'SEQ_WS_ORIGIN', message: `Origin ${describe(origin)} is not allowed` };
  }
  const session = url.searchParams.get('session');
  if (session !== null && !sessionIdAllowed(session, policy.minSessionIdLength)) {
    return {
      status: 400,
      code: 'SEQ_WS_BAD_SESSION',
      message: `Session id must be ${policy.minSessionIdLength}-${MAX_SESSION_ID_LENGTH} characters of [A-Za-z0-9._~-] (it is a bearer secret: use a random one)`,
    };
  }
  return { url, session, token: bearerToken(request.headers, url), origin };
}

/**
 * `true` when `id` is a well-formed session id of at least `minLength` characters.
 *
 * @example
 * ```ts
 * sessionIdAllowed('1', 16); // false
 * ```
 */
export function sessionIdAllowed(id: string, minLength: number): boolean {
  return id.length >= minLength && id.length <= MAX_SESSION_ID_LENGTH && SESSION_CHARS.test(id);
}

/**
 * The bearer token of a request: `Authorization: Bearer <token>`, else the `token` query parameter.
 *
 * @example
 * ```ts
 * bearerToken({ authorization: 'Bearer s3cret' }, new URL('http://x/')); // 's3cret'
 * ```
 */
export function bearerToken(headers: IncomingHttpHeaders, url: URL): string | null {
  const auth = header(headers, 'authorization');
  return auth && /^Bearer\s+/i.test(auth) ? auth.replace(/^Bearer\s+/i, '') : url.searchParams.get('token');
}

/**
 * A single-valued header, or `null`.
 *
 * @example
 * ```ts
 * header({ host: 'localhost' }, 'host'); // 'localhost'
 * ```
 */
export function header(headers: IncomingHttpHeaders, name: string): string | null {
  const v = headers[name];
  return typeof v === 'string' ? v : null;
}

/**
 * Whether a browser `Origin` may connect: no `Origin` (not a browser) always may; `'same-host'`
 * needs its host to equal the `Host` header; a list needs an exact match; `'*'` allows any.
 *
 * @example
 * ```ts
 * originAllowed('http://evil.example', 'localhost:8080', 'same-host'); // false
 * ```
 */
export function originAllowed(origin: string | null, host: string | null, allowed: 'same-host' | '*' | readonly string[]): boolean {
  if (allowed === '*' || origin === null) return true;
  if (allowed === 'same-host') {
    try {
      return host !== null && new URL(origin).host === host;
    } catch {
      return false;
    }
  }
  return allowed.includes(origin);
}

/**
 * Whether a `Host` header names one of the allowed host names (port, case, IPv6 brackets and a
 * trailing dot ignored); a missing header never passes a list.
 *
 * @example
 * ```ts
 * hostAllowed('LOCALHOST.:8080', LOOPBACK_HOSTS); // true
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
 * Whether a bound address is a loopback one (then only loopback host names are accepted).
 *
 * @example
 * ```ts
 * isLoopbackAddress('::ffff:127.0.0.1'); // true
 * ```
 */
export function isLoopbackAddress(address: string): boolean {
  return address === '::1' || /^(::ffff:)?127\./i.test(address) || address === 'localhost';
}

/**
 * Constant-time string comparison (for tokens).
 *
 * @example
 * ```ts
 * safeEqual('s3cret', 's3cret'); // true
 * ```
 */
export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Host name of a `Host` header: lower case, port, IPv6 brackets and one trailing dot removed. */
function hostName(value: string): string {
  const v = value.trim().toLowerCase();
  const name = v.startsWith('[') ? v.slice(1, v.indexOf(']') === -1 ? undefined : v.indexOf(']')) : v.replace(/:\d*$/, '');
  return name.endsWith('.') ? name.slice(0, -1) : name;
}

function normaliseHost(name: string): string {
  const v = name.trim().toLowerCase();
  return v.startsWith('[') && v.endsWith(']') ? v.slice(1, -1) : v;
}
