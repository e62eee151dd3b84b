import { randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { Observable, Subject, tap, type MonoTypeOperatorFunction } from 'rxjs';
import { WebSocket, WebSocketServer as WsServer, type RawData } from 'ws';
import { describe, InvalidOptionError, SeqstreamError } from '../errors.js';
import { jsonReplacer } from './internal/jsonReplacer.js';

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
  | 'SEQ_INPUT_NON_FINITE';

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
  /** Open connections plus handshakes in progress; beyond it the upgrade gets HTTP 503. Default 1024. */
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
  /** Your check, run before the upgrade completes (after `tokens`); `false` or a throw gives 401. Default none. */
  authenticate?: (request: WebSocketAuthRequest) => boolean | Promise<boolean>;
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

/** A message refused with an error reply (it never reached `events`), or a reply that could not be serialised (`SEQ_WS_REPLY_UNSERIALIZABLE`). */
export interface WebSocketClientError {
  key: string;
  connectionId: string;
  error: SeqstreamError;
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
  /** Messages refused with an error reply; completes on `close()`. */
  readonly errors: Observable<WebSocketClientError>;
  /**
   * Queues `payload` as JSON (typed arrays become arrays) for the key's current connection, in
   * call order. While the session waits for a reconnect, replies are queued (bounded by
   * `maxBufferedBytes`, oldest dropped first). Returns `false` if the key has no session.
   */
  send(key: string, payload: unknown): boolean;
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

interface Session {
  key: string;
  seq: number;
  conn: Connection | null;
  outbox: string[];
  outboxBytes: number;
  dropped: number;
  holdTimer: NodeJS.Timeout | null;
  detachedAt: number;
}

interface Connection {
  id: string;
  ws: WebSocket;
  session: Session;
  tokens: number;
  refilledAt: number;
  idleTimer: NodeJS.Timeout | null;
  closeCode: number | null;
  closeReason: string;
}

const SESSION_ID = /^[A-Za-z0-9._~-]{1,128}$/;
const MAX_VECTOR = 65536;

/**
 * Starts a websocket server where every connection is a keyed stream of text or JSON messages,
 * with replies routed back to their own connection, in order.
 *
 * 1. An upgrade request is checked before the handshake completes, in this order: path (404),
 *    connection count (503), `Host` header allowlist (403), origin allowlist (403), session id
 *    syntax (400), `tokens` and `authenticate` (401). A rejected request gets an HTTP error with a JSON body
 *    `{"error":{"code":"SEQ_WS_..."}}` and never becomes a connection.
 * 2. The key is the `?session=` id if given, else a fresh random connection id (sent in the hello
 *    message, so a client can reconnect with `?session=<key>` too). A session id already connected
 *    moves to the new connection; the old one is closed with 4003.
 * 3. Each text message is rate-limited (token bucket), parsed (`format`), checked, stamped with
 *    the key's next `seq` and emitted on `events`. A refused message gets
 *    `{"type":"error","code","message"}` and is not emitted; the connection and every other
 *    connection carry on. Binary frames get `SEQ_WS_BINARY`.
 * 4. Replies (`send`/`reply`) go to the key's current connection in call order. They are handed to
 *    ws while its `bufferedAmount` is under `maxBufferedBytes`, and queued otherwise; the queue is
 *    flushed as the socket drains (every write, error replies included, resumes it when it
 *    completes). When the queue would pass `maxBufferedBytes` the slow-reader policy drops the
 *    oldest or closes (4002).
 * 5. When a connection closes, its session is held for `sessionHoldMs` (replies keep queueing);
 *    a reconnect with the same session id resumes its key and seq, so keyed state downstream
 *    carries on. After the hold the session ends (`lifecycle` `end`): free its state then.
 *
 * Security: listens on loopback by default, and then accepts only loopback names in the `Host`
 * header (`allowedHosts`), so a web page cannot reach it through DNS rebinding; the session id is a bearer secret (pick long random
 * ids); a `token` in the query string may be logged by proxies — prefer the Authorization header.
 *
 * @example
 * ```ts
 * import { websocketServer } from 'seqstream/adapters/websocketServer';
 * import { RecurrentModel } from 'seqstream/cells';
 * import { map } from 'rxjs';
 * const server = await websocketServer({ port: 8080, inputSize: 2, tokens: ['s3cret'] });
 * const model = RecurrentModel.create({ cell: 'gru', inputSize: 2, hiddenSize: 4, head: { outputSize: 1 } });
 * const states = new Map<string, ReturnType<typeof model.createState>>();
 * server.lifecycle.subscribe((e) => { if (e.type === 'end') states.delete(e.key); });
 * server.events.pipe(
 *   map((e) => {
 *     const state = states.get(e.key) ?? model.createState();
 *     states.set(e.key, state);
 *     return { key: e.key, seq: e.seq, y: model.step(state, e.x!) };
 *   }),
 *   server.reply(),
 * ).subscribe();
 * // client: new WebSocket('ws://127.0.0.1:8080/?session=abc', { headers: { Authorization: 'Bearer s3cret' } })
 * //         .send('{"x":[0.1,0.2]}')  ->  {"type":"output","seq":1,"y":[0.07]}
 * ```
 */
export function websocketServer(options: WebSocketServerOptions = {}): Promise<WebSocketTextServer> {
  // Options are checked synchronously: a bad option throws here, not as a rejected promise.
  const o = resolveOptions(options);
  return start(options, o);
}

async function start(options: WebSocketServerOptions, o: Resolved): Promise<WebSocketTextServer> {
  const events = new Subject<WebSocketEvent>();
  const lifecycle = new Subject<WebSocketLifecycleEvent>();
  const errors = new Subject<WebSocketClientError>();
  const sessions = new Map<string, Session>();
  const connections = new Set<Connection>();
  const counters = { messagesIn: 0, messagesOut: 0, dropped: 0, errorsReplied: 0, rejectedUpgrades: 0 };
  let pending = 0;
  let closing = false;

  const wss = new WsServer({ noServer: true, maxPayload: o.maxPayload, perMessageDeflate: false, clientTracking: false });
  const http = options.server ?? createServer((_req, res) => {
    res.writeHead(426, { 'Content-Type': 'text/plain' }).end('Upgrade Required: this endpoint speaks websocket\n');
  });

  // Decided from the address actually bound (an attached server may start listening later).
  let defaultHosts: '*' | readonly string[] | null = null;
  const allowedHosts = (): '*' | readonly string[] => {
    if (o.allowedHosts !== undefined) return o.allowedHosts;
    if (defaultHosts) return defaultHosts;
    const address = http.address();
    if (!address || typeof address === 'string') return LOOPBACK_HOSTS; // not listening yet / pipe: stay strict
    defaultHosts = isLoopbackAddress(address.address) ? LOOPBACK_HOSTS : '*';
    return defaultHosts;
  };

  // 1. Upgrade checks, all before the handshake completes.
  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    socket.on('error', () => socket.destroy());
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      return reject(socket, req, 400, 'SEQ_WS_BAD_REQUEST', 'Request URL does not parse');
    }
    if (o.path !== undefined && url.pathname !== o.path) {
      // With an attached server, other paths may belong to someone else's upgrade handler.
      if (!options.server) reject(socket, req, 404, 'SEQ_WS_NOT_FOUND', `No websocket endpoint at ${url.pathname}`);
      return;
    }
    if (closing) return reject(socket, req, 503, 'SEQ_WS_CLOSING', 'Server is shutting down');
    if (connections.size + pending >= o.maxConnections) {
      return reject(socket, req, 503, 'SEQ_WS_TOO_MANY_CONNECTIONS', `At most ${o.maxConnections} connections`);
    }
    const hostHeader = header(req, 'host');
    if (!hostAllowed(hostHeader, allowedHosts())) {
      return reject(socket, req, 403, 'SEQ_WS_HOST', `Host ${describe(hostHeader)} is not allowed (allowedHosts)`);
    }
    const origin = header(req, 'origin');
    if (!originAllowed(origin, header(req, 'host'), o.allowedOrigins)) {
      return reject(socket, req, 403, 'SEQ_WS_ORIGIN', `Origin ${describe(origin)} is not allowed`);
    }
    const session = url.searchParams.get('session');
    if (session !== null && !SESSION_ID.test(session)) {
      return reject(socket, req, 400, 'SEQ_WS_BAD_SESSION', 'Session id must be 1-128 characters of [A-Za-z0-9._~-]');
    }
    const auth = header(req, 'authorization');
    const token = auth && /^Bearer\s+/i.test(auth) ? auth.replace(/^Bearer\s+/i, '') : url.searchParams.get('token');
    pending++;
    let counted = true;
    const release = (): void => {
      if (counted) pending--;
      counted = false;
    };
    socket.once('close', release);
    void authorise({ token, origin, session, remoteAddress: req.socket.remoteAddress, request: req }).then(
      (verdict) => {
        if (socket.destroyed) return release();
        if (verdict !== true) return (release(), reject(socket, req, verdict.status, verdict.code, verdict.message));
        if (closing) return (release(), reject(socket, req, 503, 'SEQ_WS_CLOSING', 'Server is shutting down'));
        wss.handleUpgrade(req, socket, head, (ws) => {
          release();
          socket.off('close', release);
          accept(ws, session, req);
        });
      },
    );
  };

  async function authorise(request: WebSocketAuthRequest): Promise<true | { status: number; code: string; message: string }> {
    if (o.tokens && !(request.token !== null && o.tokens.some((t) => safeEqual(t, request.token!)))) {
      return { status: 401, code: 'SEQ_WS_UNAUTHORIZED', message: 'Missing or wrong token' };
    }
    if (!o.authenticate) return true;
    let timer: NodeJS.Timeout | undefined;
    try {
      const verdict = await Promise.race([
        Promise.resolve().then(() => o.authenticate!(request)),
        new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), o.authTimeoutMs))),
      ]);
      if (verdict === 'timeout') return { status: 503, code: 'SEQ_WS_AUTH_TIMEOUT', message: `Authentication took longer than ${o.authTimeoutMs} ms` };
      return verdict === true ? true : { status: 401, code: 'SEQ_WS_UNAUTHORIZED', message: 'Authentication refused' };
    } catch {
      return { status: 401, code: 'SEQ_WS_UNAUTHORIZED', message: 'Authentication failed' };
    } finally {
      clearTimeout(timer);
    }
  }

  function reject(socket: Duplex, req: IncomingMessage, status: number, code: string, message: string): void {
    counters.rejectedUpgrades++;
    lifecycle.next({ type: 'rejected', status, code, remoteAddress: req.socket.remoteAddress });
    if (!socket.writable) return void socket.destroy();
    const body = JSON.stringify({ error: { code, message } });
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Error'}\r\nConnection: close\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  }

  // 2. Sessions and connections.
  function accept(ws: WebSocket, requested: string | null, req: IncomingMessage): void {
    const id = randomUUID();
    const key = requested ?? id;
    let session = sessions.get(key);
    const resumed = session !== undefined;
    if (session) {
      if (session.holdTimer) clearTimeout(session.holdTimer);
      session.holdTimer = null;
      if (session.conn) closeConnection(session.conn, WS_CLOSE.SESSION_TAKEN_OVER, 'session taken over by a newer connection');
    } else {
      if (sessions.size >= o.maxSessions) evictOldestDetached();
      session = { key, seq: 0, conn: null, outbox: [], outboxBytes: 0, dropped: 0, holdTimer: null, detachedAt: 0 };
      sessions.set(key, session);
    }
    const conn: Connection = { id, ws, session, tokens: o.burst, refilledAt: performance.now(), idleTimer: null, closeCode: null, closeReason: '' };
    session.conn = conn;
    connections.add(conn);
    conn.idleTimer = setTimeout(() => closeConnection(conn, WS_CLOSE.IDLE_TIMEOUT, `idle for ${o.idleTimeoutMs} ms`), o.idleTimeoutMs);

    ws.on('message', (data, isBinary) => onMessage(conn, data, isBinary));
    // ws reports protocol violations here (too big, bad UTF-8) and closes with 1009/1007 itself.
    ws.on('error', () => undefined);
    ws.on('close', (code, reason) => onClose(conn, code, reason.toString()));
    lifecycle.next({ type: 'open', key, connectionId: id, resumed, remoteAddress: req.socket.remoteAddress });
    if (o.hello) transmit(session, conn, JSON.stringify({ type: 'hello', key, connectionId: id, resumed, seq: session.seq }));
    flush(session);
  }

  function closeConnection(conn: Connection, code: number, reason: string): void {
    if (conn.closeCode !== null) return;
    conn.closeCode = code;
    conn.closeReason = reason;
    if (conn.idleTimer) clearTimeout(conn.idleTimer);
    conn.ws.close(code, reason);
    // A peer that does not read never answers the close frame: do not wait ws's 30 s for it.
    const kill = setTimeout(() => conn.ws.terminate(), 1000);
    kill.unref();
    conn.ws.once('close', () => clearTimeout(kill));
  }

  function onClose(conn: Connection, code: number, reason: string): void {
    if (conn.idleTimer) clearTimeout(conn.idleTimer);
    connections.delete(conn);
    const session = conn.session;
    lifecycle.next({ type: 'close', key: session.key, connectionId: conn.id, code: conn.closeCode ?? code, reason: conn.closeCode !== null ? conn.closeReason : reason });
    if (session.conn !== conn) return; // taken over: the session lives on with the newer connection
    session.conn = null;
    session.detachedAt = performance.now();
    if (closing) return;
    if (o.sessionHoldMs === 0) return endSession(session, 'expired');
    session.holdTimer = setTimeout(() => endSession(session, 'expired'), o.sessionHoldMs);
  }

  function endSession(session: Session, reason: 'expired' | 'evicted' | 'shutdown'): void {
    if (sessions.get(session.key) !== session) return;
    if (session.holdTimer) clearTimeout(session.holdTimer);
    sessions.delete(session.key);
    counters.dropped += session.outbox.length;
    session.outbox = [];
    session.outboxBytes = 0;
    lifecycle.next({ type: 'end', key: session.key, reason });
  }

  function evictOldestDetached(): void {
    let oldest: Session | null = null;
    for (const s of sessions.values()) if (!s.conn && (!oldest || s.detachedAt < oldest.detachedAt)) oldest = s;
    if (oldest) endSession(oldest, 'evicted');
  }

  // 3. Messages in.
  function onMessage(conn: Connection, data: RawData, isBinary: boolean): void {
    if (conn.closeCode !== null) return;
    conn.idleTimer?.refresh();
    const now = performance.now();
    conn.tokens = Math.min(o.burst, conn.tokens + ((now - conn.refilledAt) / 1000) * o.messagesPerSecond);
    conn.refilledAt = now;
    if (conn.tokens < 1) return refuse(conn, 'SEQ_WS_RATE_LIMIT', `More than ${o.messagesPerSecond} messages per second (burst ${o.burst}): message dropped`);
    conn.tokens -= 1;
    if (isBinary) return refuse(conn, 'SEQ_WS_BINARY', 'Binary frames are not accepted: send text or JSON');
    const raw = Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data as ArrayBuffer).toString('utf8');
    const parsed = parse(raw);
    if (parsed instanceof SeqstreamError) return refuse(conn, parsed.code as WebSocketErrorCode, parsed.message);
    const session = conn.session;
    counters.messagesIn++;
    events.next({ key: session.key, connectionId: conn.id, seq: ++session.seq, ...parsed });
  }

  function parse(raw: string): Omit<WebSocketEvent, 'key' | 'connectionId' | 'seq'> | SeqstreamError {
    if (o.format === 'text' || (o.format === 'auto' && !raw.trimStart().startsWith('{'))) return { text: raw };
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (e) {
      return new SeqstreamError('SEQ_WS_BAD_JSON', `Message is not valid JSON: ${(e as Error).message}`);
    }
    if (!value || typeof value !== 'object' || Array.isArray(value)) {
      return new SeqstreamError('SEQ_WS_BAD_MESSAGE', `Message must be a JSON object {"x": [...]} or {"text": "..."}, received ${describe(value)}`);
    }
    const m = value as { x?: unknown; text?: unknown; reset?: unknown };
    if ((m.x === undefined) === (m.text === undefined)) {
      return new SeqstreamError('SEQ_WS_BAD_MESSAGE', 'Message must have exactly one of "x" (a number array) or "text" (a string)');
    }
    if (m.reset !== undefined && typeof m.reset !== 'boolean') return new SeqstreamError('SEQ_WS_BAD_MESSAGE', '"reset" must be a boolean');
    const reset = m.reset === true ? { reset: true } : {};
    if (m.text !== undefined) {
      if (typeof m.text !== 'string') return new SeqstreamError('SEQ_WS_BAD_MESSAGE', `"text" must be a string, received ${describe(m.text)}`);
      return { text: m.text, ...reset };
    }
    const x = m.x;
    if (!Array.isArray(x)) return new SeqstreamError('SEQ_INPUT_TYPE', `"x" must be an array of numbers, received ${describe(x)}`);
    const expected = o.inputSize;
    if (expected !== undefined ? x.length !== expected : x.length > MAX_VECTOR) {
      return new SeqstreamError('SEQ_INPUT_SHAPE', `"x" must have length ${expected ?? `<= ${MAX_VECTOR}`}, received ${x.length}`);
    }
    for (let i = 0; i < x.length; i++) {
      if (typeof x[i] !== 'number') return new SeqstreamError('SEQ_INPUT_TYPE', `"x" holds a non-number at index ${i}: ${describe(x[i])}`);
    }
    // JSON has no NaN/Infinity literals, but 1e999 parses to Infinity.
    for (let i = 0; i < x.length; i++) {
      if (!Number.isFinite(x[i])) return new SeqstreamError('SEQ_INPUT_NON_FINITE', `"x" holds ${x[i]} at index ${i}`);
    }
    return { x: x as number[], ...reset };
  }

  function refuse(conn: Connection, code: WebSocketErrorCode, message: string): void {
    counters.errorsReplied++;
    const error = new SeqstreamError(code, message, { key: conn.session.key, connectionId: conn.id });
    errors.next({ key: conn.session.key, connectionId: conn.id, error });
    // Error replies skip the reply queue so they are not stuck behind outputs, but a client that
    // floods without reading must not grow memory: past the buffer limit they are dropped.
    if (conn.ws.readyState === WebSocket.OPEN && conn.ws.bufferedAmount < o.maxBufferedBytes) {
      // With a completion callback like every other write: whichever write completes last flushes
      // the reply queue, so replies queued behind a full buffer go out once the client reads again.
      transmit(conn.session, conn, JSON.stringify({ type: 'error', code, message }));
    } else counters.dropped++;
  }

  // 4. Replies out.
  function send(key: string, payload: unknown): boolean {
    const session = sessions.get(key);
    if (!session) {
      counters.dropped++;
      return false;
    }
    let text: string;
    try {
      text = JSON.stringify(payload, jsonReplacer);
    } catch (e) {
      // A reply that cannot be serialised (BigInt, cycles) fails only its own key, not the pipeline.
      const error = new SeqstreamError('SEQ_WS_REPLY_UNSERIALIZABLE', `Reply for key ${JSON.stringify(key)} is not JSON-serialisable: ${(e as Error).message}`, { key });
      errors.next({ key, connectionId: session.conn?.id ?? '', error });
      counters.dropped++;
      text = JSON.stringify({ type: 'error', code: error.code, message: 'The server could not serialise this output' });
    }
    const conn = session.conn;
    if (conn && session.outbox.length === 0 && canSend(conn)) {
      transmit(session, conn, text);
      return true;
    }
    session.outbox.push(text);
    session.outboxBytes += Buffer.byteLength(text);
    // The buffer may have drained since the last write callback ran: try now, in queue order.
    if (conn) flush(session);
    while (session.outboxBytes > o.maxBufferedBytes && session.outbox.length > 0) {
      if (o.slowReaderPolicy === 'close' && conn && conn.closeCode === null) {
        closeConnection(conn, WS_CLOSE.SLOW_READER, `more than ${o.maxBufferedBytes} bytes of replies unread`);
      }
      // Under 'close' the queue still drops its oldest so a held session stays bounded.
      const oldest = session.outbox.shift()!;
      session.outboxBytes -= Buffer.byteLength(oldest);
      session.dropped++;
      counters.dropped++;
    }
    return true;
  }

  function canSend(conn: Connection): boolean {
    return conn.closeCode === null && conn.ws.readyState === WebSocket.OPEN && conn.ws.bufferedAmount < o.maxBufferedBytes;
  }

  /**
   * Every write to a socket goes through here. Its callback runs once ws has handed the bytes to
   * the kernel; the last pending write's callback therefore sees the buffer (nearly) empty and
   * flushes the queue. ws has no 'drain' event of its own, so this chain is what resumes sending.
   */
  function transmit(session: Session, conn: Connection, text: string): void {
    counters.messagesOut++;
    conn.ws.send(text, (err) => {
      if (!err) flush(session);
    });
  }

  function flush(session: Session): void {
    const conn = session.conn;
    while (conn && session.outbox.length > 0 && canSend(conn)) {
      if (session.dropped > 0) {
        const notice = JSON.stringify({ type: 'dropped', count: session.dropped });
        session.dropped = 0;
        transmit(session, conn, notice);
      }
      const text = session.outbox.shift()!;
      session.outboxBytes -= Buffer.byteLength(text);
      transmit(session, conn, text);
    }
  }

  // Listening.
  http.on('upgrade', onUpgrade);
  if (!options.server) {
    await new Promise<void>((resolve, rejectListen) => {
      const onError = (err: Error): void => rejectListen(new SeqstreamError('SEQ_WS_LISTEN', `Cannot listen on ${o.host}:${o.port}: ${err.message}`, { cause: err.message }));
      http.once('error', onError);
      http.listen(o.port, o.host, () => {
        http.off('error', onError);
        resolve();
      });
    });
  }
  const address = http.address() as AddressInfo | null;
  const port = address?.port ?? o.port;
  const hostForUrl = address && address.family === 'IPv6' ? `[${address.address}]` : (address?.address ?? o.host);

  return {
    port,
    url: `ws://${hostForUrl}:${port}${o.path ?? ''}`,
    events: events.asObservable(),
    lifecycle: lifecycle.asObservable(),
    errors: errors.asObservable(),
    send,
    reply<T extends { key: string }>(project: (value: T) => unknown = defaultProject): MonoTypeOperatorFunction<T> {
      return tap((value: T) => void send(value.key, project(value)));
    },
    stats: () => ({ connections: connections.size, sessions: sessions.size, ...counters }),
    async close(): Promise<void> {
      if (closing) return;
      closing = true;
      http.off('upgrade', onUpgrade);
      const closed = [...connections].map((c) => new Promise<void>((resolve) => {
        if (c.ws.readyState === WebSocket.CLOSED) return resolve();
        c.ws.once('close', () => resolve());
        closeConnection(c, WS_CLOSE.GOING_AWAY, 'server shutting down');
      }));
      await Promise.all(closed);
      for (const s of [...sessions.values()]) endSession(s, 'shutdown');
      wss.close();
      if (!options.server) {
        const stopped = new Promise<void>((resolve) => http.close(() => resolve()));
        http.closeAllConnections();
        await stopped;
      }
      events.complete();
      lifecycle.complete();
      errors.complete();
    },
  };
}

function defaultProject(value: { key: string }): unknown {
  const { key: _key, connectionId: _c, ...rest } = value as { key: string; connectionId?: string };
  return { type: 'output', ...rest };
}


const STATUS_TEXT: Record<number, string> = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 503: 'Service Unavailable' };

function header(req: IncomingMessage, name: string): string | null {
  const v = req.headers[name];
  return typeof v === 'string' ? v : null;
}

function originAllowed(origin: string | null, host: string | null, allowed: 'same-host' | '*' | readonly string[]): boolean {
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

const LOOPBACK_HOSTS: readonly string[] = Object.freeze(['localhost', '127.0.0.1', '::1']);

function isLoopbackAddress(address: string): boolean {
  return address === '::1' || /^(::ffff:)?127\./i.test(address) || address === 'localhost';
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

function hostAllowed(host: string | null, allowed: '*' | readonly string[]): boolean {
  if (allowed === '*') return true;
  if (host === null) return false;
  const name = hostName(host);
  return allowed.some((a) => normaliseHost(a) === name);
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

type Resolved = Required<Omit<WebSocketServerOptions, 'server' | 'path' | 'tokens' | 'authenticate' | 'inputSize' | 'allowedHosts'>> &
  Pick<WebSocketServerOptions, 'path' | 'tokens' | 'authenticate' | 'inputSize' | 'allowedHosts'>;

function resolveOptions(options: WebSocketServerOptions): Resolved {
  const o: Resolved = {
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
    hello: options.hello ?? true,
  };
  const int = (name: keyof Resolved, min: number): void => {
    const v = o[name];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) throw new InvalidOptionError(name, `an integer >= ${min}`, v);
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
  if (o.authenticate !== undefined && typeof o.authenticate !== 'function') throw new InvalidOptionError('authenticate', 'a function', o.authenticate);
  if (options.server !== undefined && typeof (options.server as Server).on !== 'function') throw new InvalidOptionError('server', 'an http.Server', options.server);
  return o;
}
