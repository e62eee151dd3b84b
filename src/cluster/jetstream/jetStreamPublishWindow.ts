import type { MsgHdrs, NatsConnection, Msg, Subscription } from '@nats-io/nats-core';
import { SeqstreamError } from '../../errors.js';
import type { NatsModules } from './loadNats.js';

/** Settings of {@link JetStreamPublishWindow}. */
export interface JetStreamPublishWindowOptions {
  /** A publish with no acknowledgement after this many ms is sent again (same `Nats-Msg-Id`). Default 5000. */
  ackTimeoutMs?: number;
  /** How often unacknowledged publishes are checked for their timeout or retry time, in ms. Default 250. */
  sweepMs?: number;
}

interface Pending {
  subject: string;
  data: Uint8Array;
  headers: MsgHdrs;
  reply: string;
  /** `performance.now()` after which it is sent again. */
  due: number;
  attempts: number;
}

interface Lane {
  /** Unacknowledged publishes by index, in the order they were queued (never re-inserted). */
  pending: Map<number, Pending>;
  /** `stored()` callers: resolved once every index below `upto` is acknowledged. */
  stored: { upto: number; resolve: () => void; reject: (e: Error) => void }[];
  /** `below()` callers: resolved once at most `atMost` are unacknowledged. */
  below: { atMost: number; resolve: () => void; reject: (e: Error) => void }[];
}

const RETRY_MS = [50, 100, 200, 400, 800, 1600, 2000];
/** A stored message's PubAck starts `{"stream"`; an error one starts `{"error"`. */
const ACK_PREFIX = [0x7b, 0x22, 0x73, 0x74, 0x72, 0x65, 0x61, 0x6d, 0x22];

function isStoredAck(data: Uint8Array): boolean {
  if (data.length < ACK_PREFIX.length) return false;
  for (let i = 0; i < ACK_PREFIX.length; i++) if (data[i] !== ACK_PREFIX[i]) return false;
  return true;
}

/**
 * Pipelined JetStream publishes: each message goes out as a plain publish whose reply subject
 * names it (`<inbox>.<lane>.<index>`), one subscription collects every PubAck, and one timer
 * resends what is unacknowledged after `ackTimeoutMs` or was refused (backoff 50 ms doubling to
 * 2 s). No promise, timer or error object per message, unlike `js.publish()`, which costs a
 * request with its own timeout and stack-trace objects each. Publishes are grouped in lanes (a
 * worker uses one per partition) so a checkpoint can wait for exactly its own outputs.
 *
 * Algorithm:
 * 1. `publish(lane, subject, data, msgID)` sends at once and remembers the message by index.
 * 2. A PubAck `{"stream"...}` (a duplicate included) forgets it; anything else (an error, a 503
 *    "no responders" while a stream has no leader) schedules a resend after a backoff.
 * 3. Every `sweepMs`, messages past their due time are sent again with the same `Nats-Msg-Id`,
 *    so the stream stores each once within its duplicate window.
 * 4. `stored(lane)` resolves once everything queued in the lane before the call is acknowledged;
 *    `below(lane, n)` once at most `n` are unacknowledged (back-pressure).
 *
 * @example
 * ```ts
 * const window = new JetStreamPublishWindow(nats, nc);
 * window.publish(3, 'sensors.out.3', body, '3:1201');
 * await window.stored(3); // every output of lane 3 so far is in the stream
 * ```
 */
export class JetStreamPublishWindow {
  private readonly lanes = new Map<number, Lane>();
  private readonly inbox: string;
  private readonly sub: Subscription;
  private readonly timer: ReturnType<typeof setInterval>;
  private readonly ackTimeoutMs: number;
  /** Index of the next message, over all lanes: a late ack can never name a newer message. */
  private next = 0;
  private closed = false;

  constructor(
    private readonly nats: NatsModules,
    private readonly nc: NatsConnection,
    options: JetStreamPublishWindowOptions = {},
  ) {
    this.ackTimeoutMs = options.ackTimeoutMs ?? 5000;
    this.inbox = nats.transport.createInbox();
    this.sub = nc.subscribe(`${this.inbox}.>`, { callback: (err, m) => void (err || this.onAck(m)) });
    this.timer = setInterval(() => this.sweep(), options.sweepMs ?? 250);
    this.timer.unref?.();
  }

  private lane(id: number): Lane {
    let l = this.lanes.get(id);
    if (!l) this.lanes.set(id, (l = { pending: new Map(), stored: [], below: [] }));
    return l;
  }

  /** Sends one message (with `Nats-Msg-Id = msgID` and any `extra` headers) and keeps it until acknowledged. */
  publish(lane: number, subject: string, data: Uint8Array, msgID: string, extra?: Record<string, string>): void {
    if (this.closed) throw new SeqstreamError('SEQ_CLUSTER_STOPPED', 'the publish window is closed', {});
    const l = this.lane(lane);
    const index = this.next++;
    const headers = this.nats.transport.headers();
    headers.set('Nats-Msg-Id', msgID);
    if (extra) for (const k in extra) headers.set(k, extra[k]);
    const m: Pending = { subject, data, headers, reply: `${this.inbox}.${lane}.${index.toString(36)}`, due: 0, attempts: 0 };
    l.pending.set(index, m);
    this.send(m);
  }

  private send(m: Pending): void {
    m.attempts++;
    m.due = performance.now() + this.ackTimeoutMs;
    try {
      this.nc.publish(m.subject, m.data, { headers: m.headers, reply: m.reply });
    } catch {
      m.due = performance.now() + RETRY_MS[Math.min(m.attempts - 1, RETRY_MS.length - 1)]; // closed or draining: the sweep retries
    }
  }

  private onAck(msg: Msg): void {
    const s = msg.subject;
    const b = s.lastIndexOf('.');
    const a = s.lastIndexOf('.', b - 1);
    const l = this.lanes.get(Number(s.slice(a + 1, b)));
    if (!l) return;
    const index = parseInt(s.slice(b + 1), 36);
    const m = l.pending.get(index);
    if (!m) return; // a late ack of a message already acknowledged
    if (!isStoredAck(msg.data)) {
      m.due = performance.now() + RETRY_MS[Math.min(m.attempts - 1, RETRY_MS.length - 1)];
      return;
    }
    l.pending.delete(index);
    this.wake(l);
  }

  private wake(l: Lane): void {
    if (l.below.length > 0) {
      const n = l.pending.size;
      l.below = l.below.filter((w) => (n <= w.atMost ? (w.resolve(), false) : true));
    }
    if (l.stored.length > 0) {
      const oldest = l.pending.size === 0 ? this.next : (l.pending.keys().next().value as number);
      l.stored = l.stored.filter((w) => (oldest >= w.upto ? (w.resolve(), false) : true));
    }
  }

  private sweep(): void {
    if (this.nc.isClosed()) return;
    const now = performance.now();
    for (const l of this.lanes.values()) for (const m of l.pending.values()) if (m.due <= now) this.send(m);
  }

  /** Resolves once every message published in `lane` before this call is acknowledged; rejects if the lane is dropped first. */
  stored(lane: number): Promise<void> {
    const l = this.lane(lane);
    if (l.pending.size === 0) return Promise.resolve();
    return new Promise((resolve, reject) => l.stored.push({ upto: this.next, resolve, reject }));
  }

  /** Resolves once at most `atMost` messages of `lane` are unacknowledged. */
  below(lane: number, atMost: number): Promise<void> {
    const l = this.lane(lane);
    if (l.pending.size <= atMost) return Promise.resolve();
    return new Promise((resolve, reject) => l.below.push({ atMost, resolve, reject }));
  }

  /** Unacknowledged messages of `lane`. */
  unacknowledged(lane: number): number {
    return this.lanes.get(lane)?.pending.size ?? 0;
  }

  /** Forgets `lane`'s unacknowledged messages (its partition stopped; they are not sent again); its waiters reject with `SEQ_CLUSTER_STOPPED`. */
  drop(lane: number): void {
    const l = this.lanes.get(lane);
    if (!l) return;
    this.lanes.delete(lane);
    const e = new SeqstreamError('SEQ_CLUSTER_STOPPED', `publishes of partition ${lane} were dropped`, { partition: lane });
    for (const w of [...l.stored, ...l.below]) w.reject(e);
  }

  /** Stops resending and unsubscribes; waiters of every lane reject. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    for (const id of [...this.lanes.keys()]) this.drop(id);
    this.sub.unsubscribe();
  }
}
