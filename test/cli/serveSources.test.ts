/**
 * `seqstream serve` from each live source, end to end with real parts: a TCP sensor connection, a
 * websocket client, a real Mosquitto broker, a folder of files and stdin of a child process. Each
 * reading must reach the page's store under its key; bad input is counted by code and the rest goes on.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { DashboardServer } from '../../src/dashboard/dashboardServer.js';
import { runServe, type ServeOptions, type ServeSummary } from '../../src/cli/serveCommand.js';
import { startMosquitto, type MosquittoBroker } from '../support/mosquitto.js';

const dir = mkdtempSync(join(tmpdir(), 'seqstream-serve-sources-'));
let broker: MosquittoBroker | null = null;
afterAll(async () => {
  await broker?.dispose();
});

/** Starts `runServe`; resolves `listening` with the first status line matching `ready`. */
function serve(options: ServeOptions, ready: RegExp): { listening: Promise<RegExpExecArray>; done: Promise<ServeSummary>; board: () => DashboardServer; status: string[] } {
  const status: string[] = [];
  let board: DashboardServer | null = null;
  let resolve!: (m: RegExpExecArray) => void;
  const listening = new Promise<RegExpExecArray>((r) => (resolve = r));
  const done = runServe({ ...options, onListening: (_url, b) => (board = b) }, (line) => {
    status.push(line);
    const m = ready.exec(line);
    if (m) resolve(m);
  });
  return { listening, done, board: () => board!, status };
}

/** The `x` columns of a key's points on the page. */
const xs = (board: DashboardServer, key: string) => board.store.history(key)?.since(0).x;

describe('seqstream serve sources', () => {
  it('--tcp: each NDJSON line from a sensor connection is a reading of its key; a bad line is counted', async () => {
    const run = serve({ tcp: 0, key: 'sensor', events: 5 }, /^tcp: listening on .*:(\d+)$/);
    const port = Number((await run.listening)[1]);
    const socket = connect(port, '127.0.0.1');
    socket.write(['{"sensor":"a","value":1}', '{"sensor":"b","value":2}', 'not json', '{"sensor":"a","value":3}', '{"sensor":"b","value":4}', '{"sensor":"a","value":5}', ''].join('\n'));
    const summary = await run.done;
    socket.destroy();
    expect(summary).toMatchObject({ events: 5, keys: 2, errors: { SEQ_SENSOR_JSON: 1 } });
    expect(xs(run.board(), 'a')).toEqual([[1, 3, 5]]);
    expect(xs(run.board(), 'b')).toEqual([[2, 4]]);
  }, 30_000);

  it('--ws: {"x": [...]} messages of a websocket client are readings of its connection', async () => {
    const run = serve({ ws: 0, events: 3 }, /^ws: listening on (ws:\/\/\S+)$/);
    const url = (await run.listening)[1];
    const client = new WebSocket(url);
    const hello = await new Promise<{ key: string }>((resolve, reject) => {
      client.once('message', (d) => resolve(JSON.parse(String(d))));
      client.once('error', reject);
    });
    client.send(JSON.stringify({ x: [1, 10] }));
    client.send('{"x": [2, oops');
    client.send(JSON.stringify({ x: [2, 20] }));
    client.send(JSON.stringify({ x: [3, 30] }));
    const summary = await run.done;
    client.terminate();
    expect(summary.events).toBe(3);
    expect(summary.keys).toBe(1);
    expect(Object.values(summary.errors).reduce((a, b) => a + b, 0)).toBe(1); // the malformed message, by its code
    expect(xs(run.board(), hello.key)).toEqual([[1, 2, 3], [10, 20, 30]]);
  }, 30_000);

  it('--mqtt --topics: messages from a real Mosquitto broker are readings keyed by topic', async () => {
    broker = await startMosquitto();
    const run = serve({ mqtt: broker.url, topics: ['plant/+/temp'], events: 6 }, /^dashboard: /);
    await run.listening;
    const publisher = await mqtt.connectAsync(broker.url);
    // The source subscribes after the page listens: publish until the run has its readings.
    let n = 0;
    const timer = setInterval(() => {
      n++;
      void publisher.publishAsync(`plant/${n % 2 ? 'boiler' : 'pump'}/temp`, JSON.stringify({ value: n }));
    }, 50);
    const summary = await run.done;
    clearInterval(timer);
    await publisher.endAsync(true);
    expect(summary.events).toBe(6);
    const keys = [...run.board().store.rows('key', false, 0, 10, '').rows.map((r) => r[0])];
    expect(keys.length).toBe(2);
    expect(keys.every((k) => /boiler|pump/.test(k))).toBe(true);
  }, 30_000);

  it('--input FOLDER: every .ndjson and .csv file in it, each key with its own readings', async () => {
    const folder = mkdtempSync(join(dir, 'folder-'));
    writeFileSync(join(folder, 'a.ndjson'), [1, 2, 3].map((v) => JSON.stringify({ sensor: 'a', timestamp: 1000 + v, value: v })).join('\n') + '\n');
    writeFileSync(join(folder, 'b.csv'), 'sensor,timestamp,value\nb,1001,10\nb,1002,x\nb,1003,30\n');
    writeFileSync(join(folder, 'notes.txt'), 'not a reading\n');
    const run = serve({ input: folder, key: 'sensor', events: 5 }, /^dashboard: /);
    const summary = await run.done;
    expect(summary).toMatchObject({ events: 5, keys: 2, errors: { SEQ_SENSOR_NOT_NUMERIC: 1 } });
    expect(xs(run.board(), 'a')).toEqual([[1, 2, 3]]);
    expect(xs(run.board(), 'b')).toEqual([[10, 30]]);
    expect(run.board().store.history('a')!.since(0).t).toEqual([1001, 1002, 1003]);
  }, 30_000);

  it('--input -: NDJSON lines on stdin of the real command', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--input', '-', '--key', 'sensor', '--events', '3'], { env: { ...process.env, SEQSTREAM_BACKEND: 'cpu' } });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.stdout.resume();
    child.stdin.end(['{"sensor":"s1","value":1}', '{"sensor":"s2","value":2}', '[]', '{"sensor":"s1","value":3}', ''].join('\n'));
    const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? -1)));
    expect(code).toBe(0);
    expect(err).toMatch(/dashboard: http:\/\/127\.0\.0\.1:\d+\//);
    expect(err).toMatch(/seqstream serve: 3 events .* 2 streams/);
  }, 60_000);
});
