import { createHash } from 'node:crypto';
import type { WebSocketAuthRequest } from '../../websocketTypes.js';
import { safeEqual, type GateRefusal } from './upgradeGate.js';

/** What {@link authorise} needs from the server options. */
export interface AuthPolicy {
  tokens?: readonly string[];
  authenticate?: (request: WebSocketAuthRequest) => boolean | string | Promise<boolean | string>;
  authTimeoutMs: number;
}

/** An authorised request: who it is (`null`: nobody in particular), to bind its session to. */
export interface AuthPass {
  identity: string | null;
}

/**
 * Checks `tokens` (constant time) then `authenticate` (bounded by `authTimeoutMs`), and names
 * the identity a session is bound to: the string `authenticate` returned, else the token used
 * (hashed, so identities never hold secrets), else `null`.
 *
 * @example
 * ```ts
 * await authorise(request, { tokens: ['s3cret'], authTimeoutMs: 10000 }); // { identity: 'token:…' } or a 401 refusal
 * ```
 */
export async function authorise(request: WebSocketAuthRequest, policy: AuthPolicy): Promise<AuthPass | GateRefusal> {
  if (policy.tokens && !(request.token !== null && policy.tokens.some((t) => safeEqual(t, request.token!)))) {
    return { status: 401, code: 'SEQ_WS_UNAUTHORIZED', message: 'Missing or wrong token' };
  }
  const tokenIdentity = policy.tokens && request.token !== null ? `token:${createHash('sha256').update(request.token).digest('hex')}` : null;
  if (!policy.authenticate) return { identity: tokenIdentity };
  let timer: NodeJS.Timeout | undefined;
  try {
    const verdict = await Promise.race([
      Promise.resolve().then(() => policy.authenticate!(request)),
      new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), policy.authTimeoutMs))),
    ]);
    if (verdict === 'timeout') return { status: 503, code: 'SEQ_WS_AUTH_TIMEOUT', message: `Authentication took longer than ${policy.authTimeoutMs} ms` };
    if (typeof verdict === 'string' && verdict.length > 0) return { identity: `id:${verdict}` };
    return verdict === true ? { identity: tokenIdentity } : { status: 401, code: 'SEQ_WS_UNAUTHORIZED', message: 'Authentication refused' };
  } catch {
    return { status: 401, code: 'SEQ_WS_UNAUTHORIZED', message: 'Authentication failed' };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Whether `identity` may take over a session bound to `owner` (a session with no owner is a bearer
 * secret: its id alone is enough).
 *
 * @example
 * ```ts
 * mayResume('id:alice', 'id:bob'); // false
 * ```
 */
export function mayResume(owner: string | null, identity: string | null): boolean {
  return owner === null || owner === identity;
}
