/**
 * Websocket server throughput: C concurrent loopback clients each send M {"x": [...]} messages and
 * wait for every reply. Compared in the same process with a bare `ws` echo server (the baseline),
 * so the ratio shows what seqstream's keyed routing, checks and reply queue cost.
 *
 *   npx tsx bench/websocket.ts          (add --quick for the short run)
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { map } from 'rxjs';
import { WebSocket, WebSocketServer } from 'ws';
import { websocketServer } from '../src/adapters/websocketServer.js';
import { RecurrentModel, type ModelState } from '../src/cells/index.js';

async function drive(url: string, clients: number, messages: number, expectHello: boolean): Promise<number> {
  const x = JSON.stringify({ x: [0.1, -0.2, 0.3, 0.4] });
  const sockets = await Promise.all(
    Array.from({ length: clients }, () => new Promise<WebSocket>((res, rej) => {
      const ws = new WebSocket(url);
      ws.once('open', () => res(ws));
      ws.once('error', rej);
    })),
  );
  const t0 = performance.now();
  await Promise.all(
    sockets.map(
      (ws) =>
        new Promise<void>((res) => {
          // The hello may arrive before this listener exists: count outputs only.
          let got = 0;
          // A window of 16 in flight per client: realistic streaming, not strict ping-pong.
          let sent = 0;
          const pump = (): void => {
            while (sent < messages && sent - Math.max(got, 0) < 16) (ws.send(x), sent++);
          };
          ws.on('message', (data) => {
            if (expectHello && String(data).startsWith('{"type":"hello"')) return;
            got++;
            if (got === messages) res();
            else pump();
          });
          pump();
        }),
    ),
  );
  const seconds = (performance.now() - t0) / 1000;
  sockets.forEach((s) => s.terminate());
  return (clients * messages) / seconds;
}

export async function run(options: { quick?: boolean } = {}): Promise<void> {
  const clients = options.quick ? 20 : 100;
  const messages = options.quick ? 500 : 2000;

  const raw = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  await new Promise((r) => raw.once('listening', r));
  raw.on('connection', (ws) => ws.on('message', (d) => ws.send(JSON.stringify({ type: 'output', y: JSON.parse(String(d)).x }))));
  const rawUrl = `ws://127.0.0.1:${(raw.address() as { port: number }).port}`;

  const big = { maxConnections: clients + 10, messagesPerSecond: 1e6, burst: 1e6 };
  const echo = await websocketServer(big);
  echo.events.pipe(map((e) => ({ key: e.key, seq: e.seq, y: e.x })), echo.reply()).subscribe();

  const model = RecurrentModel.create({ cell: 'gru', inputSize: 4, hiddenSize: 32, head: { outputSize: 4 }, seed: 1 });
  const gru = await websocketServer(big);
  const states = new Map<string, ModelState>();
  gru.events
    .pipe(
      map((e) => {
        let s = states.get(e.key);
        if (!s) states.set(e.key, (s = model.createState()));
        return { key: e.key, seq: e.seq, y: model.step(s, e.x!) };
      }),
      gru.reply(),
    )
    .subscribe();

  await drive(rawUrl, 4, 200, false); // warm-up
  await drive(echo.url, 4, 200, true);
  // Interleaved rounds, best of each: the machine is shared and timing is noisy.
  let base = 0;
  let ours = 0;
  let withGru = 0;
  for (let round = 0; round < 3; round++) {
    base = Math.max(base, await drive(rawUrl, clients, messages, false));
    ours = Math.max(ours, await drive(echo.url, clients, messages, true));
    withGru = Math.max(withGru, await drive(gru.url, clients, messages, true));
  }
  console.log(`websocket round trips, ${clients} clients x ${messages} messages, 16 in flight each, clients in the same process (best of 3)`);
  console.table([
    { server: 'bare ws JSON echo (baseline)', 'msg/s': Math.round(base), ratio: 1 },
    { server: 'websocketServer + reply() echo', 'msg/s': Math.round(ours), ratio: +(ours / base).toFixed(2) },
    { server: 'websocketServer + per-key GRU(4->32->4)', 'msg/s': Math.round(withGru), ratio: +(withGru / base).toFixed(2) },
  ]);
  raw.close();
  await echo.close();
  await gru.close();
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) await run({ quick: process.argv.includes('--quick') });
