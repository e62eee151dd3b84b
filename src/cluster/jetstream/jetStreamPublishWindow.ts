import type { MsgHdrs, NatsConnection, Msg, Subscription } from '@nats-io/nats-core';
import { SeqstreamError } from '../../errors.js';
import { integerOption, numberOption } from '../../options.js';
import type { NatsModules } from './loadNats.js';

/** Settings of {@link JetStreamPublishWindow}. */
export interface JetStreamPublishWindowOptions {
  /** A publish with no acknowledgement after this many ms is sent again (same `Nats-Msg-Id`). Default 5000. */
  ackTimeoutMs?: number;
  /** How often unacknowledged publishes are checked for their timeout or retry time, in ms. Default 250. */
  sweepMs?: number;
  /**
   * Refusals of one message (an error PubAck: stream full with discard new, no stream for the
   * subject, no stream leader) before its lane fails with `SEQ_CLUSTER_REFUSED`. Timeouts do not
   * count (an unreachable server is waited for). Default 20 (about 30 s of backoff).
   */
  maxRefusals?: number;
  /** Status lines: each refusal reason once, and each failed lane. Default none. */
  status?: (line: string) => void;
}

interface Pending {
  subject: string;
  data: Uint8Array;
  headers: MsgHdrs;
  reply: string;
  /** `performance.now()` after which it is sent again. */
  due: number;
  attempts: number;
  /** Error replies so far. */
  refusals: number;
}

interface Lane {
  /** Unacknowledged publishes by index, in the order they were queued (never re-inserted). */
  pending: Map<number, Pending>;
  /** `stored()` callers: resolved once every index below `upto` is acknowledged. */
  stored: { upto: number; resolve: () => void; reject: (e: Error) => void }[];
  /** `below()` callers: resolved once at most `atMost` are unacknowledged. */
  below: { atMost: number; resolve: () => void; reject: (e: Error) => void }[];
  /** Set once a message was refused `maxRefusals` times: nothing of the lane counts as stored any more, until it is dropped. */
  failed?: SeqstreamError;
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
 *    "no responders" while a stream has no leader) schedules a resend after a backoff, reports
 *    its reason once (`SEQ_CLUSTER_REFUSED` on `status`), and after `maxRefusals` refusals of
 *    one message fails its lane: its waiters reject with `SEQ_CLUSTER_REFUSED`, and so does
 *    every later `stored`/`below` of the lane until `drop`, so no checkpoint can cover an output
 *    that was never stored (the worker gives the partition up; its next owner replays it).
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
  private readonly maxRefusals: number;
  private readonly status: (line: string) => void;
  /** Refusal reasons already reported: each once. */
  private readonly reported = new Set<string>();
  /** Index of the next message, over all lanes: a late ack can never name a newer message. */
  private next = 0;
  private closed = false;

  constructor(
    private readonly nats: NatsModules,
    private readonly nc: NatsConnection,
    options: JetStreamPublishWindowOptions = {},
  ) {
    this.ackTimeoutMs = numberOption('ackTimeoutMs', options.ackTimeoutMs, 5000, { min: 1 });
    this.maxRefusals = integerOption('maxRefusals', options.maxRefusals, 20, 1);
    this.status = options.status ?? (() => undefined);
    this.inbox = nats.transport.createInbox();
    this.sub = nc.subscribe(`${this.inbox}.>`, { callback: (err, m) => void (err || this.onAck(m)) });
    this.timer = setInterval(() => this.sweep(), numberOption('sweepMs', options.sweepMs, 250, { min: 1 }));
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
    if (l.failed) return; // the lane failed: none of it is stored, its partition is being given up
    const index = this.next++;
    const headers = this.nats.transport.headers();
    headers.set('Nats-Msg-Id', msgID);
    if (extra) for (const k in extra) headers.set(k, extra[k]);
    const m: Pending = { subject, data, headers, reply: `${this.inbox}.${lane}.${index.toString(36)}`, due: 0, attempts: 0, refusals: 0 };
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
    const id = Number(s.slice(a + 1, b));
    const l = this.lanes.get(id);
    if (!l) return;
    const index = parseInt(s.slice(b + 1), 36);
    const m = l.pending.get(index);
    if (!m) return; // a late ack of a message already acknowledged
    if (!isStoredAck(msg.data)) {
      this.refused(id, l, m, refusalReason(msg));
      return;
    }
    l.pending.delete(index);
    this.wake(l);
  }

  private refused(id: number, l: Lane, m: Pending, reason: string): void {
    m.refusals++;
    if (!this.reported.has(reason)) {
      this.reported.add(reason);
      this.status(`partition ${id}: publish to ${m.subject} refused (SEQ_CLUSTER_REFUSED: ${reason}); retrying with backoff, the partition is given up after ${this.maxRefusals} refusals of one message`);
    }
    if (m.refusals < this.maxRefusals) {
      m.due = performance.now() + RETRY_MS[Math.min(m.attempts - 1, RETRY_MS.length - 1)];
      return;
    }
    const e = new SeqstreamError('SEQ_CLUSTER_REFUSED', `publish to ${m.subject} refused ${m.refusals} times (${reason})`, { partition: id, subject: m.subject, reason, refusals: m.refusals });
    l.failed = e;
    l.pending.clear();
    for (const w of [...l.stored, ...l.below]) w.reject(e);
    l.stored = [];
    l.below = [];
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

  /** Resolves once every message published in `lane` before this call is acknowledged; rejects if the lane is dropped first, or failed (`SEQ_CLUSTER_REFUSED`). */
  stored(lane: number): Promise<void> {
    const l = this.lane(lane);
    if (l.failed) return Promise.reject(l.failed);
    if (l.pending.size === 0) return Promise.resolve();
    return new Promise((resolve, reject) => l.stored.push({ upto: this.next, resolve, reject }));
  }

  /** Resolves once at most `atMost` messages of `lane` are unacknowledged; rejects like {@link JetStreamPublishWindow.stored}. */
  below(lane: number, atMost: number): Promise<void> {
    const l = this.lane(lane);
    if (l.failed) return Promise.reject(l.failed);
    if (l.pending.size <= atMost) return Promise.resolve();
    return new Promise((resolve, reject) => l.below.push({ atMost, resolve, reject }));
  }

  /** Unacknowledged messages of `lane`. */
  unacknowledged(lane: number): number {
    return this.lanes.get(lane)?.pending.size ?? 0;
  }

  /** Forgets `lane`'s unacknowledged messages (its partition stopped; they are not sent again) and a failure; its waiters reject with `SEQ_CLUSTER_STOPPED`. */
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

const decoder = new TextDecoder();

/** Why a publish was not stored, from its reply: a JetStream error (`err_code` and description) or a status (503: no responders). */
function refusalReason(msg: Msg): string {
  const h = msg.headers;
  if (h && h.code >= 400) return h.code === 503 ? 'no responders: no stream takes this subject, or its stream has no leader now' : `status ${h.code} ${h.description}`.trim();
  try {
    const e = (JSON.parse(decoder.decode(msg.data)) as { error?: { code?: number; err_code?: number; description?: string } }).error;
    if (e) return `${e.description ?? 'error'} (code ${e.code ?? '?'}, err_code ${e.err_code ?? '?'})`;
  } catch {
    // not JSON: reported as bytes below
  }
  return `unexpected reply of ${msg.data.length} bytes`;
}
