import { randomUUID } from 'node:crypto';
import type { Subject } from 'rxjs';
import { WebSocket, type RawData } from 'ws';
import { SeqstreamError } from '../../../errors.js';
import { jsonReplacer } from '../jsonReplacer.js';
import {
  WS_CLOSE,
  type WebSocketErrorContext,
  type WebSocketErrorCode,
  type WebSocketEvent,
  type WebSocketLifecycleEvent,
  type WebSocketServerStats,
} from '../../websocketTypes.js';
import { mayResume } from './upgradeAuth.js';
import { parseMessage } from './messageParser.js';
import type { ResolvedServerOptions } from './serverOptions.js';

interface Session {
  key: string;
  /** Identity the session is bound to (`null`: its id alone resumes it). */
  owner: string | null;
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

/** The observables a {@link SessionTable} feeds. */
export interface SessionOutputs {
  events: Subject<WebSocketEvent>;
  lifecycle: Subject<WebSocketLifecycleEvent>;
  /** Reports a refused message or unserialisable reply (the server's `onError`). */
  error(error: SeqstreamError, context: WebSocketErrorContext): void;
}

/**
 * The websocket server's sessions and connections: accepting a connection into a new or resumed
 * session, rate limiting and parsing its messages, routing replies to the key's current
 * connection in order with a bounded queue, holding a detached session for a reconnect, and
 * ending sessions. Every write goes through one place (`transmit`), whose completion callback
 * flushes the queue: ws has no 'drain' event of its own.
 *
 * @example
 * ```ts
 * const table = new SessionTable(resolveServerOptions({}), { events, lifecycle, error: (e) => console.warn(e.code) });
 * table.accept(ws, 'my-long-random-session-id', null, '127.0.0.1');
 * ```
 */
export class SessionTable {
  private readonly sessions = new Map<string, Session>();
  private readonly connections = new Set<Connection>();
  private readonly counters = { messagesIn: 0, messagesOut: 0, dropped: 0, errorsReplied: 0, rejectedUpgrades: 0 };
  private closing = false;

  constructor(
    private readonly o: ResolvedServerOptions,
    private readonly out: SessionOutputs,
  ) {}

  /** Open connections. */
  get connectionCount(): number {
    return this.connections.size;
  }

  /** Counts a refused upgrade (the gate's decision, reported on `lifecycle`). */
  countRejected(): void {
    this.counters.rejectedUpgrades++;
  }

  /** Whether a connection under `identity` may use session `key` (new, unbound, or bound to it). */
  mayUse(key: string, identity: string | null): boolean {
    const session = this.sessions.get(key);
    return !session || mayResume(session.owner, identity);
  }

  /** Takes an upgraded socket into its session (resumed if `requested` is held, else new). */
  accept(ws: WebSocket, requested: string | null, identity: string | null, remoteAddress: string | undefined): void {
    const id = randomUUID();
    const key = requested ?? id;
    let session = this.sessions.get(key);
    const resumed = session !== undefined;
    if (session) {
      if (session.holdTimer) clearTimeout(session.holdTimer);
      session.holdTimer = null;
      if (session.conn) this.closeConnection(session.conn, WS_CLOSE.SESSION_TAKEN_OVER, 'session taken over by a newer connection');
    } else {
      if (this.sessions.size >= this.o.maxSessions) this.evictOldestDetached();
      session = { key, owner: identity, seq: 0, conn: null, outbox: [], outboxBytes: 0, dropped: 0, holdTimer: null, detachedAt: 0 };
      this.sessions.set(key, session);
    }
    const conn: Connection = { id, ws, session, tokens: this.o.burst, refilledAt: performance.now(), idleTimer: null, closeCode: null, closeReason: '' };
    session.conn = conn;
    this.connections.add(conn);
    conn.idleTimer = setTimeout(() => this.closeConnection(conn, WS_CLOSE.IDLE_TIMEOUT, `idle for ${this.o.idleTimeoutMs} ms`), this.o.idleTimeoutMs);
    ws.on('message', (data, isBinary) => this.onMessage(conn, data, isBinary));
    // ws reports protocol violations here (too big, bad UTF-8) and closes with 1009/1007 itself.
    ws.on('error', () => undefined);
    ws.on('close', (code, reason) => this.onClose(conn, code, reason.toString()));
    this.out.lifecycle.next({ type: 'open', key, connectionId: id, resumed, remoteAddress });
    if (this.o.hello) this.transmit(session, conn, JSON.stringify({ type: 'hello', key, connectionId: id, resumed, seq: session.seq }));
    this.flush(session);
  }

  /**
   * Queues `payload` as JSON for the key's current connection, in call order (see
   * `WebSocketTextServer.send`). Returns `false` if the key has no session.
   */
  send(key: string, payload: unknown): boolean {
    const session = this.sessions.get(key);
    if (!session) {
      this.counters.dropped++;
      return false;
    }
    let text: string;
    try {
      text = JSON.stringify(payload, jsonReplacer);
    } catch (e) {
      // A reply that cannot be serialised (BigInt, cycles) fails only its own key, not the pipeline.
      const error = new SeqstreamError('SEQ_WS_REPLY_UNSERIALIZABLE', `Reply for key ${JSON.stringify(key)} is not JSON-serialisable: ${(e as Error).message}`, { key });
      this.out.error(error, { key, connectionId: session.conn?.id ?? '' });
      this.counters.dropped++;
      text = JSON.stringify({ type: 'error', code: error.code, message: 'The server could not serialise this output' });
    }
    const conn = session.conn;
    if (conn && session.outbox.length === 0 && this.canSend(conn)) {
      this.transmit(session, conn, text);
      return true;
    }
    session.outbox.push(text);
    session.outboxBytes += Buffer.byteLength(text);
    // The buffer may have drained since the last write callback ran: try now, in queue order.
    if (conn) this.flush(session);
    while (session.outboxBytes > this.o.maxBufferedBytes && session.outbox.length > 0) {
      if (this.o.slowReaderPolicy === 'close' && conn && conn.closeCode === null) {
        this.closeConnection(conn, WS_CLOSE.SLOW_READER, `more than ${this.o.maxBufferedBytes} bytes of replies unread`);
      }
      // Under 'close' the queue still drops its oldest so a held session stays bounded.
      const oldest = session.outbox.shift()!;
      session.outboxBytes -= Buffer.byteLength(oldest);
      session.dropped++;
      this.counters.dropped++;
    }
    return true;
  }

  /**
   * Replies `{"type":"error",code,message}` to the key's connection and reports it to `onError`
   * (used by the server for refused messages and by pipelines for work they refuse).
   */
  refuseKey(key: string, code: WebSocketErrorCode, message: string): void {
    const conn = this.sessions.get(key)?.conn;
    if (conn) this.refuse(conn, code, message);
  }

  /** Counters since start. */
  stats(): WebSocketServerStats {
    return { connections: this.connections.size, sessions: this.sessions.size, ...this.counters };
  }

  /** Closes every connection (1001) and ends every session. */
  async closeAll(): Promise<void> {
    this.closing = true;
    const closed = [...this.connections].map((c) => new Promise<void>((resolve) => {
      if (c.ws.readyState === WebSocket.CLOSED) return resolve();
      c.ws.once('close', () => resolve());
      this.closeConnection(c, WS_CLOSE.GOING_AWAY, 'server shutting down');
    }));
    await Promise.all(closed);
    for (const s of [...this.sessions.values()]) this.endSession(s, 'shutdown');
  }

  private closeConnection(conn: Connection, code: number, reason: string): void {
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

  private onClose(conn: Connection, code: number, reason: string): void {
    if (conn.idleTimer) clearTimeout(conn.idleTimer);
    this.connections.delete(conn);
    const session = conn.session;
    this.out.lifecycle.next({
      type: 'close',
      key: session.key,
      connectionId: conn.id,
      code: conn.closeCode ?? code,
      reason: conn.closeCode !== null ? conn.closeReason : reason,
    });
    if (session.conn !== conn) return; // taken over: the session lives on with the newer connection
    session.conn = null;
    session.detachedAt = performance.now();
    if (this.closing) return;
    if (this.o.sessionHoldMs === 0) return this.endSession(session, 'expired');
    session.holdTimer = setTimeout(() => this.endSession(session, 'expired'), this.o.sessionHoldMs);
  }

  private endSession(session: Session, reason: 'expired' | 'evicted' | 'shutdown'): void {
    if (this.sessions.get(session.key) !== session) return;
    if (session.holdTimer) clearTimeout(session.holdTimer);
    this.sessions.delete(session.key);
    this.counters.dropped += session.outbox.length;
    session.outbox = [];
    session.outboxBytes = 0;
    this.out.lifecycle.next({ type: 'end', key: session.key, reason });
  }

  private evictOldestDetached(): void {
    let oldest: Session | null = null;
    for (const s of this.sessions.values()) if (!s.conn && (!oldest || s.detachedAt < oldest.detachedAt)) oldest = s;
    if (oldest) this.endSession(oldest, 'evicted');
  }

  private onMessage(conn: Connection, data: RawData, isBinary: boolean): void {
    if (conn.closeCode !== null) return;
    conn.idleTimer?.refresh();
    const now = performance.now();
    conn.tokens = Math.min(this.o.burst, conn.tokens + ((now - conn.refilledAt) / 1000) * this.o.messagesPerSecond);
    conn.refilledAt = now;
    if (conn.tokens < 1) {
      return this.refuse(conn, 'SEQ_WS_RATE_LIMIT', `More than ${this.o.messagesPerSecond} messages per second (burst ${this.o.burst}): message dropped`);
    }
    conn.tokens -= 1;
    if (isBinary) return this.refuse(conn, 'SEQ_WS_BINARY', 'Binary frames are not accepted: send text or JSON');
    const raw = Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data as ArrayBuffer).toString('utf8');
    const parsed = parseMessage(raw, this.o);
    if (parsed instanceof SeqstreamError) return this.refuse(conn, parsed.code as WebSocketErrorCode, parsed.message);
    const session = conn.session;
    this.counters.messagesIn++;
    this.out.events.next({ key: session.key, connectionId: conn.id, seq: ++session.seq, ...parsed });
  }

  private refuse(conn: Connection, code: WebSocketErrorCode, message: string): void {
    this.counters.errorsReplied++;
    const error = new SeqstreamError(code, message, { key: conn.session.key, connectionId: conn.id });
    this.out.error(error, { key: conn.session.key, connectionId: conn.id });
    // Error replies skip the reply queue so they are not stuck behind outputs, but a client that
    // floods without reading must not grow memory: past the buffer limit they are dropped.
    if (conn.ws.readyState === WebSocket.OPEN && conn.ws.bufferedAmount < this.o.maxBufferedBytes) {
      // With a completion callback like every other write: whichever write completes last flushes
      // the reply queue, so replies queued behind a full buffer go out once the client reads again.
      this.transmit(conn.session, conn, JSON.stringify({ type: 'error', code, message }));
    } else this.counters.dropped++;
  }

  private canSend(conn: Connection): boolean {
    return conn.closeCode === null && conn.ws.readyState === WebSocket.OPEN && conn.ws.bufferedAmount < this.o.maxBufferedBytes;
  }

  private transmit(session: Session, conn: Connection, text: string): void {
    this.counters.messagesOut++;
    conn.ws.send(text, (err) => {
      if (!err) this.flush(session);
    });
  }

  private flush(session: Session): void {
    const conn = session.conn;
    while (conn && session.outbox.length > 0 && this.canSend(conn)) {
      if (session.dropped > 0) {
        const notice = JSON.stringify({ type: 'dropped', count: session.dropped });
        session.dropped = 0;
        this.transmit(session, conn, notice);
      }
      const text = session.outbox.shift()!;
      session.outboxBytes -= Buffer.byteLength(text);
      this.transmit(session, conn, text);
    }
  }
}
