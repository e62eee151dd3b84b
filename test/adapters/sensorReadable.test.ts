import { PassThrough, Readable } from 'node:stream';
import { spawn } from 'node:child_process';
import { connect, createServer, type AddressInfo } from 'node:net';
import { lastValueFrom, take, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { sensorReadable } from '../../src/adapters/sensorReadable.js';
import type { SeqstreamError } from '../../src/errors.js';

describe('sensorReadable', () => {
  it('reads lines split across arbitrary chunks, counting bytes of multi-byte text', async () => {
    const text = '{"key":"é","timestamp":1,"value":1}\n{"key":"b","timestamp":2,"value":2}\n';
    const bytes = Buffer.from(text);
    // One byte per chunk: lines and UTF-8 sequences are cut everywhere.
    const chunks = [...bytes].map((b) => Buffer.from([b]));
    const events = await lastValueFrom(sensorReadable(Readable.from(chunks), { key: 'key' }).pipe(toArray()));
    expect(events.map((e) => [e.key, e.x[0], e.line, e.byteOffset])).toEqual([
      ['é', 1, 1, 0],
      ['b', 2, 2, text.indexOf('\n') + 2],
    ]);
  });

  it('reads a child process stdout (a real pipe), as stdin would be read', async () => {
    const child = spawn(process.execPath, ['-e', "for (let i = 0; i < 100; i++) console.log(`${i},${i * 2}`)"], { stdio: ['ignore', 'pipe', 'inherit'] });
    const events = await lastValueFrom(sensorReadable(child.stdout, { format: 'csv', columns: ['timestamp', 'value'], name: 'child' }).pipe(toArray()));
    expect(events).toHaveLength(100);
    expect(events[99]).toMatchObject({ timestamp: 99, x: [198], source: 'child', line: 100 });
  });

  it('completes on an empty readable', async () => {
    expect(await lastValueFrom(sensorReadable(Readable.from([])).pipe(toArray()))).toEqual([]);
  });

  it('errors with SEQ_SENSOR_IO when the readable fails', async () => {
    const r = new PassThrough();
    const done = lastValueFrom(sensorReadable(r).pipe(toArray()));
    r.write('{"timestamp":1,"value":1}\n');
    r.destroy(new Error('disk on fire'));
    await expect(done).rejects.toMatchObject({ code: 'SEQ_SENSOR_IO' });
  });

  it('a socket destroyed without end: held events are flushed, then SEQ_SENSOR_IO', async () => {
    const text = '{"timestamp":5,"value":5}\n{"timestamp":4,"value":4}\n{"timestamp":100,"value":100}\n';
    const server = createServer((peer) => peer.write(text));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const socket = connect((server.address() as AddressInfo).port, '127.0.0.1');
      const events: number[] = [];
      const failed = new Promise<unknown>((resolve, reject) =>
        sensorReadable(socket, { order: { reorderWindow: 10 }, name: 'feed' }).subscribe({ next: (e) => {
          events.push(e.timestamp);
          // 4 and 5 are out once 100 has been read; 100 itself is still held.
          if (events.length === 2) socket.destroy();
        }, error: resolve, complete: () => reject(new Error('completed')) }),
      );
      // details locate where a replay would resume: after the three lines read.
      expect(await failed).toMatchObject({ code: 'SEQ_SENSOR_IO', details: { source: 'feed', line: 4, byteOffset: text.length } });
      expect(events).toEqual([4, 5, 100]);
    } finally {
      server.close();
    }
  }, 10_000);

  it('a readable already destroyed (not ended) at subscribe errors at once with SEQ_SENSOR_IO', () => {
    const r = new PassThrough();
    r.destroy();
    let error: unknown;
    sensorReadable(r).subscribe({ error: (e) => (error = e) });
    expect(error).toMatchObject({ code: 'SEQ_SENSOR_IO' });
  });

  it('never-ending readable: early unsubscribe detaches and leaves the readable usable', async () => {
    const r = new PassThrough();
    const got = lastValueFrom(sensorReadable(r).pipe(take(2), toArray()));
    for (let i = 0; i < 5; i++) r.write(`{"timestamp":${i},"value":${i}}\n`);
    expect((await got).map((e) => e.x[0])).toEqual([0, 1]);
    expect(r.listenerCount('data')).toBe(0);
    expect(r.destroyed).toBe(false);
  });

  it('bad input errors once by default, or is skipped and reported', async () => {
    const lines = () => Readable.from(['{"timestamp":1,"value":1}\nnot json\n{"timestamp":2,"value":"x"}\n{"timestamp":3,"value":3}\n']);
    await expect(lastValueFrom(sensorReadable(lines()).pipe(toArray()))).rejects.toMatchObject({ code: 'SEQ_SENSOR_JSON', details: { line: 2 } });
    const errors: SeqstreamError[] = [];
    const events = await lastValueFrom(sensorReadable(lines(), { invalidInput: 'skip', onError: (e) => errors.push(e) }).pipe(toArray()));
    expect(events.map((e) => e.x[0])).toEqual([1, 3]);
    expect(errors.map((e) => e.code)).toEqual(['SEQ_SENSOR_JSON', 'SEQ_SENSOR_NOT_NUMERIC']);
  });

  it('timestamp null stamps arrival time', async () => {
    const before = Date.now();
    const [e] = await lastValueFrom(sensorReadable(Readable.from(['{"value":5}\n']), { timestamp: null }).pipe(toArray()));
    expect(e.timestamp).toBeGreaterThanOrEqual(before);
    expect(e.x).toEqual([5]);
  });

  it('rejects a non-stream synchronously', () => {
    expect(() => sensorReadable({} as Readable)).toThrow(expect.objectContaining({ code: 'SEQ_INVALID_OPTION' }));
  });
});
