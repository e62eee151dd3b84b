import { connect, createServer, type Socket } from 'node:net';
import { ReplaySubject, Subject, filter, firstValueFrom, merge, take, toArray, type Subscription } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { sensorTcpServer, type SensorEvent, type SensorTcpServerOptions } from '../../src/adapters/sensorTcpServer.js';
import type { SeqstreamError } from '../../src/errors.js';

const subs: Subscription[] = [];
const sockets: Socket[] = [];
afterEach(() => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const s of subs.splice(0)) s.unsubscribe();
});

/** Starts the server, resolves with its port and the event/error subjects. */
function start(options: SensorTcpServerOptions = {}) {
  const events = new ReplaySubject<SensorEvent>();
  const errors = new Subject<SeqstreamError>();
  const failed = new Subject<unknown>();
  return new Promise<{ port: number; events: ReplaySubject<SensorEvent>; errors: Subject<SeqstreamError>; failed: Subject<unknown> }>((resolve) => {
    subs.push(
      sensorTcpServer({ ...options, onError: (e) => errors.next(e), onListening: ({ port }) => resolve({ port, events, errors, failed }) }).subscribe({
        next: (e) => events.next(e),
        error: (e) => failed.next(e),
      }),
    );
  });
}
function client(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => resolve(s));
    s.on('error', reject);
    sockets.push(s);
  });
}

describe('sensorTcpServer', () => {
  it('keys each connection by its id when there is no key field, with per-connection line numbers', async () => {
    const { port, events } = await start();
    const got = firstValueFrom(events.pipe(take(4), toArray()));
    const a = await client(port);
    a.write('{"timestamp":1,"value":1}\n{"timestamp":2,');
    a.write('"value":2}\n');
    await firstValueFrom(events.pipe(filter((e) => e.x[0] === 2)));
    const b = await client(port);
    b.write('{"timestamp":1,"value":10}\n{"timestamp":2,"value":20}\n');
    const all = await got;
    expect(all.filter((e) => e.x[0] >= 10).map((e) => [e.key, e.source, e.line])).toEqual([
      ['tcp-2', 'tcp:tcp-2', 1],
      ['tcp-2', 'tcp:tcp-2', 2],
    ]);
    expect(all[0]).toMatchObject({ key: 'tcp-1', line: 1 });
  });

  it('one client sending garbage does not disturb another: its lines are reported and dropped', async () => {
    const { port, events, errors } = await start({ format: 'csv', maxLineLength: 256, key: 'sensor' });
    const badErrors = firstValueFrom(errors.pipe(take(5), toArray()));
    const goodEvents = firstValueFrom(events.pipe(filter((e) => e.key === 'good'), take(200), toArray()));
    const good = await client(port);
    const bad = await client(port);
    good.write('sensor,timestamp,value\n');
    bad.write('sensor,timestamp,value\n');
    for (let i = 0; i < 200; i++) {
      good.write(`good,${i},${i}\n`);
      if (i === 10) bad.write('bad,1,not-a-number\n');
      if (i === 20) bad.write(Buffer.from([0xff, 0x00, 0x13, 0x37, 0x0a]));
      if (i === 30) bad.write(`bad,2,${'9'.repeat(1000)}\n`);
      if (i === 40) bad.write('bad,3,"unclosed\n');
      if (i === 50) bad.write(',4,5\n');
    }
    bad.write('bad,6,6\n');
    const received = await goodEvents;
    expect(received.map((e) => e.x[0])).toEqual(Array.from({ length: 200 }, (_, i) => i));
    const codes = (await badErrors).map((e) => [e.code, e.details.line]);
    expect(codes).toEqual([
      ['SEQ_SENSOR_NOT_NUMERIC', 2],
      ['SEQ_SENSOR_CSV_COLUMNS', 3],
      ['SEQ_SENSOR_LINE_TOO_LONG', 4],
      ['SEQ_SENSOR_CSV_SYNTAX', 5],
      ['SEQ_SENSOR_MISSING_KEY', 6],
    ]);
    // The garbage sender's connection is still served.
    const last = await firstValueFrom(events.pipe(filter((e) => e.key === 'bad')));
    expect(last).toMatchObject({ x: [6], line: 7 });
  });

  it('many connections at once, each with its own CSV header', async () => {
    const { port, events } = await start({ format: 'csv', key: 'id' });
    const N = 20;
    const got = firstValueFrom(events.pipe(take(N * 10), toArray()));
    const clients = await Promise.all(Array.from({ length: N }, () => client(port)));
    clients.forEach((c, j) => {
      // Different column orders per connection.
      c.write(j % 2 ? 'id,timestamp,value\n' : 'value,id,timestamp\n');
      for (let i = 0; i < 10; i++) c.write(j % 2 ? `c${j},${i},${j * 100 + i}\n` : `${j * 100 + i},c${j},${i}\n`);
    });
    const all = await got;
    for (let j = 0; j < N; j++) expect(all.filter((e) => e.key === `c${j}`).map((e) => e.x[0])).toEqual(Array.from({ length: 10 }, (_, i) => j * 100 + i));
  });

  it('refuses connections over maxConnections with SEQ_TCP_TOO_MANY_CONNECTIONS', async () => {
    const { port, errors, events } = await start({ maxConnections: 1 });
    const first = await client(port);
    first.write('{"timestamp":1,"value":1}\n');
    await firstValueFrom(events);
    const refused = firstValueFrom(errors);
    const second = connect(port, '127.0.0.1');
    sockets.push(second);
    second.on('error', () => {});
    expect((await refused).code).toBe('SEQ_TCP_TOO_MANY_CONNECTIONS');
  });

  it('closes idle connections with SEQ_TCP_IDLE_TIMEOUT', async () => {
    const { port, errors } = await start({ idleTimeoutMs: 50 });
    const c = await client(port);
    const closed = new Promise((r) => c.on('close', r));
    expect((await firstValueFrom(errors)).code).toBe('SEQ_TCP_IDLE_TIMEOUT');
    await closed;
  });

  it('errors with SEQ_TCP_LISTEN when the port is taken', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as { port: number }).port;
    try {
      const failed = new Promise((resolve) => subs.push(sensorTcpServer({ port }).subscribe({ error: resolve })));
      expect(await failed).toMatchObject({ code: 'SEQ_TCP_LISTEN' });
    } finally {
      blocker.close();
    }
  });

  it("invalidInput 'error' ends the stream on the first bad line", async () => {
    const { port, failed } = await start({ invalidInput: 'error' });
    const c = await client(port);
    const err = firstValueFrom(failed);
    c.write('nope\n');
    expect(await err).toMatchObject({ code: 'SEQ_SENSOR_JSON' });
  });

  it('a connection that ends or is reset flushes the events its keys held for reordering', async () => {
    const { port, events, errors } = await start({ order: { reorderWindow: 10 } });
    const ended = await client(port);
    ended.end('{"timestamp":1,"value":1}\n{"timestamp":3,"value":3}\n{"timestamp":2,"value":2}\n');
    expect((await firstValueFrom(events.pipe(take(3), toArray()))).map((e) => [e.key, e.timestamp])).toEqual([
      ['tcp-1', 1],
      ['tcp-1', 2],
      ['tcp-1', 3],
    ]);
    // A reset (no FIN) is reported, and what the connection delivered before it is still emitted.
    const reset = await client(port);
    const resetEvents = events.pipe(filter((e) => e.key === 'tcp-2'));
    const flushed = firstValueFrom(resetEvents.pipe(take(3), toArray()));
    // 100 pushes the watermark past 4 and 5: seeing them emitted proves the server read all three lines.
    reset.write('{"timestamp":5,"value":5}\n{"timestamp":4,"value":4}\n{"timestamp":100,"value":100}\n');
    await firstValueFrom(resetEvents.pipe(take(2), toArray()));
    const resetReported = firstValueFrom(errors);
    reset.resetAndDestroy();
    expect((await flushed).map((e) => e.timestamp)).toEqual([4, 5, 100]);
    expect((await resetReported).code).toBe('SEQ_TCP_CONNECTION');
  }, 10_000);

  it('a key fed by two connections is flushed when the last of them ends, not before', async () => {
    const { port, events, errors } = await start({ key: 'sensor', order: { reorderWindow: 10 } });
    const late: SeqstreamError[] = [];
    errors.subscribe((e) => late.push(e));
    const a = await client(port);
    const b = await client(port);
    const aClosed = new Promise((r) => a.on('close', r));
    // Probe key p: p@1 is emitted once p@100 arrives, which proves the server has read b's s@3.
    b.write('{"sensor":"s","timestamp":3,"value":3}\n{"sensor":"p","timestamp":1,"value":1}\n{"sensor":"p","timestamp":100,"value":1}\n');
    await firstValueFrom(events.pipe(filter((e) => e.key === 'p')));
    a.end('{"sensor":"s","timestamp":1,"value":1}\n{"sensor":"s","timestamp":5,"value":5}\n');
    await aClosed; // the server flushes before it answers the FIN, so a's end has been handled
    b.end('{"sensor":"s","timestamp":4,"value":4}\n');
    expect((await firstValueFrom(events.pipe(filter((e) => e.key === 's'), take(4), toArray()))).map((e) => e.timestamp)).toEqual([1, 3, 4, 5]);
    expect(late).toEqual([]);
  }, 10_000);

  it('per-connection key state is freed on close: more connections over time than maxKeys all get through', async () => {
    for (const order of ['drop', { reorderWindow: 10 }] as const) {
      const { port, events, errors } = await start({ order, maxKeys: 2 });
      for (let i = 1; i <= 4; i++) {
        const c = await client(port);
        const closed = new Promise((r) => c.on('close', r));
        const outcome = firstValueFrom(merge(events.pipe(filter((e) => e.key === `tcp-${i}`)), errors));
        c.end(`{"timestamp":${i},"value":${i}}\n`);
        expect(await outcome).toMatchObject({ key: `tcp-${i}`, x: [i] });
        await closed;
      }
      subs.splice(0).forEach((s) => s.unsubscribe());
    }
  }, 10_000);

  it('unsubscribing closes the server and its connections', async () => {
    const { port } = await start();
    const c = await client(port);
    const closed = new Promise((r) => c.on('close', r));
    subs.splice(0).forEach((s) => s.unsubscribe());
    await closed;
    await expect(client(port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});
