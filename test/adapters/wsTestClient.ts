import type { IncomingMessage } from 'node:http';
import { WebSocket, type ClientOptions } from 'ws';

/** A real ws client with an awaitable inbox, for tests. */
export interface TestClient {
  ws: WebSocket;
  /** Every parsed message received so far. */
  inbox: Array<Record<string, unknown>>;
  /** Resolves with the next message not yet taken. */
  next(): Promise<Record<string, unknown>>;
  /** Resolves once `n` messages have been received in total (from the start). */
  waitFor(n: number): Promise<Array<Record<string, unknown>>>;
  send(data: unknown): void;
  closed: Promise<{ code: number; reason: string }>;
  close(): Promise<void>;
}

export function connect(url: string, options: ClientOptions = {}): Promise<TestClient> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, options);
    const inbox: Array<Record<string, unknown>> = [];
    let taken = 0;
    let waiters: Array<() => void> = [];
    const wake = (): void => {
      const w = waiters;
      waiters = [];
      w.forEach((f) => f());
    };
    const closed = new Promise<{ code: number; reason: string }>((res) => ws.on('close', (code, reason) => (wake(), res({ code, reason: reason.toString() }))));
    ws.on('message', (data) => {
      inbox.push(JSON.parse(data.toString()) as Record<string, unknown>);
      wake();
    });
    ws.on('error', reject);
    ws.on('unexpected-response', (_req, res: IncomingMessage) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode, body: JSON.parse(body || '{}') })));
    });
    const until = (cond: () => boolean): Promise<void> =>
      new Promise((res, rej) => {
        const check = (): void => {
          if (cond()) return res();
          if (ws.readyState === WebSocket.CLOSED) return rej(new Error(`socket closed while waiting (${inbox.length} messages)`));
          waiters.push(check);
        };
        check();
      });
    ws.on('open', () =>
      resolve({
        ws,
        inbox,
        async next() {
          await until(() => inbox.length > taken);
          return inbox[taken++];
        },
        async waitFor(n) {
          await until(() => inbox.length >= n);
          taken = Math.max(taken, n);
          return inbox.slice(0, n);
        },
        send(data) {
          ws.send(typeof data === 'string' || Buffer.isBuffer(data) ? data : JSON.stringify(data));
        },
        closed,
        async close() {
          if (ws.readyState !== WebSocket.CLOSED) ws.close();
          await closed;
        },
      }),
    );
  });
}

/** Resolves with the HTTP rejection `{ status, body }` of a refused upgrade (fails if it connects). */
export async function refused(url: string, options: ClientOptions = {}): Promise<{ status: number; body: { error?: { code?: string } } }> {
  try {
    const c = await connect(url, options);
    await c.close();
  } catch (e) {
    const err = e as { status?: number; body?: { error?: { code?: string } } };
    if (err.status !== undefined) return { status: err.status, body: err.body ?? {} };
    throw e;
  }
  throw new Error('upgrade was accepted, expected a refusal');
}
