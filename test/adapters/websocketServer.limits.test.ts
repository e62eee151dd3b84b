import { createConnection } from 'node:net';
import { describe, expect, it } from 'vitest';
import { firstValueFrom, toArray, take } from 'rxjs';
import { WebSocket } from 'ws';
import { websocketServer, WS_CLOSE, type WebSocketServerOptions } from '../../src/adapters/websocketServer.js';
import { SeqstreamError } from '../../src/errors.js';
import { refused, type TestClient } from './wsTestClient.js';
import { closeAfterEach, nextLifecycle, open, sid, start } from './websocketServerKit.js';

closeAfterEach();

describe('websocketServer: limits and security', () => {
  it('maxPayload: an oversized message closes only that connection with 1009', async () => {
    const server = await start({ maxPayload: 1024 });
    const big = await open(server.url);
    const other = await open(server.url);
    await big.next();
    await other.next();
    big.send({ text: 'a'.repeat(2000) });
    expect((await big.closed).code).toBe(WS_CLOSE.MESSAGE_TOO_BIG);
    const got = firstValueFrom(server.events);
    other.send({ text: 'a'.repeat(900) });
    expect((await got).text).toHaveLength(900);
  });

  it('a text frame that is not valid UTF-8 closes only that connection with 1007', async () => {
    const server = await start();
    const bad = await open(server.url);
    const other = await open(server.url);
    await bad.next();
    await other.next();
    bad.ws.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: false });
    expect((await bad.closed).code).toBe(WS_CLOSE.INVALID_UTF8);
    const got = firstValueFrom(server.events);
    other.send('still fine');
    expect((await got).text).toBe('still fine');
  });

  it('maxConnections: the next upgrade gets 503 SEQ_WS_TOO_MANY_CONNECTIONS until one leaves', async () => {
    const server = await start({ maxConnections: 2 });
    const a = await open(server.url);
    await open(server.url);
    const r = await refused(server.url);
    expect(r.status).toBe(503);
    expect(r.body.error?.code).toBe('SEQ_WS_TOO_MANY_CONNECTIONS');
    const gone = nextLifecycle(server, (e) => e.type === 'close');
    await a.close();
    await gone;
    const c = await open(server.url);
    expect(await c.next()).toMatchObject({ type: 'hello' });
  });

  it('rate limit: beyond the token bucket a message gets SEQ_WS_RATE_LIMIT and is dropped', async () => {
    const server = await start({ messagesPerSecond: 0.001, burst: 3 });
    const seen = firstValueFrom(server.events.pipe(take(3), toArray()));
    const c = await open(server.url);
    const other = await open(server.url);
    await c.next();
    await other.next();
    for (let i = 0; i < 5; i++) c.send(`m${i}`);
    expect((await seen).map((e) => e.text)).toEqual(['m0', 'm1', 'm2']);
    const errs = await c.waitFor(3);
    expect(errs.slice(1).map((e) => e.code)).toEqual(['SEQ_WS_RATE_LIMIT', 'SEQ_WS_RATE_LIMIT']);
    // The bucket is per connection.
    const fromOther = firstValueFrom(server.events);
    other.send('fine');
    expect((await fromOther).text).toBe('fine');
  });

  it('idle timeout: a silent connection is closed with 4001', async () => {
    const server = await start({ idleTimeoutMs: 100 });
    const closed = nextLifecycle(server, (e) => e.type === 'close');
    const c = await open(server.url);
    expect((await c.closed).code).toBe(WS_CLOSE.IDLE_TIMEOUT);
    expect(await closed).toMatchObject({ type: 'close', code: WS_CLOSE.IDLE_TIMEOUT });
  });

  it('tokens: checked before the upgrade, from the Authorization header or ?token=', async () => {
    const server = await start({ tokens: ['s3cret', 'other-token'] });
    expect(await refused(server.url)).toMatchObject({ status: 401, body: { error: { code: 'SEQ_WS_UNAUTHORIZED' } } });
    expect((await refused(server.url, { headers: { Authorization: 'Bearer wrong' } })).status).toBe(401);
    expect((await refused(`${server.url}/?token=s3cre`)).status).toBe(401);
    const byHeader = await open(server.url, { headers: { Authorization: 'Bearer s3cret' } });
    expect(await byHeader.next()).toMatchObject({ type: 'hello' });
    const byQuery = await open(`${server.url}/?token=other-token`);
    expect(await byQuery.next()).toMatchObject({ type: 'hello' });
    expect(server.stats()).toMatchObject({ connections: 2, rejectedUpgrades: 3 });
  });

  it('authenticate: an async verify callback sees token and session; false or a throw gives 401', async () => {
    const seen: Array<[string | null, string | null]> = [];
    const server = await start({
      authenticate: async ({ token, session }) => {
        seen.push([token, session]);
        await new Promise((r) => setTimeout(r, 5));
        if (token === 'boom') throw new Error('db down');
        return token === 'for-dave' && session === sid('dave');
      },
    });
    expect((await refused(`${server.url}/?session=${sid('dave')}&token=nope`)).status).toBe(401);
    expect((await refused(`${server.url}/?session=${sid('dave')}&token=boom`)).status).toBe(401);
    const ok = await open(`${server.url}/?session=${sid('dave')}`, { headers: { Authorization: 'Bearer for-dave' } });
    expect(await ok.next()).toMatchObject({ key: sid('dave') });
    expect(seen).toEqual([['nope', sid('dave')], ['boom', sid('dave')], ['for-dave', sid('dave')]]);
  });

  it('authenticate that never answers gets 503 SEQ_WS_AUTH_TIMEOUT', async () => {
    const server = await start({ authenticate: () => new Promise<boolean>(() => undefined), authTimeoutMs: 50 });
    expect(await refused(server.url)).toMatchObject({ status: 503, body: { error: { code: 'SEQ_WS_AUTH_TIMEOUT' } } });
  });

  it('origin allowlist: default same-host; a list; "*"', async () => {
    const server = await start();
    const host = new URL(server.url).host;
    expect(await refused(server.url, { origin: 'https://evil.example' })).toMatchObject({ status: 403, body: { error: { code: 'SEQ_WS_ORIGIN' } } });
    expect(await (await open(server.url, { origin: `http://${host}` })).next()).toMatchObject({ type: 'hello' });
    expect(await (await open(server.url)).next()).toMatchObject({ type: 'hello' });
    const listed = await start({ allowedOrigins: ['https://app.example'] });
    expect((await refused(listed.url, { origin: 'https://app.example.evil' })).status).toBe(403);
    expect(await (await open(listed.url, { origin: 'https://app.example' })).next()).toMatchObject({ type: 'hello' });
    const any = await start({ allowedOrigins: '*' });
    expect(await (await open(any.url, { origin: 'https://anything.example' })).next()).toMatchObject({ type: 'hello' });
  });

  it('rejects a bad session id (400) and a wrong path (404)', async () => {
    const server = await start({ path: '/ws' });
    expect(await refused(`${server.url}?session=${encodeURIComponent('a b/c')}`)).toMatchObject({ status: 400, body: { error: { code: 'SEQ_WS_BAD_SESSION' } } });
    expect(await refused(server.url.replace('/ws', '/other'))).toMatchObject({ status: 404, body: { error: { code: 'SEQ_WS_NOT_FOUND' } } });
    expect(await (await open(`${server.url}?session=${sid('ok')}`)).next()).toMatchObject({ key: sid('ok') });
    // A request line whose URL does not parse: 400, and the server keeps serving.
    const reply = await new Promise<string>((resolve) => {
      const sock = createConnection(server.port, '127.0.0.1', () =>
        sock.write('GET http://[ HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n'),
      );
      let data = '';
      sock.on('data', (d) => (data += d));
      sock.on('close', () => resolve(data));
    });
    expect(reply).toMatch(/^HTTP\/1\.1 400/);
    expect(await (await open(`${server.url}?session=${sid('ok2')}`)).next()).toMatchObject({ key: sid('ok2') });
  });

  it('invalid options throw SEQ_INVALID_OPTION synchronously', () => {
    const bad: WebSocketServerOptions[] = [
      { maxPayload: 0 },
      { maxConnections: 1.5 },
      { messagesPerSecond: Infinity },
      { idleTimeoutMs: -1 },
      { slowReaderPolicy: 'ignore' as 'close' },
      { allowedOrigins: 'nope' as '*' },
      { tokens: [] },
      { maxConnections: 10, maxSessions: 5 },
      { path: 'ws' },
      { allowedHosts: 'loopback' as '*' },
      { allowedHosts: [1 as unknown as string] },
    ];
    for (const o of bad) {
      let code: string | undefined;
      try {
        void websocketServer(o);
      } catch (e) {
        code = (e as SeqstreamError).code;
      }
      expect(code, JSON.stringify(o)).toBe('SEQ_INVALID_OPTION');
    }
  });
});

describe('websocketServer: slow readers are bounded', () => {
  const payload = { blob: 'x'.repeat(16 * 1024) };

  function pause(c: TestClient): void {
    // Stop reading from the TCP socket: the kernel buffers fill, then ws's bufferedAmount grows.
    (c.ws as unknown as { _socket: { pause(): void } })._socket.pause();
  }
  function resume(c: TestClient): void {
    (c.ws as unknown as { _socket: { resume(): void } })._socket.resume();
  }

  it("policy 'close' closes the slow connection with 4002 and leaves the others alone", async () => {
    const server = await start({ maxBufferedBytes: 64 * 1024, slowReaderPolicy: 'close' });
    const slow = await open(`${server.url}/?session=${sid('slow')}`);
    const fast = await open(`${server.url}/?session=${sid('fast')}`);
    await slow.next();
    await fast.next();
    pause(slow);
    const closed = nextLifecycle(server, (e) => e.type === 'close' && e.key === sid('slow'));
    let sent = 0;
    // Keep writing until the policy fires (well before 64 MiB).
    while (sent < 4096 && server.stats().connections === 2) {
      server.send(sid('slow'), payload);
      sent++;
      if (sent % 64 === 0) await new Promise((r) => setImmediate(r));
    }
    expect(await closed).toMatchObject({ code: WS_CLOSE.SLOW_READER });
    server.send(sid('fast'), { still: 'here' });
    expect(await fast.next()).toEqual({ still: 'here' });
    resume(slow);
    await slow.closed;
  });

  it("policy 'drop-oldest' drops queued replies, tells the client how many, and delivers the newest in order", async () => {
    const server = await start({ maxBufferedBytes: 64 * 1024, slowReaderPolicy: 'drop-oldest' });
    const slow = await open(`${server.url}/?session=${sid('slow')}`);
    await slow.next();
    pause(slow);
    let i = 0;
    while (i < 4096 && server.stats().dropped < 10) {
      server.send(sid('slow'), { i: i++, ...payload });
      if (i % 64 === 0) await new Promise((r) => setImmediate(r));
    }
    const last = i - 1;
    expect(server.stats().dropped).toBeGreaterThanOrEqual(10);
    expect(server.stats().connections).toBe(1);
    resume(slow);
    const got: Array<Record<string, unknown>> = [];
    for (;;) {
      const m = await slow.next();
      got.push(m);
      if (m.i === last) break;
    }
    const notices = got.filter((m) => m.type === 'dropped');
    const numbers = got.filter((m) => m.i !== undefined).map((m) => m.i as number);
    expect(notices.reduce((s, m) => s + (m.count as number), 0)).toBe(server.stats().dropped);
    expect(numbers.length + server.stats().dropped).toBe(last + 1);
    expect(numbers.every((n, k) => k === 0 || n > numbers[k - 1])).toBe(true);
    expect(slow.ws.readyState).toBe(WebSocket.OPEN);
  });
});

/** Polls `cond` until it holds or `ms` pass (a liveness bound, not a speed assertion); returns whether it held. */
async function eventually(cond: () => boolean, ms = 4000): Promise<boolean> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 10));
  }
  return true;
}

describe('websocketServer: replies never stall', () => {
  it('after error replies fill the socket buffer, queued replies flow again once the client reads', async () => {
    // Error replies and dropped notices used to be sent without a completion callback, so once they
    // filled the buffer nothing flushed the reply queue again: every later output was lost.
    const server = await start({ messagesPerSecond: 1e6, burst: 1e6, maxBufferedBytes: 16 * 1024 });
    const c = await open(`${server.url}/?session=${sid('abc')}`);
    await c.next();
    const socket = (c.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    socket.pause();
    let sent = 0;
    while (server.stats().dropped === 0 && sent < 200_000) {
      for (let i = 0; i < 2000; i++) c.send('{');
      sent += 2000;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(server.stats().dropped).toBeGreaterThan(0);
    expect(server.send(sid('abc'), { n: 1 })).toBe(true);
    expect(server.send(sid('abc'), { n: 2 })).toBe(true);
    socket.resume();
    const outputs = () => c.inbox.filter((m) => m.n !== undefined).map((m) => m.n);
    await eventually(() => outputs().length >= 2);
    server.send(sid('abc'), { n: 3 });
    await eventually(() => outputs().length >= 3);
    expect(outputs()).toEqual([1, 2, 3]);
    // Error replies that did not fit were dropped and counted; nothing else was lost.
    expect(c.inbox.filter((m) => m.type === 'error').length).toBeGreaterThan(0);
  }, 30000);
});

describe('websocketServer: DNS rebinding', () => {
  it('bound to loopback, refuses a Host header that is not a loopback name (403 SEQ_WS_HOST)', async () => {
    const server = await start();
    const port = server.port;
    // A page on attacker.example whose name now resolves to 127.0.0.1: Origin host == Host header.
    const evil = { headers: { Host: `attacker.example:${port}` }, origin: `http://attacker.example:${port}` };
    expect(await refused(`ws://127.0.0.1:${port}/`, evil)).toMatchObject({ status: 403, body: { error: { code: 'SEQ_WS_HOST' } } });
    expect(await refused(`ws://127.0.0.1:${port}/`, { headers: { Host: 'attacker.example' } })).toMatchObject({ status: 403 });
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, 'LOCALHOST']) {
      expect(await (await open(`ws://127.0.0.1:${port}/`, { headers: { Host: host } })).next(), host).toMatchObject({ type: 'hello' });
    }
    // Same-host origin on a loopback name still works.
    expect(await (await open(`ws://127.0.0.1:${port}/`, { origin: `http://localhost:${port}`, headers: { Host: `localhost:${port}` } })).next()).toMatchObject({ type: 'hello' });
  });

  it('allowedHosts: a list of names, or "*"', async () => {
    const listed = await start({ allowedHosts: ['app.example'] });
    expect(await (await open(listed.url, { headers: { Host: `app.example:${listed.port}` } })).next()).toMatchObject({ type: 'hello' });
    expect((await refused(listed.url)).body.error?.code).toBe('SEQ_WS_HOST');
    const any = await start({ allowedHosts: '*' });
    expect(await (await open(any.url, { headers: { Host: 'whatever.example' } })).next()).toMatchObject({ type: 'hello' });
  });
});
