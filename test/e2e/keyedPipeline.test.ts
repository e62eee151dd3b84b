/**
 * End to end: many websocket clients and an MQTT publisher feed ONE recurrentByKey() pipeline at
 * the same time, over real sockets on loopback and a real Mosquitto broker; every client gets
 * exactly its own outputs, in order, equal to running its sequence alone.
 */
import mqtt from 'mqtt';
import { map, merge, type Subscription } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mqttSource } from '../../src/adapters/mqttSource.js';
import { websocketServer, type WebSocketTextServer } from '../../src/adapters/websocketServer.js';
import { RecurrentModel, seededRandom } from '../../src/cells/index.js';
import { recurrentByKey, type KeyedOutput } from '../../src/streams/index.js';
import { connect } from '../adapters/wsTestClient.js';
import { startMosquitto, type MosquittoBroker } from '../support/mosquitto.js';

const CLIENTS = 24;
const SENSORS = 6;
const EVENTS = 30;
const model = RecurrentModel.create({ cell: 'lstm', inputSize: 3, hiddenSize: 16, head: { outputSize: 2 }, seed: 99 });

function sequence(seed: number): number[][] {
  const r = seededRandom(seed);
  return Array.from({ length: EVENTS }, () => [r() * 2 - 1, r() * 2 - 1, r() * 2 - 1]);
}

/** What the model outputs for `xs` run alone from a zero state. */
function alone(xs: number[][]): number[][] {
  const state = model.createState();
  return xs.map((x) => Array.from(model.step(state, x)));
}

function expectRowsClose(got: number[][], want: number[][]): void {
  expect(got).toHaveLength(want.length);
  got.forEach((row, t) => row.forEach((v, j) => expect(Math.abs(v - want[t][j])).toBeLessThanOrEqual(1e-6)));
}

let broker: MosquittoBroker;
let server: WebSocketTextServer;
let pipeline: Subscription;
const mqttOutputs = new Map<string, number[][]>();
const rejected: string[] = [];
let position = 0;
const wsSeqAt = new Map<number, number>();
const offsets: number[] = [];

beforeAll(async () => {
  broker = await startMosquitto();
  server = await websocketServer({ port: 0, inputSize: 3 });
  let mqttReady!: () => void;
  const ready = new Promise<void>((resolve) => (mqttReady = resolve));
  // `offset` is one position of the whole merged source (what a checkpoint records to replay
  // from), not a per-key counter such as the websocket's `seq`: a client's seq goes beside it.
  const fromWs = server.events.pipe(
    map((e) => {
      const offset = position++;
      wsSeqAt.set(offset, e.seq);
      return { key: `ws/${e.key}`, x: e.x as number[], offset };
    }),
  );
  const fromMqtt = mqttSource({
    url: broker.url,
    topics: 'plant/+/reading',
    qos: 1,
    onStatus: (s) => s.state === 'connected' && mqttReady(),
  }).pipe(map((e) => ({ key: `mqtt/${e.key}`, x: e.x, offset: position++ })));
  pipeline = merge(fromWs, fromMqtt)
    .pipe(
      recurrentByKey<string>(model, {
        onError: (err, ev) => {
          wsSeqAt.delete((ev as { offset: number }).offset);
          rejected.push(err.code);
        },
      }),
    )
    .subscribe((out: KeyedOutput<string>) => {
      offsets.push(out.offset as number);
      if (out.key.startsWith('ws/')) {
        const seq = wsSeqAt.get(out.offset as number);
        wsSeqAt.delete(out.offset as number);
        server.send(out.key.slice(3), { type: 'output', seq, y: Array.from(out.y) });
      }
      else {
        const rows = mqttOutputs.get(out.key) ?? [];
        rows.push(Array.from(out.y));
        mqttOutputs.set(out.key, rows);
      }
    });
  await ready;
}, 60_000);

afterAll(async () => {
  pipeline?.unsubscribe();
  await server?.close();
  await broker?.stop();
});

describe('many websocket clients and an MQTT publisher through one recurrentByKey()', () => {
  it('gives every client exactly its own outputs, in order, while the others run concurrently', async () => {
    const clients = await Promise.all(Array.from({ length: CLIENTS }, (_, i) => connect(`${server.url}?session=client-${i}-0123456789abcdef`)));
    const publisher = await mqtt.connectAsync(broker.url);
    const wsSeqs = clients.map((_, i) => sequence(1000 + i));
    const mqttSeqs = Array.from({ length: SENSORS }, (_, s) => sequence(5000 + s));

    // Interleave: every round, each client sends one event and each sensor publishes one reading.
    const sends: Promise<unknown>[] = [];
    for (let t = 0; t < EVENTS; t++) {
      clients.forEach((c, i) => c.ws.send(JSON.stringify({ x: wsSeqs[i][t] })));
      mqttSeqs.forEach((seq, s) => sends.push(publisher.publishAsync(`plant/sensor-${s}/reading`, JSON.stringify(seq[t]), { qos: 1 })));
      // A bad message from one client must not disturb anyone.
      if (t === 10) clients[0].ws.send(JSON.stringify({ x: [1, 2] }));
    }
    await Promise.all(sends);

    // hello + EVENTS outputs (+ one error reply for client 0).
    await Promise.all(clients.map((c, i) => c.waitFor(1 + EVENTS + (i === 0 ? 1 : 0))));
    clients.forEach((c, i) => {
      const outputs = c.inbox.filter((m) => m.type === 'output');
      expect(outputs.map((m) => m.seq)).toEqual(Array.from({ length: EVENTS }, (_, t) => t + 1));
      expectRowsClose(outputs.map((m) => m.y as number[]), alone(wsSeqs[i]));
      if (i === 0) expect(c.inbox.find((m) => m.type === 'error')).toMatchObject({ code: 'SEQ_INPUT_SHAPE' });
    });

    await waitUntil(() => [...mqttOutputs.values()].reduce((n, rows) => n + rows.length, 0) >= SENSORS * EVENTS);
    mqttSeqs.forEach((seq, s) => expectRowsClose(mqttOutputs.get(`mqtt/sensor-${s}`) ?? [], alone(seq)));
    expect(rejected).toEqual([]);
    // Offsets are positions of the merged source: unique and increasing in output order, so a
    // checkpoint's offset says exactly where to replay from.
    expect(offsets.length).toBe((CLIENTS + SENSORS) * EVENTS);
    offsets.forEach((o, i) => i > 0 && expect(o).toBeGreaterThan(offsets[i - 1]));
    expect(wsSeqAt.size).toBe(0);
    await publisher.endAsync();
    await Promise.all(clients.map((c) => c.close()));
  }, 60_000);
});

async function waitUntil(done: () => boolean, timeoutMs = 20_000): Promise<void> {
  const start = Date.now();
  while (!done()) {
    if (Date.now() - start > timeoutMs) throw new Error('timed out waiting for MQTT outputs');
    await new Promise((r) => setTimeout(r, 20));
  }
}
