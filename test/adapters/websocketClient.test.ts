import { afterEach, describe, expect, it } from 'vitest';
import { filter, firstValueFrom, map, Subject, take, toArray, type Observable } from 'rxjs';
import { WebSocketServer, type WebSocket } from 'ws';
import { websocketClient, type WebSocketClientStatus } from '../../src/adapters/websocketClient.js';
import { websocketServer, type WebSocketTextServer } from '../../src/adapters/websocketServer.js';
import { SeqstreamError } from '../../src/errors.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const f of cleanups.splice(0).reverse()) await f();
});

async function textServer(options: Parameters<typeof websocketServer>[0] = {}): Promise<WebSocketTextServer> {
  const s = await websocketServer(options);
  cleanups.push(() => s.close());
  return s;
}

/** A bare ws server that runs `onConnection` for each client (to misbehave on purpose). */
async function rawServer(onConnection: (ws: WebSocket) => void): Promise<string> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((r) => wss.once('listening', r));
  wss.on('connection', onConnection);
  cleanups.push(() => new Promise<void>((r) => (wss.clients.forEach((c) => c.terminate()), wss.close(() => r()))));
  return `ws://127.0.0.1:${(wss.address() as { port: number }).port}`;
}

async function freePort(): Promise<number> {
  const s = await websocketServer();
  const port = s.port;
  await s.close();
  return port;
}

/** Polls `cond` until it holds or `ms` pass (a liveness bound, not a speed assertion). */
async function eventually(cond: () => boolean, ms = 4000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
}

function errorOf(source: Observable<unknown>): Promise<SeqstreamError> {
  return new Promise((resolve, reject) =>
    source.subscribe({ next: () => undefined, error: (e: SeqstreamError) => resolve(e), complete: () => reject(new Error('completed, expected an error')) }),
  );
}

/** Echo pipeline: each text event comes back as { type: 'output', seq, echo }. */
function echo(server: WebSocketTextServer): void {
  server.events.pipe(map((e) => ({ key: e.key, seq: e.seq, echo: e.text })), server.reply()).subscribe();
}

describe('websocketClient', () => {
  it('emits parsed messages and sends outgoing ones, in order', async () => {
    const server = await textServer();
    echo(server);
    const out = new Subject<unknown>();
    const got = firstValueFrom(websocketClient<Record<string, unknown>>(server.url, { outgoing: out }).pipe(take(4), toArray()));
    out.next('a');
    out.next('b');
    out.next({ text: 'c' });
    const msgs = await got;
    expect(msgs[0]).toMatchObject({ type: 'hello' });
    expect(msgs.slice(1)).toEqual([
      { type: 'output', seq: 1, echo: 'a' },
      { type: 'output', seq: 2, echo: 'b' },
      { type: 'output', seq: 3, echo: 'c' },
    ]);
    // take(4) unsubscribed: the client closed its socket with 1000.
    const closed = await firstValueFrom(server.lifecycle.pipe(filter((e) => e.type === 'close')));
    expect(closed).toMatchObject({ code: 1000 });
  });

  it('reconnects through a server restart on the same port and resumes its session', async () => {
    let server = await websocketServer({ sessionHoldMs: 60000 });
    const port = server.port;
    echo(server);
    const statuses: WebSocketClientStatus[] = [];
    const out = new Subject<string>();
    const received: Array<Record<string, unknown>> = [];
    let wake: () => void = () => undefined;
    const until = (n: number) => new Promise<void>((r) => (wake = () => received.length >= n && r(), wake()));
    const sub = websocketClient<Record<string, unknown>>(`ws://127.0.0.1:${port}/?session=feed-1-0123456789abcdef`, {
      outgoing: out,
      reconnect: { initialDelayMs: 20, maxDelayMs: 200, maxAttempts: 50 },
      onStatus: (s) => statuses.push(s),
    }).subscribe((m) => (received.push(m), wake()));
    cleanups.push(() => sub.unsubscribe());
    out.next('before');
    await until(2);
    await server.close();
    // Sent while the server is down: queued, delivered after the reconnect.
    out.next('during');
    server = await websocketServer({ port });
    cleanups.push(() => server.close());
    echo(server);
    await until(4);
    out.next('after');
    await until(5);
    expect(received.map((m) => m.type + (m.echo ? `:${m.echo}` : ''))).toEqual(['hello', 'output:before', 'hello', 'output:during', 'output:after']);
    expect(received[2]).toMatchObject({ key: 'feed-1-0123456789abcdef', resumed: false });
    expect(statuses.some((s) => s.type === 'close' && s.code === 1001)).toBe(true);
    expect(statuses.some((s) => s.type === 'reconnecting')).toBe(true);
    expect(statuses.filter((s) => s.type === 'open')).toHaveLength(2);
  });

  it('completes when the server closes with 1000', async () => {
    const url = await rawServer((ws) => {
      ws.send('{"n":1}');
      ws.send('{"n":2}');
      ws.close(1000, 'done');
    });
    expect(await firstValueFrom(websocketClient(url).pipe(toArray()))).toEqual([{ n: 1 }, { n: 2 }]);
  });

  it('backs off exponentially with jitter and gives up after maxAttempts with SEQ_WS_RECONNECT_EXHAUSTED', async () => {
    const port = await freePort();
    const statuses: WebSocketClientStatus[] = [];
    const err = await errorOf(
      websocketClient(`ws://127.0.0.1:${port}`, {
        reconnect: { initialDelayMs: 4, factor: 3, maxDelayMs: 50, jitter: 0.5, maxAttempts: 4 },
        random: () => 1,
        onStatus: (s) => statuses.push(s),
      }),
    );
    expect(err.code).toBe('SEQ_WS_RECONNECT_EXHAUSTED');
    // min(50, 4·3^(n−1)) × (1 − 0.5·1)
    expect(statuses).toEqual([4, 12, 36, 50].map((base, i) => ({ type: 'reconnecting', attempt: i + 1, delayMs: base / 2 })));
  });

  it('with reconnect: false, an unexpected close errors with SEQ_WS_CLOSED', async () => {
    const url = await rawServer((ws) => ws.close(1011, 'oops'));
    const err = await errorOf(websocketClient(url, { reconnect: false }));
    expect(err.code).toBe('SEQ_WS_CLOSED');
    expect(err.details).toMatchObject({ code: 1011, reason: 'oops' });
  });

  it('an upgrade refused with 401 errors at once with SEQ_WS_REJECTED; 503 is retried', async () => {
    const server = await textServer({ tokens: ['t0k3n'], maxConnections: 1 });
    const err = await errorOf(websocketClient(server.url, { reconnect: { initialDelayMs: 1, maxAttempts: 3 } }));
    expect(err.code).toBe('SEQ_WS_REJECTED');
    expect(err.details.status).toBe(401);
    const headers = { Authorization: 'Bearer t0k3n' };
    const first = websocketClient(server.url, { headers }).subscribe();
    cleanups.push(() => first.unsubscribe());
    await firstValueFrom(server.lifecycle.pipe(filter((e) => e.type === 'open')));
    const busy = await errorOf(websocketClient(server.url, { headers, reconnect: { initialDelayMs: 1, maxAttempts: 2 } }));
    expect(busy.code).toBe('SEQ_WS_RECONNECT_EXHAUSTED');
  });

  it('bad JSON or a binary frame errors with a stable code, or is skipped on request', async () => {
    const url = await rawServer((ws) => {
      ws.send('{"ok":1}');
      ws.send('{broken');
      ws.send(Buffer.from([0, 1]));
      ws.send('{"ok":2}');
      ws.close(1000);
    });
    expect((await errorOf(websocketClient(url))).code).toBe('SEQ_WS_BAD_JSON');
    const skipped: Array<[string, string | undefined]> = [];
    const values = await firstValueFrom(
      websocketClient(url, { invalidInput: 'skip', onError: (e, text) => skipped.push([e.code, text]) }).pipe(toArray()),
    );
    expect(values).toEqual([{ ok: 1 }, { ok: 2 }]);
    expect(skipped).toEqual([['SEQ_WS_BAD_JSON', '{broken'], ['SEQ_WS_BINARY', undefined]]);
  });

  it("parses with 'text' or a function", async () => {
    const url = await rawServer((ws) => {
      ws.send('3');
      ws.close(1000);
    });
    expect(await firstValueFrom(websocketClient(url, { parse: 'text' }).pipe(toArray()))).toEqual(['3']);
    expect(await firstValueFrom(websocketClient(url, { parse: (s) => Number(s) * 2 }).pipe(toArray()))).toEqual([6]);
    expect((await errorOf(websocketClient(url, { parse: () => { throw new Error('no'); } }))).code).toBe('SEQ_WS_BAD_JSON');
  });

  it('unsubscribing while a reconnect is pending cancels it', async () => {
    const port = await freePort();
    const statuses: WebSocketClientStatus[] = [];
    const sub = websocketClient(`ws://127.0.0.1:${port}`, { reconnect: { initialDelayMs: 60000, maxDelayMs: 60000 }, onStatus: (s) => statuses.push(s) }).subscribe();
    await new Promise<void>((r) => {
      const t = setInterval(() => statuses.length > 0 && (clearInterval(t), r()), 5);
    });
    sub.unsubscribe();
    expect(statuses).toHaveLength(1);
    expect(sub.closed).toBe(true);
  });

  it('a throwing onStatus or onError ends the stream once with SEQ_WS_CALLBACK and closes the socket', async () => {
    const server = await textServer();
    const uncaught: unknown[] = [];
    const onUncaught = (e: unknown): void => void uncaught.push(e);
    process.on('uncaughtException', onUncaught);
    cleanups.push(() => void process.off('uncaughtException', onUncaught));
    const errors: SeqstreamError[] = [];
    const closed = firstValueFrom(server.lifecycle.pipe(filter((e) => e.type === 'close')));
    const sub = websocketClient(server.url, { onStatus: () => { throw new Error('boom in onStatus'); } }).subscribe({
      error: (e: SeqstreamError) => void errors.push(e),
    });
    cleanups.push(() => sub.unsubscribe());
    await eventually(() => errors.length > 0 || uncaught.length > 0);
    expect(uncaught).toEqual([]);
    expect(errors).toHaveLength(1);
    expect(await closed).toMatchObject({ type: 'close' });
    expect(errors[0].code).toBe('SEQ_WS_CALLBACK');
    expect(errors[0].details).toMatchObject({ callback: 'onStatus' });

    const url = await rawServer((ws) => {
      ws.send('{bad');
      ws.send('{bad');
    });
    const bad: SeqstreamError[] = [];
    const err = await errorOf(websocketClient(url, { invalidInput: 'skip', onError: (e) => { bad.push(e); throw new Error('boom'); } }));
    expect(err.code).toBe('SEQ_WS_CALLBACK');
    expect(err.details).toMatchObject({ callback: 'onError' });
    expect(bad).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 50));
    expect(uncaught).toEqual([]);
  });

  it('a server that accepts then closes at once: backoff keeps growing and maxAttempts ends it', async () => {
    // The failure count used to reset on every open, so this looped forever at the initial delay.
    const url = await rawServer((ws) => ws.close(1011, 'not now'));
    const statuses: WebSocketClientStatus[] = [];
    let error = null as SeqstreamError | null;
    const sub = websocketClient(url, { reconnect: { initialDelayMs: 2, factor: 2, maxDelayMs: 50, maxAttempts: 4, jitter: 0 }, onStatus: (s) => statuses.push(s) }).subscribe({
      error: (e: SeqstreamError) => (error = e),
    });
    cleanups.push(() => sub.unsubscribe());
    const reconnecting = () => statuses.filter((s) => s.type === 'reconnecting');
    await eventually(() => error !== null || reconnecting().length >= 12);
    expect(error?.code).toBe('SEQ_WS_RECONNECT_EXHAUSTED');
    expect(reconnecting()).toEqual([2, 4, 8, 16].map((delayMs, i) => ({ type: 'reconnecting', attempt: i + 1, delayMs })));
  });

  it('a connection that stayed open stableAfterMs resets the failure count', async () => {
    let n = 0;
    const url = await rawServer((ws) => void setTimeout(() => ws.close(1011), 100, ++n));
    const statuses: WebSocketClientStatus[] = [];
    const sub = websocketClient(url, { reconnect: { initialDelayMs: 1, maxAttempts: 1, stableAfterMs: 1 }, onStatus: (s) => statuses.push(s) }).subscribe();
    cleanups.push(() => sub.unsubscribe());
    // maxAttempts 1 would end the stream at the second close if stable opens did not reset the count.
    await eventually(() => n >= 4);
    expect(sub.closed).toBe(false);
    expect(statuses.filter((s) => s.type === 'reconnecting').every((s) => s.type === 'reconnecting' && s.attempt === 1)).toBe(true);
  });

  it('two clients sharing a session id: the displaced one ends with SEQ_WS_CLOSED_FINAL (4003), no tug of war', async () => {
    const server = await textServer();
    const url = `${server.url}/?session=shared-0123456789abcdef`;
    const opened = firstValueFrom(server.lifecycle.pipe(filter((e) => e.type === 'open')));
    let errA = null as SeqstreamError | null;
    const a = websocketClient(url).subscribe({ error: (e: SeqstreamError) => (errA = e) });
    cleanups.push(() => a.unsubscribe());
    await opened;
    let opensB = 0;
    const b = websocketClient(url, { onStatus: (s) => void (s.type === 'open' && opensB++) }).subscribe();
    cleanups.push(() => b.unsubscribe());
    await eventually(() => errA !== null);
    expect(errA).not.toBeNull();
    expect(errA!.code).toBe('SEQ_WS_CLOSED_FINAL');
    expect(errA!.details).toMatchObject({ code: 4003 });
    await new Promise((r) => setTimeout(r, 300));
    expect(opensB).toBe(1);
    expect(b.closed).toBe(false);
    expect(server.stats().connections).toBe(1);
  });

  it('outgoing: stops at maxBufferedBytes while the server does not read, drops the oldest queued (reported), resumes on drain', async () => {
    const received: number[] = [];
    let socketOfServer: { pause(): void; resume(): void } | null = null;
    const url = await rawServer((ws) => {
      socketOfServer = (ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
      socketOfServer.pause();
      ws.on('message', (d) => received.push(Number(d.toString().slice(0, 8))));
    });
    const out = new Subject<string>();
    const statuses: WebSocketClientStatus[] = [];
    const sub = websocketClient(url, { outgoing: out, maxBufferedBytes: 256 * 1024, maxQueuedMessages: 8, onStatus: (s) => statuses.push(s) }).subscribe();
    cleanups.push(() => sub.unsubscribe());
    await eventually(() => socketOfServer !== null && statuses.some((s) => s.type === 'open'));
    const pad = 'x'.repeat(64 * 1024);
    const dropped = () => statuses.filter((s) => s.type === 'dropped').length;
    let i = 0;
    // Enough to fill the kernel's socket buffers; without a bound all of it sat in ws's memory.
    while (i < 600 && dropped() === 0) {
      for (let k = 0; k < 8; k++) out.next(String(i++).padStart(8, '0') + pad);
      await new Promise((r) => setTimeout(r, 5));
    }
    for (let k = 0; k < 8; k++) out.next(String(i++).padStart(8, '0') + pad);
    const last = i - 1;
    expect(dropped()).toBeGreaterThan(0);
    const lastDrop = statuses.filter((s) => s.type === 'dropped').at(-1);
    expect(lastDrop).toEqual({ type: 'dropped', total: dropped() });
    socketOfServer!.resume();
    await eventually(() => received.at(-1) === last, 10000);
    expect(received.at(-1)).toBe(last);
    expect(received.length + dropped()).toBe(last + 1);
    expect(received.every((n, k) => k === 0 || n > received[k - 1])).toBe(true);
  }, 30000);

  it('invalid options throw SEQ_INVALID_OPTION synchronously', () => {
    const bad = [
      { parse: 'xml' },
      { invalidInput: 'ignore' },
      { reconnect: { jitter: 2 } },
      { reconnect: { maxAttempts: 0 } },
      { reconnect: { factor: 0.5 } },
      { reconnect: { initialDelayMs: 100, maxDelayMs: 10 } },
      { maxPayload: 0 },
      { reconnect: true },
      { reconnect: { stableAfterMs: -1 } },
      { maxBufferedBytes: 0 },
      { finalCloseCodes: [1.5] },
    ];
    for (const o of bad) {
      let code: string | undefined;
      try {
        websocketClient('ws://127.0.0.1:1', o as never);
      } catch (e) {
        code = (e as SeqstreamError).code;
      }
      expect(code, JSON.stringify(o)).toBe('SEQ_INVALID_OPTION');
    }
  });
});
