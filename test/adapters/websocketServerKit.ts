import { afterEach } from 'vitest';
import { filter, firstValueFrom, map } from 'rxjs';
import { websocketServer, type WebSocketEvent, type WebSocketLifecycleEvent, type WebSocketServerOptions, type WebSocketTextServer } from '../../src/adapters/websocketServer.js';
import type { ModelState, RecurrentModel } from '../../src/cells/index.js';
import { connect, type TestClient } from './wsTestClient.js';

/* Shared by the websocketServer test files: servers and clients started by a test are closed after it. */

/** A session id long enough to pass `minSessionIdLength` (16): ids are bearer secrets. */
export const sid = (name: string): string => `${name}-0123456789abcdef`;

const servers: WebSocketTextServer[] = [];
const clients: TestClient[] = [];

/** Registers the after-each clean-up in the calling test file. */
export function closeAfterEach(): void {
  afterEach(async () => {
    for (const c of clients.splice(0)) c.ws.terminate();
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });
}

export async function start(options: WebSocketServerOptions = {}): Promise<WebSocketTextServer> {
  const s = await websocketServer(options);
  servers.push(s);
  return s;
}

export async function open(url: string, options?: Parameters<typeof connect>[1]): Promise<TestClient> {
  const c = await connect(url, options);
  clients.push(c);
  return c;
}

/** The keyed pipeline the lead will replace with recurrentByKey(): per-key state in a Map. */
export function keyedModel(server: WebSocketTextServer, model: RecurrentModel) {
  const states = new Map<string, ModelState>();
  server.lifecycle.subscribe((e) => {
    if (e.type === 'end') states.delete(e.key);
  });
  const sub = server.events
    .pipe(
      map((e: WebSocketEvent) => {
        let state = states.get(e.key);
        if (!state || e.reset) states.set(e.key, (state = model.createState()));
        return { key: e.key, seq: e.seq, y: model.step(state, e.x!) };
      }),
      server.reply(),
    )
    .subscribe();
  return { states, sub };
}

export function expected(model: RecurrentModel, xs: number[][]): number[][] {
  const state = model.createState();
  return xs.map((x) => Array.from(model.step(state, x)));
}

export function inputs(client: number, n: number): number[][] {
  return Array.from({ length: n }, (_, t) => [Math.sin(client + t), Math.cos(client * 0.3 - t)]);
}

export const nextLifecycle = (s: WebSocketTextServer, pred: (e: WebSocketLifecycleEvent) => boolean) => firstValueFrom(s.lifecycle.pipe(filter(pred)));
