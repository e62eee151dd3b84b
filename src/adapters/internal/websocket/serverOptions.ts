import type { Server } from 'node:http';
import { InvalidOptionError } from '../../../errors.js';
import type { WebSocketServerOptions } from '../../websocketTypes.js';
import { capConnections } from './fdLimit.js';
import { MAX_SESSION_ID_LENGTH } from './upgradeGate.js';
import { integerOption, functionOption } from '../../../options.js';

/** Server options with every default applied (and `maxConnections` capped below the open-file limit). */
export type ResolvedServerOptions = Required<Omit<WebSocketServerOptions, 'server' | 'path' | 'tokens' | 'authenticate' | 'inputSize' | 'allowedHosts' | 'onError'>> &
  Pick<WebSocketServerOptions, 'path' | 'tokens' | 'authenticate' | 'inputSize' | 'allowedHosts'>;

/**
 * Applies the defaults of {@link WebSocketServerOptions} and checks every option, throwing
 * `SEQ_INVALID_OPTION` naming the first bad one.
 *
 * @example
 * ```ts
 * resolveServerOptions({ port: 8080 }).maxConnections; // 1024 (or less under a low ulimit -n)
 * ```
 */
export function resolveServerOptions(options: WebSocketServerOptions): ResolvedServerOptions {
  const o: ResolvedServerOptions = {
    port: options.port ?? 0,
    host: options.host ?? '127.0.0.1',
    path: options.path,
    maxPayload: options.maxPayload ?? 65536,
    maxConnections: options.maxConnections ?? 1024,
    maxSessions: options.maxSessions ?? Math.max(2048, 2 * (options.maxConnections ?? 0)),
    messagesPerSecond: options.messagesPerSecond ?? 100,
    burst: options.burst ?? 200,
    idleTimeoutMs: options.idleTimeoutMs ?? 60000,
    sessionHoldMs: options.sessionHoldMs ?? 60000,
    maxBufferedBytes: options.maxBufferedBytes ?? 262144,
    slowReaderPolicy: options.slowReaderPolicy ?? 'drop-oldest',
    tokens: options.tokens,
    authenticate: options.authenticate,
    authTimeoutMs: options.authTimeoutMs ?? 10000,
    allowedOrigins: options.allowedOrigins ?? 'same-host',
    allowedHosts: options.allowedHosts,
    format: options.format ?? 'auto',
    inputSize: options.inputSize,
    minSessionIdLength: options.minSessionIdLength ?? 16,
    hello: options.hello ?? true,
  };
  const int = (name: keyof ResolvedServerOptions, min: number): void => {
    integerOption(name, o[name], undefined, min);
  };
  int('port', 0);
  if (o.port > 65535) throw new InvalidOptionError('port', 'an integer in [0, 65535]', o.port);
  int('maxPayload', 1);
  int('maxConnections', 1);
  int('maxSessions', 1);
  if (o.maxSessions < o.maxConnections) throw new InvalidOptionError('maxSessions', `an integer >= maxConnections (${o.maxConnections})`, o.maxSessions);
  int('burst', 1);
  int('idleTimeoutMs', 1);
  int('sessionHoldMs', 0);
  int('maxBufferedBytes', 1);
  int('authTimeoutMs', 1);
  int('minSessionIdLength', 1);
  if (o.minSessionIdLength > MAX_SESSION_ID_LENGTH) throw new InvalidOptionError('minSessionIdLength', `an integer in [1, ${MAX_SESSION_ID_LENGTH}]`, o.minSessionIdLength);
  if (typeof o.messagesPerSecond !== 'number' || !(o.messagesPerSecond > 0) || !Number.isFinite(o.messagesPerSecond)) {
    throw new InvalidOptionError('messagesPerSecond', 'a positive finite number', o.messagesPerSecond);
  }
  if (o.inputSize !== undefined && (!Number.isInteger(o.inputSize) || o.inputSize < 1)) throw new InvalidOptionError('inputSize', 'a positive integer', o.inputSize);
  if (o.slowReaderPolicy !== 'drop-oldest' && o.slowReaderPolicy !== 'close') throw new InvalidOptionError('slowReaderPolicy', "'drop-oldest' or 'close'", o.slowReaderPolicy);
  if (o.format !== 'auto' && o.format !== 'json' && o.format !== 'text') throw new InvalidOptionError('format', "'auto', 'json' or 'text'", o.format);
  if (typeof o.host !== 'string') throw new InvalidOptionError('host', 'a string', o.host);
  if (o.path !== undefined && (typeof o.path !== 'string' || !o.path.startsWith('/'))) throw new InvalidOptionError('path', "a string starting with '/'", o.path);
  const ao = o.allowedOrigins;
  if (ao !== 'same-host' && ao !== '*' && !(Array.isArray(ao) && ao.every((s) => typeof s === 'string'))) {
    throw new InvalidOptionError('allowedOrigins', "'same-host', '*' or an array of origin strings", ao);
  }
  const ah = o.allowedHosts;
  if (ah !== undefined && ah !== '*' && !(Array.isArray(ah) && ah.every((s) => typeof s === 'string' && s.length > 0))) {
    throw new InvalidOptionError('allowedHosts', "'*' or an array of host names", ah);
  }
  if (o.tokens !== undefined && !(Array.isArray(o.tokens) && o.tokens.length > 0 && o.tokens.every((t) => typeof t === 'string' && t.length > 0))) {
    throw new InvalidOptionError('tokens', 'a non-empty array of non-empty strings', o.tokens);
  }
  functionOption('authenticate', o.authenticate);
  if (options.server !== undefined && typeof (options.server as Server).on !== 'function') throw new InvalidOptionError('server', 'an http.Server', options.server);
  o.maxConnections = capConnections(o.maxConnections);
  return o;
}
