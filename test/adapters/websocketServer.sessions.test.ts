import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { websocketServer, type WebSocketServerOptions, type WebSocketTextServer } from '../../src/adapters/websocketServer.js';
import { capConnections, FD_RESERVE } from '../../src/adapters/internal/websocket/fdLimit.js';
import { connect, refused, type TestClient } from './wsTestClient.js';

const servers: WebSocketTextServer[] = [];
const clients: TestClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(servers.splice(0).map((s) => s.close()));
});
async function start(options: WebSocketServerOptions = {}): Promise<WebSocketTextServer> {
  const server = await websocketServer(options);
  servers.push(server);
  return server;
}
async function open(url: string, token: string): Promise<TestClient> {
  const c = await connect(url, { headers: { Authorization: `Bearer ${token}` } });
  clients.push(c);
  return c;
}
const SESSION = 'Vq3xZ0bq9m1yXr7e2KcT1w';

describe('websocketServer: session ids are secrets bound to an identity', () => {
  it('refuses guessable session ids shorter than minSessionIdLength (default 16)', async () => {
    const server = await start();
    expect(await refused(`${server.url}/?session=1`)).toMatchObject({ status: 400, body: { error: { code: 'SEQ_WS_BAD_SESSION' } } });
    expect(await refused(`${server.url}/?session=${'a'.repeat(15)}`)).toMatchObject({ status: 400 });
    const ok = await connect(`${server.url}/?session=${'a'.repeat(16)}`);
    clients.push(ok);
    expect(await ok.next()).toMatchObject({ type: 'hello', key: 'a'.repeat(16) });
    const short = await start({ minSessionIdLength: 1 });
    const c = await connect(`${short.url}/?session=1`);
    clients.push(c);
    expect(await c.next()).toMatchObject({ key: '1' });
  });

  it('binds a session to the identity authenticate returned: another identity cannot resume it', async () => {
    const users: Record<string, string> = { 'tok-alice': 'alice', 'tok-bob': 'bob' };
    const server = await start({ authenticate: ({ token }) => (token && users[token]) || false, sessionHoldMs: 60_000 });
    const a = await open(`${server.url}/?session=${SESSION}`, 'tok-alice');
    expect(await a.next()).toMatchObject({ type: 'hello', resumed: false });
    a.send('one');
    await a.close();
    const stolen = await refused(`${server.url}/?session=${SESSION}`, { headers: { Authorization: 'Bearer tok-bob' } });
    expect(stolen).toMatchObject({ status: 403, body: { error: { code: 'SEQ_WS_SESSION_FORBIDDEN' } } });
    const back = await open(`${server.url}/?session=${SESSION}`, 'tok-alice');
    expect(await back.next()).toMatchObject({ type: 'hello', resumed: true, seq: 1 });
    // While alice is connected, bob cannot take the session over either.
    expect((await refused(`${server.url}/?session=${SESSION}`, { headers: { Authorization: 'Bearer tok-bob' } })).status).toBe(403);
  });

  it('with tokens alone, binds a session to the token that created it', async () => {
    const server = await start({ tokens: ['token-one', 'token-two'], sessionHoldMs: 60_000 });
    const a = await open(`${server.url}/?session=${SESSION}`, 'token-one');
    await a.next();
    await a.close();
    expect((await refused(`${server.url}/?session=${SESSION}`, { headers: { Authorization: 'Bearer token-two' } })).status).toBe(403);
    const back = await open(`${server.url}/?session=${SESSION}`, 'token-one');
    expect(await back.next()).toMatchObject({ resumed: true });
  });
});

describe('websocketServer: the open-file limit', () => {
  it('caps maxConnections below the limit with a coded warning', async () => {
    const warned = new Promise<Error & { code?: string }>((resolve) => process.once('warning', resolve));
    expect(capConnections(1024, 1024)).toBe(1024 - FD_RESERVE);
    expect((await warned).code).toBe('SEQ_WS_FD_LIMIT');
    expect(capConnections(100, 1024)).toBe(100);
    expect(capConnections(100, undefined)).toBe(100);
  });

  it('under ulimit -n 200, connections past the cap get HTTP 503, not a bare TCP close', async () => {
    const child = spawn('sh', ['-c', `ulimit -n 200 && exec "${process.execPath}" --import tsx test/adapters/fixtures/wsFdLimitServer.ts`], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    try {
      const line = await new Promise<string>((resolve, reject) => {
        createInterface({ input: child.stdout }).once('line', resolve);
        child.once('exit', (code) => reject(new Error(`child exited ${code}: ${stderr}`)));
      });
      const { port } = JSON.parse(line) as { port: number };
      const cap = 200 - FD_RESERVE;
      expect(stderr).toContain('SEQ_WS_FD_LIMIT');
      const sockets: WebSocket[] = [];
      const outcomes = await Promise.all(
        Array.from({ length: cap + 10 }, () => new Promise<string>((resolve) => {
          const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
          sockets.push(ws);
          ws.once('open', () => resolve('open'));
          ws.once('unexpected-response', (_req, res) => resolve(`http ${res.statusCode}`));
          ws.once('error', (e) => resolve(`error ${e.message}`));
        })),
      );
      const counts = outcomes.reduce<Record<string, number>>((m, o) => ((m[o] = (m[o] ?? 0) + 1), m), {});
      expect(counts).toEqual({ open: cap, 'http 503': 10 });
      for (const ws of sockets) ws.terminate();
    } finally {
      child.stdin.end();
      child.kill('SIGTERM');
    }
  }, 60_000);
});
