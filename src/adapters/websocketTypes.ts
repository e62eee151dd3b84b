import type { IncomingMessage, Server } from 'node:http';
import type { Observable, MonoTypeOperatorFunction } from 'rxjs';
import type { SeqstreamError } from '../errors.js';

/** Close codes the server sends (besides ws's own 1007 invalid UTF-8 and 1009 message too big). */
export const WS_CLOSE = Object.freeze({
  /** Server shutting down (`server.close()`). */
  GOING_AWAY: 1001,
  /** A message was larger than `maxPayload` (sent by ws itself). */
  MESSAGE_TOO_BIG: 1009,
  /** A text frame was not valid UTF-8 (sent by ws itself). */
  INVALID_UTF8: 1007,
  /** No message from the client for `idleTimeoutMs`. */
  IDLE_TIMEOUT: 4001,
  /** The client read too slowly and `slowReaderPolicy` is `'close'`. */
  SLOW_READER: 4002,
  /** A newer connection claimed the same session id. */
  SESSION_TAKEN_OVER: 4003,
});

/** Error codes of `{"type":"error","code":...}` replies; the connection stays open after each. */
export type WebSocketErrorCode =
  | 'SEQ_WS_BAD_JSON'
  | 'SEQ_WS_BAD_MESSAGE'
  | 'SEQ_WS_BINARY'
  | 'SEQ_WS_RATE_LIMIT'
  | 'SEQ_WS_REPLY_UNSERIALIZABLE'
  | 'SEQ_INPUT_TYPE'
  | 'SEQ_INPUT_SHAPE'
  | 'SEQ_INPUT_NON_FINITE'
  | 'SEQ_WS_TOO_MANY_TOKENS'
  | 'SEQ_WS_BUSY';

/** Who is knocking: what `authenticate` sees before the upgrade completes. */
export interface WebSocketAuthRequest {
  /** `Authorization: Bearer <token>` header, else the `token` query parameter, else `null`. */
  token: string | null;
  /** `Origin` header (browsers send it), or `null`. */
  origin: string | null;
  /** Requested session id (`?session=`), or `null`. */
  session: string | null;
  remoteAddress: string | undefined;
  /** The raw HTTP upgrade request (headers, url). */
  request: IncomingMessage;
}

/** Options of {@link websocketServer}. Every limit has a finite default. */
export interface WebSocketServerOptions {
  /** Port to listen on; `0` picks a free one (read it from `server.port`). Default `0`. Ignored with `server`. */
  port?: number;
  /** Interface to bind. Default `'127.0.0.1'` (loopback only; pass `'0.0.0.0'` to expose). Ignored with `server`. */
  host?: string;
  /** Attach to an existing HTTP server's `upgrade` event instead of listening; `close()` leaves it open. Default none. */
  server?: Server;
  /** Only upgrade requests for this path (others get 404). Default: any path. */
  path?: string;
  /** Largest message in bytes; a larger one closes the connection with 1009 (ws). Default 65536 (64 KiB). */
  maxPayload?: number;
  /**
   * Open connections plus handshakes in progress; beyond it the upgrade gets HTTP 503. Each
   * connection holds a file descriptor: where the process's limit (`ulimit -n`, read at start on
   * Linux) leaves fewer than `maxConnections + 64` free, the server caps it there and emits a
   * process warning (code `SEQ_WS_FD_LIMIT`), so excess clients get the 503 instead of a bare TCP
   * close. Default 1024.
   */
  maxConnections?: number;
  /** Sessions held (connected or waiting for a reconnect); beyond it the one waiting longest ends. Default `max(2048, 2 × maxConnections)`; must be >= maxConnections. */
  maxSessions?: number;
  /** Token bucket refill rate per connection, messages per second. Default 100. */
  messagesPerSecond?: number;
  /** Token bucket size (messages accepted in a burst). Default 200. */
  burst?: number;
  /** Close a connection (code 4001) that sent nothing for this long, ms. Default 60000. */
  idleTimeoutMs?: number;
  /** Keep a disconnected session (its key, seq and queued replies) this long for a reconnect, ms; `0` ends it at once. Default 60000. */
  sessionHoldMs?: number;
  /**
   * Bytes of replies queued per session (ws `bufferedAmount` plus the server's own queue, which
   * also holds replies while a session waits for a reconnect) before `slowReaderPolicy` applies.
   * Worst-case reply memory is about `maxSessions × 2 × maxBufferedBytes` (1 GiB with the defaults;
   * lower either for many slow clients). Default 262144 (256 KiB).
   */
  maxBufferedBytes?: number;
  /** What to do with a reader that falls `maxBufferedBytes` behind: drop the oldest queued replies (the client then gets `{"type":"dropped","count":n}`), or close with 4002. Default `'drop-oldest'`. */
  slowReaderPolicy?: 'drop-oldest' | 'close';
  /** Accept only upgrades bearing one of these tokens (constant-time compare); 401 otherwise. Default: no token needed. */
  tokens?: readonly string[];
  /**
   * Your check, run before the upgrade completes (after `tokens`); `false` or a throw gives 401.
   * Return a string to name the caller's identity: a session is bound to the identity that
   * created it, and a reconnect under another identity is refused (403 `SEQ_WS_SESSION_FORBIDDEN`).
   * `true` means "allowed, no identity of its own": the session is then bound to the token used
   * (with `tokens`), else to nobody. Default none.
   */
  authenticate?: (request: WebSocketAuthRequest) => boolean | string | Promise<boolean | string>;
  /** Time allowed for `authenticate`, ms; 503 after. Default 10000. */
  authTimeoutMs?: number;
  /**
   * Browser origins allowed to connect (403 otherwise). `'same-host'`: requests without an `Origin`
   * header (non-browser clients) and those whose Origin host equals the `Host` header; a list:
   * those exact origins (e.g. `'https://app.example'`) plus requests without `Origin`; `'*'`: any.
   * Default `'same-host'`.
   */
  allowedOrigins?: 'same-host' | '*' | readonly string[];
  /**
   * Host names (without port, case-insensitive; IPv6 with or without brackets) the `Host` header
   * may name, checked on every upgrade (403 `SEQ_WS_HOST` otherwise, also when `Host` is missing);
   * `'*'`: any. This stops DNS rebinding: a web page on `attacker.example` whose name is re-pointed
   * at 127.0.0.1 connects with `Host` and `Origin` both `attacker.example`, which `'same-host'`
   * alone accepts. Default: `['localhost', '127.0.0.1', '::1']` when the server is bound to a
   * loopback address (the default `host`), `'*'` otherwise. Behind a reverse proxy on loopback
   * that forwards its public `Host`, list that name here.
   */
  allowedHosts?: '*' | readonly string[];
  /** How text messages are read: `'auto'` (JSON if it starts with `{`, else plain text), `'json'` (JSON objects only), `'text'` (always text). Default `'auto'`. */
  format?: 'auto' | 'json' | 'text';
  /** If set, `{"x": [...]}` must have exactly this length (else `SEQ_INPUT_SHAPE`), checked before the event reaches the model. Default: any length up to 65536. */
  inputSize?: number;
  /**
   * Shortest session id (`?session=`) accepted (400 `SEQ_WS_BAD_SESSION` otherwise). A session id
   * is a bearer secret: whoever presents it resumes the session's state, so it must be hard to
   * guess (e.g. 128 random bits as 22 base64url characters). Default 16.
   */
  minSessionIdLength?: number;
  /**
   * Every message refused with an error reply (it never reached `events`: bad JSON, wrong length,
   * rate limit, binary frame), every `refuse()`, and every reply that could not be serialised
   * (`SEQ_WS_REPLY_UNSERIALIZABLE`), with the session it concerns. A throw in it is reported as a
   * process warning and the server carries on. Default none.
   */
  onError?: (error: SeqstreamError, context: WebSocketErrorContext) => void;
  /** Send `{"type":"hello","key","connectionId","resumed","seq"}` on connect. Default `true`. */
  hello?: boolean;
}

/** One accepted client message: the unit a keyed pipeline processes. */
export interface WebSocketEvent {
  /** Stream key: the session id (`?session=`) or, without one, the connection id. */
  key: string;
  /** The connection that sent it (changes when a session reconnects). */
  connectionId: string;
  /** 1, 2, 3 ... per key, continuing across reconnects of the same session. */
  seq: number;
  /** Vector of `{"x": [...]}` messages. */
  x?: number[];
  /** Text of plain text or `{"text": "..."}` messages. */
  text?: string;
  /** `true` when the client sent `"reset": true` (a `recurrent()` reset flag). */
  reset?: boolean;
}

/** Connection and session life cycle, for logging and for freeing per-key state on `end`. */
export type WebSocketLifecycleEvent =
  | { type: 'open'; key: string; connectionId: string; resumed: boolean; remoteAddress: string | undefined }
  | { type: 'close'; key: string; connectionId: string; code: number; reason: string }
  | { type: 'end'; key: string; reason: 'expired' | 'evicted' | 'shutdown' }
  | { type: 'rejected'; status: number; code: string; remoteAddress: string | undefined };

/** Which session and connection an `onError` report concerns (its second argument). */
export interface WebSocketErrorContext {
  key: string;
  connectionId: string;
}

/** Counters since start. */
export interface WebSocketServerStats {
  connections: number;
  sessions: number;
  messagesIn: number;
  messagesOut: number;
  /** Replies dropped by the slow-reader policy or sent to a key with no session. */
  dropped: number;
  errorsReplied: number;
  rejectedUpgrades: number;
}

/** A running server, see {@link websocketServer}. */
export interface WebSocketTextServer {
  /** Bound port (the attached server's port with `server`). */
  readonly port: number;
  /** `ws://host:port` (plus `path`). */
  readonly url: string;
  /** Accepted messages of every connection, in arrival order; hot; completes on `close()`. */
  readonly events: Observable<WebSocketEvent>;
  /** Opens, closes, session ends and rejected upgrades; completes on `close()`. */
  readonly lifecycle: Observable<WebSocketLifecycleEvent>;
  /**
   * Queues `payload` as JSON (typed arrays become arrays) for the key's current connection, in
   * call order. While the session waits for a reconnect, replies are queued (bounded by
   * `maxBufferedBytes`, oldest dropped first). Returns `false` if the key has no session.
   */
  send(key: string, payload: unknown): boolean;
  /**
   * Replies `{"type":"error","code","message"}` to the key's current connection and reports it to
   * `onError`, for work a pipeline refuses (e.g. `websocketByKey`'s token limit). No-op without one.
   */
  refuse(key: string, code: WebSocketErrorCode, message: string): void;
  /**
   * Operator that sends each value to its `key` (as `project(value)`, by default the value without
   * `key` and `connectionId`, with `type: 'output'`) and passes it on. Put it last in the keyed pipeline.
   */
  reply<T extends { key: string }>(project?: (value: T) => unknown): MonoTypeOperatorFunction<T>;
  /** Counters. */
  stats(): WebSocketServerStats;
  /** Closes every connection (1001), ends every session, completes the observables, stops listening. */
  close(): Promise<void>;
}
