import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { Subject, tap, type MonoTypeOperatorFunction } from 'rxjs';
import { WebSocketServer as WsServer } from 'ws';
import { SeqstreamError } from '../errors.js';
import { authorise } from './internal/websocket/upgradeAuth.js';
import { checkUpgrade, isLoopbackAddress, LOOPBACK_HOSTS, type GateRefusal } from './internal/websocket/upgradeGate.js';
import { resolveServerOptions, type ResolvedServerOptions } from './internal/websocket/serverOptions.js';
import { SessionTable } from './internal/websocket/sessionTable.js';
import type {
  WebSocketErrorContext,
  WebSocketEvent,
  WebSocketLifecycleEvent,
  WebSocketServerOptions,
  WebSocketTextServer,
} from './websocketTypes.js';

export {
  WS_CLOSE,
  type WebSocketAuthRequest,
  type WebSocketErrorContext,
  type WebSocketErrorCode,
  type WebSocketEvent,
  type WebSocketLifecycleEvent,
  type WebSocketServerOptions,
  type WebSocketServerStats,
  type WebSocketTextServer,
} from './websocketTypes.js';

/**
 * Starts a websocket server where every connection is a keyed stream of text or JSON messages,
 * with replies routed back to their own connection, in order.
 *
 * 1. An upgrade request is checked before the handshake completes, in this order: path (404),
 *    connection count (503), `Host` header allowlist (403), origin allowlist (403), session id
 *    syntax and length (400), `tokens` and `authenticate` (401), session owner (403). A rejected request gets an HTTP error with a JSON body
 *    `{"error":{"code":"SEQ_WS_..."}}` and never becomes a connection.
 * 2. The key is the `?session=` id if given, else a fresh random connection id (sent in the hello
 *    message, so a client can reconnect with `?session=<key>` too). A session id already connected
 *    moves to the new connection; the old one is closed with 4003. A session is bound to the
 *    identity that created it (what `authenticate` returned, else the token): another identity
 *    presenting its id is refused with 403 `SEQ_WS_SESSION_FORBIDDEN`.
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
 * header (`allowedHosts`), so a web page cannot reach it through DNS rebinding; the session id is a bearer secret (at least `minSessionIdLength`
 * characters: pick long random ids, and bind sessions to identities with `authenticate`); a `token` in the query string may be logged by proxies — prefer the Authorization header.
 *
 * @example
 * ```ts
 * import { websocketServer } from 'seqstream/adapters/websocketServer';
 * import { RecurrentModel } from 'seqstream/cells';
 * import { websocketByKey } from 'seqstream/adapters/websocketByKey';
 * const server = await websocketServer({ port: 8080, inputSize: 2, tokens: ['s3cret'] });
 * const model = RecurrentModel.create({ cell: 'gru', inputSize: 2, hiddenSize: 4, head: { outputSize: 1 } });
 * websocketByKey(server, model).pipe(server.reply()).subscribe(); // one batched state per session
 * // client: new WebSocket('ws://127.0.0.1:8080/?session=Vq3xZ0bq9m1yXr7e2KcT1w', { headers: { Authorization: 'Bearer s3cret' } })
 * //         .send('{"x":[0.1,0.2]}')  ->  {"type":"output","seq":1,"y":[0.07]}
 * ```
 */
export function websocketServer(options: WebSocketServerOptions = {}): Promise<WebSocketTextServer> {
  // Options are checked synchronously: a bad option throws here, not as a rejected promise.
  const o = resolveServerOptions(options);
  return start(options, o);
}

async function start(options: WebSocketServerOptions, o: ResolvedServerOptions): Promise<WebSocketTextServer> {
  const events = new Subject<WebSocketEvent>();
  const lifecycle = new Subject<WebSocketLifecycleEvent>();
  const table = new SessionTable(o, { events, lifecycle, error: (error, context) => reportError(options.onError, error, context) });
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

  // Every check before the handshake completes: the gate (pure), capacity, then authentication.
  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    socket.on('error', () => socket.destroy());
    const gate = checkUpgrade(req, { path: o.path, allowedHosts: allowedHosts(), allowedOrigins: o.allowedOrigins, minSessionIdLength: o.minSessionIdLength });
    if ('status' in gate) {
      // With an attached server, other paths may belong to someone else's upgrade handler.
      if (gate.code === 'SEQ_WS_NOT_FOUND' && options.server) return;
      return reject(socket, req, gate);
    }
    if (closing) return reject(socket, req, CLOSING);
    if (table.connectionCount + pending >= o.maxConnections) {
      return reject(socket, req, { status: 503, code: 'SEQ_WS_TOO_MANY_CONNECTIONS', message: `At most ${o.maxConnections} connections` });
    }
    pending++;
    let counted = true;
    const release = (): void => {
      if (counted) pending--;
      counted = false;
    };
    socket.once('close', release);
    const request = { token: gate.token, origin: gate.origin, session: gate.session, remoteAddress: req.socket.remoteAddress, request: req };
    void authorise(request, o).then((verdict) => {
      if (socket.destroyed) return release();
      if ('status' in verdict) return (release(), reject(socket, req, verdict));
      if (closing) return (release(), reject(socket, req, CLOSING));
      if (gate.session !== null && !table.mayUse(gate.session, verdict.identity)) {
        release();
        return reject(socket, req, { status: 403, code: 'SEQ_WS_SESSION_FORBIDDEN', message: 'This session belongs to another identity' });
      }
      wss.handleUpgrade(req, socket, head, (ws) => {
        release();
        socket.off('close', release);
        table.accept(ws, gate.session, verdict.identity, req.socket.remoteAddress);
      });
    });
  };

  function reject(socket: Duplex, req: IncomingMessage, refusal: GateRefusal): void {
    const { status, code, message } = refusal;
    table.countRejected();
    lifecycle.next({ type: 'rejected', status, code, remoteAddress: req.socket.remoteAddress });
    if (!socket.writable) return void socket.destroy();
    const body = JSON.stringify({ error: { code, message } });
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Error'}\r\nConnection: close\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  }

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
    send: (key, payload) => table.send(key, payload),
    refuse: (key, code, message) => table.refuseKey(key, code, message),
    reply<T extends { key: string }>(project: (value: T) => unknown = defaultProject): MonoTypeOperatorFunction<T> {
      return tap((value: T) => void table.send(value.key, project(value)));
    },
    stats: () => table.stats(),
    async close(): Promise<void> {
      if (closing) return;
      closing = true;
      http.off('upgrade', onUpgrade);
      await table.closeAll();
      wss.close();
      if (!options.server) {
        const stopped = new Promise<void>((resolve) => http.close(() => resolve()));
        http.closeAllConnections();
        await stopped;
      }
      events.complete();
      lifecycle.complete();
    },
  };
}

/** Calls the user's `onError`; a throw there must not stop the server or its other sessions. */
function reportError(onError: WebSocketServerOptions['onError'], error: SeqstreamError, context: WebSocketErrorContext): void {
  if (!onError) return;
  try {
    onError(error, context);
  } catch (e) {
    process.emitWarning(`websocketServer onError threw on ${error.code}: ${String((e as Error)?.message ?? e)}`, { code: 'SEQ_WS_CALLBACK' });
  }
}

const CLOSING: GateRefusal = { status: 503, code: 'SEQ_WS_CLOSING', message: 'Server is shutting down' };

const STATUS_TEXT: Record<number, string> = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 503: 'Service Unavailable' };

function defaultProject(value: { key: string }): unknown {
  const { key: _key, connectionId: _c, ...rest } = value as { key: string; connectionId?: string };
  return { type: 'output', ...rest };
}
