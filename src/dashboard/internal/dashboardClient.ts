import type { WebSocket } from 'ws';
import type { DashboardStore, StreamSort } from '../dashboardStore.js';

const SORTS: readonly StreamSort[] = ['score', 'key', 'value', 'rate', 'lastSeen', 'alerts'];

/** What one page looks at, as it last told the server. */
export interface ClientView {
  sort: StreamSort;
  desc: boolean;
  offset: number;
  limit: number;
  filter: string;
  selected: string | null;
  hidden: boolean;
}

/** Limits one client is served under. */
export interface ClientLimits {
  maxRows: number;
  maxBufferedBytes: number;
  hiddenIntervalMs: number;
}

/**
 * One connected page. Each tick it gets one message: counters, the window of the stream list it
 * shows, new alerts, and the selected stream's new points (full rate; every other stream only
 * as a summary row). It keeps cursors (sequence numbers) into the store, never a queue: when its
 * socket still holds more than `maxBufferedBytes` (a slow or stalled tab) the tick is dropped and
 * counted, and the next one carries what it missed from the rings (or says `reset` if the ring
 * moved past it). So a slow page costs the server at most one tick's message.
 *
 * @example
 * ```ts
 * const client = new DashboardClient(ws, store, { maxRows: 200, maxBufferedBytes: 1 << 20, hiddenIntervalMs: 2000 });
 * client.tick(Date.now(), modelInfo);
 * ```
 */
export class DashboardClient {
  view: ClientView = { sort: 'score', desc: true, offset: 0, limit: 50, filter: '', selected: null, hidden: false };
  /** Ticks not sent to this client because its socket buffer was full. */
  dropped = 0;
  private seriesKey: string | null = null;
  private seriesNext = 0;
  private seriesOf: object | null = null;
  private alertNext = 0;
  private lastSent = 0;

  constructor(private readonly ws: WebSocket, private readonly store: DashboardStore, private readonly limits: ClientLimits) {}

  /** Applies a message from the page; returns an error code when it is not a valid view message. */
  receive(raw: string): string | null {
    let m: Record<string, unknown>;
    try {
      m = JSON.parse(raw) as Record<string, unknown>;
    } catch {
      return 'SEQ_DASHBOARD_BAD_MESSAGE';
    }
    if (!m || typeof m !== 'object' || m.type !== 'view') return 'SEQ_DASHBOARD_BAD_MESSAGE';
    const v = this.view;
    if (typeof m.sort === 'string' && (SORTS as readonly string[]).includes(m.sort)) v.sort = m.sort as StreamSort;
    if (typeof m.desc === 'boolean') v.desc = m.desc;
    if (Number.isInteger(m.offset) && (m.offset as number) >= 0) v.offset = m.offset as number;
    if (Number.isInteger(m.limit) && (m.limit as number) >= 0) v.limit = Math.min(m.limit as number, this.limits.maxRows);
    if (typeof m.filter === 'string') v.filter = m.filter.slice(0, 256);
    if (m.selected === null || typeof m.selected === 'string') v.selected = m.selected as string | null;
    if (typeof m.hidden === 'boolean') v.hidden = m.hidden;
    return null;
  }

  /** Sends this tick's message, or drops it (counted) when the socket is backed up. */
  tick(now: number, hello: unknown): void {
    const v = this.view;
    if (v.hidden && now - this.lastSent < this.limits.hiddenIntervalMs) return;
    if (this.ws.bufferedAmount > this.limits.maxBufferedBytes) {
      this.dropped++;
      this.store.countDroppedFrame();
      return;
    }
    const counters = this.store.snapshotCounters();
    const message: Record<string, unknown> = { type: 'tick', now, counters, dropped: this.dropped, model: hello };
    if (!v.hidden) {
      const { total, rows } = this.store.rows(v.sort, v.desc, v.offset, v.limit, v.filter, now);
      message.total = total;
      message.offset = v.offset;
      message.rows = rows;
      const { alerts, next } = this.store.alertsSince(this.alertNext);
      this.alertNext = next;
      message.alerts = alerts;
      if (v.selected !== this.seriesKey) {
        this.seriesKey = v.selected;
        this.seriesNext = 0;
      }
      if (v.selected !== null) {
        const h = this.store.history(v.selected);
        if (h) {
          if (h !== this.seriesOf) this.seriesNext = 0; // first time, or the key was evicted and came back
          this.seriesOf = h;
          const series = h.since(this.seriesNext);
          this.seriesNext = series.next;
          message.series = series;
        } else {
          message.series = null;
        }
      }
    }
    this.lastSent = now;
    this.ws.send(JSON.stringify(message));
  }
}
