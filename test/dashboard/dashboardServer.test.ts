import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { DashboardServer } from '../../src/dashboard/dashboardServer.js';

interface Reply { status: number; headers: Record<string, string | string[] | undefined>; body: string }

function get(url: string, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Opens the live socket; resolves to the first tick, or rejects with the HTTP status of a refusal. */
function openSocket(url: string, headers: Record<string, string> = {}): Promise<{ ws: WebSocket; first: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url.replace('http', 'ws').replace(/\/(\?|$)/, '/ws$1'), { headers });
    ws.once('message', (d) => resolve({ ws, first: JSON.parse(d.toString()) }));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`status ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

const servers: DashboardServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});
async function start(options: ConstructorParameters<typeof DashboardServer>[0] = {}): Promise<{ board: DashboardServer; url: string }> {
  const board = new DashboardServer(options);
  servers.push(board);
  return { board, url: await board.listen() };
}

describe('DashboardServer', () => {
  it('serves the page, its scripts and uPlot from the package with a strict CSP; 404 elsewhere', async () => {
    const { url } = await start();
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const page = await get(url);
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.headers['content-security-policy']).toContain("default-src 'none'");
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    expect(page.body).toContain('/vendor/uPlot.iife.min.js');
    expect(page.body).not.toMatch(/https?:\/\/(?!www\.w3)/); // nothing from the network
    const uplot = await get(`${url}vendor/uPlot.iife.min.js`);
    expect(uplot.status).toBe(200);
    expect(uplot.body).toContain('uPlot');
    expect((await get(`${url}app.js`)).body).toContain('textContent');
    expect((await get(`${url}../../etc/passwd`)).status).toBe(404);
    expect((await get(`${url}nope`)).status).toBe(404);
  });

  it('refuses a foreign Host (DNS rebinding) on pages and sockets, and a foreign Origin on the socket', async () => {
    const { url } = await start();
    const host = new URL(url).host;
    const rebound = await get(url, { Host: 'attacker.example' });
    expect(rebound.status).toBe(403);
    expect(rebound.body).toContain('SEQ_DASHBOARD_HOST');
    expect((await get(url, { Host: `localhost:${new URL(url).port}` })).status).toBe(200);
    await expect(openSocket(url, { Host: 'attacker.example', Origin: 'http://attacker.example' })).rejects.toThrow('status 403');
    await expect(openSocket(url, { Origin: 'http://attacker.example' })).rejects.toThrow('status 403');
    const { ws, first } = await openSocket(url, { Origin: `http://${host}` });
    expect(first.type).toBe('tick');
    ws.close();
  });

  it('needs a token to bind beyond loopback, and then checks it on every request', async () => {
    expect(() => new DashboardServer({ host: '0.0.0.0' })).toThrow(expect.objectContaining({ code: 'SEQ_INVALID_OPTION' }));
    expect(() => new DashboardServer({ token: 'short' })).toThrow(expect.objectContaining({ code: 'SEQ_INVALID_OPTION' }));
    expect(() => new DashboardServer({ port: 70000 })).toThrow(expect.objectContaining({ code: 'SEQ_INVALID_OPTION' }));
    const { url } = await start({ token: 'a-long-secret' });
    expect(url).toMatch(/\?token=a-long-secret$/);
    const bare = url.replace(/\?.*$/, '');
    const refused = await get(bare);
    expect(refused.status).toBe(401);
    expect(refused.body).toContain('SEQ_DASHBOARD_TOKEN');
    expect((await get(`${bare}?token=wrong-secret`)).status).toBe(401);
    const page = await get(url);
    expect(page.status).toBe(200);
    const cookie = String(page.headers['set-cookie']).split(';')[0];
    expect(page.headers['set-cookie']?.[0]).toContain('HttpOnly');
    expect((await get(`${bare}app.js`, { Cookie: cookie })).status).toBe(200);
    await expect(openSocket(bare)).rejects.toThrow('status 401');
    const { ws } = await openSocket(bare, { Cookie: cookie });
    ws.close();
  });

  it('reports a taken port with SEQ_DASHBOARD_LISTEN', async () => {
    const { url } = await start();
    const again = new DashboardServer({ port: Number(new URL(url).port) });
    await expect(again.listen()).rejects.toMatchObject({ code: 'SEQ_DASHBOARD_LISTEN' });
  });

  it('sends the window of rows a page asks for and the selected stream at full rate', async () => {
    const { board, url } = await start({ updateIntervalMs: 20 });
    for (let k = 0; k < 500; k++) board.push({ key: `k${k}`, x: [k], score: k });
    const { ws } = await openSocket(url);
    const ticks: Record<string, any>[] = [];
    ws.on('message', (d) => ticks.push(JSON.parse(d.toString())));
    ws.send(JSON.stringify({ type: 'view', sort: 'score', desc: true, offset: 10, limit: 5, selected: 'k3' }));
    for (let i = 0; i < 50; i++) board.push({ key: 'k3', x: [i], y: [i + 1], score: 1 });
    await new Promise((r) => setTimeout(r, 200));
    const last = ticks.at(-1)!;
    expect(last.total).toBe(500);
    expect(last.rows.map((r: unknown[]) => r[0])).toEqual(['k489', 'k488', 'k487', 'k486', 'k485']);
    const points = ticks.filter((t) => t.series).flatMap((t) => t.series.x[0]);
    expect(points).toEqual([3, ...Array.from({ length: 50 }, (_, i) => i)]); // each point once, in order
    ws.send('not json');
    await new Promise((r) => setTimeout(r, 60));
    expect(board.store.snapshotCounters().errors.SEQ_DASHBOARD_BAD_MESSAGE).toBe(1);
    ws.close();
  });

  it('drops ticks (counted) for a page that stops reading, and never queues for it', async () => {
    const { board, url } = await start({ updateIntervalMs: 10, maxBufferedBytes: 64 * 1024, maxRows: 2000 });
    for (let k = 0; k < 2000; k++) board.push({ key: `sensor-with-a-long-name-${k}`, x: [k], score: k });
    const { ws } = await openSocket(url);
    ws.send(JSON.stringify({ type: 'view', limit: 2000 }));
    await new Promise((r) => setTimeout(r, 50));
    (ws as unknown as { _socket: { pause(): void } })._socket.pause(); // a stalled tab
    const before = process.memoryUsage().rss;
    await new Promise((r) => setTimeout(r, 1500));
    const dropped = board.store.snapshotCounters().droppedFrames;
    expect(dropped).toBeGreaterThan(10);
    expect(process.memoryUsage().rss - before).toBeLessThan(200 * 1024 * 1024);
    (ws as unknown as { _socket: { resume(): void } })._socket.resume();
    const resumed = await new Promise<Record<string, any>>((resolve) => ws.on('message', (d) => { const m = JSON.parse(d.toString()); if (m.dropped > 0) resolve(m); }));
    expect(resumed.counters.droppedFrames).toBeGreaterThan(0);
    ws.close();
  });

  it('sends a hidden tab only counters, every 2 s', async () => {
    const { board, url } = await start({ updateIntervalMs: 20 });
    board.push({ key: 'a', x: [1] });
    const { ws } = await openSocket(url);
    const ticks: Record<string, unknown>[] = [];
    ws.send(JSON.stringify({ type: 'view', hidden: true }));
    await new Promise((r) => setTimeout(r, 100));
    ws.on('message', (d) => ticks.push(JSON.parse(d.toString())));
    await new Promise((r) => setTimeout(r, 1000));
    expect(ticks.length).toBeLessThanOrEqual(1); // 50 ticks would have gone to a visible page
    for (const t of ticks) expect(t.rows).toBeUndefined();
    ws.send(JSON.stringify({ type: 'view', hidden: false }));
    await expect.poll(() => ticks.some((t) => Array.isArray(t.rows))).toBe(true);
    ws.close();
  });
});
