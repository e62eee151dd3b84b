import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { firstValueFrom, lastValueFrom, take, toArray } from 'rxjs';
import { afterAll, describe, expect, it } from 'vitest';
import { sensorFile, type SensorEvent } from '../../src/adapters/sensorFile.js';
import type { SeqstreamError } from '../../src/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'seqstream-sensorfile-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
function file(name: string, content: string | Buffer): string {
  const p = join(dir, `${n++}-${name}`);
  writeFileSync(p, content);
  return p;
}
const all = (path: string, options: Parameters<typeof sensorFile>[1] = {}) => lastValueFrom(sensorFile(path, options).pipe(toArray()));
async function failure(path: string, options: Parameters<typeof sensorFile>[1] = {}): Promise<SeqstreamError> {
  try {
    await all(path, options);
  } catch (e) {
    return e as SeqstreamError;
  }
  throw new Error('expected the stream to fail');
}

describe('sensorFile', () => {
  it('reads NAB-style CSV with a header, date timestamps as UTC ms, line numbers and byte offsets', async () => {
    const p = file('a.csv', 'timestamp,value\n2014-04-01 00:00:00,20.5\n2014-04-01 00:05:00,1.5e1\n');
    const events = await all(p);
    expect(events).toEqual([
      { key: p, timestamp: Date.UTC(2014, 3, 1, 0, 0, 0), x: [20.5], source: `file:${p}`, line: 2, byteOffset: 16 },
      { key: p, timestamp: Date.UTC(2014, 3, 1, 0, 5, 0), x: [15], source: `file:${p}`, line: 3, byteOffset: 41 },
    ]);
  });

  it('reads NDJSON with key, timestamp and several value fields into a vector', async () => {
    const p = file('a.ndjson', '{"id":"s1","t":1,"a":1,"b":2}\n\n{"id":7,"t":2,"a":"3","b":4}');
    const events = await all(p, { key: 'id', timestamp: 't', value: ['a', 'b'] });
    expect(events.map((e) => [e.key, e.timestamp, e.x, e.line])).toEqual([
      ['s1', 1, [1, 2], 1],
      ['7', 2, [3, 4], 3],
    ]);
  });

  it('takes a JSON array value as the vector', async () => {
    const p = file('v.ndjson', '{"timestamp":1,"value":[1,2,3]}\n');
    expect((await all(p))[0].x).toEqual([1, 2, 3]);
  });

  it('completes with no events for an empty file', async () => {
    expect(await all(file('empty.csv', ''))).toEqual([]);
    expect(await all(file('header-only.csv', 'timestamp,value\n'))).toEqual([]);
  });

  it('handles CRLF, a BOM, quoted CSV fields and other delimiters', async () => {
    const header = '\ufefftimestamp;"value";name\r\n';
    const p = file('crlf.csv', header + '1;"2.5";"a ""b"""\r\n2;3;c\r\n');
    const events = await all(p, { delimiter: ';' });
    expect(events.map((e) => [e.x[0], e.line, e.byteOffset])).toEqual([
      [2.5, 2, Buffer.byteLength(header)],
      [3, 3, Buffer.byteLength(header) + 19],
    ]);
  });

  it('errors with SEQ_SENSOR_IO for a missing file', async () => {
    const e = await failure(join(dir, 'nope.csv'));
    expect(e.code).toBe('SEQ_SENSOR_IO');
  });

  it.each([
    ['bad.csv', 'timestamp,value\n1,abc\n', {}, 'SEQ_SENSOR_NOT_NUMERIC', 2],
    ['nan.csv', 'timestamp,value\n1,NaN\n', {}, 'SEQ_SENSOR_NOT_NUMERIC', 2],
    ['inf.csv', 'timestamp,value\n1,1e999\n', {}, 'SEQ_SENSOR_NOT_FINITE', 2],
    ['inf.ndjson', '{"timestamp":1,"value":1e999}\n', {}, 'SEQ_SENSOR_NOT_FINITE', 1],
    ['infstr.ndjson', '{"timestamp":1,"value":"-1e999"}\n', {}, 'SEQ_SENSOR_NOT_FINITE', 1],
    ['infts.ndjson', '{"timestamp":"1e999","value":1}\n', {}, 'SEQ_SENSOR_BAD_TIMESTAMP', 1],
    ['cols.csv', 'timestamp,value\n1,2,3\n', {}, 'SEQ_SENSOR_CSV_COLUMNS', 2],
    ['quote.csv', 'timestamp,value\n1,"2\n', {}, 'SEQ_SENSOR_CSV_SYNTAX', 2],
    ['header.csv', 'timestamp,timestamp\n1,2\n', {}, 'SEQ_SENSOR_CSV_HEADER', 1],
    ['bad.ndjson', '{"timestamp":1,"value":1}\n{"timestamp":2,"value":\n', {}, 'SEQ_SENSOR_JSON', 2],
    ['arr.ndjson', '[1,2]\n', {}, 'SEQ_SENSOR_NOT_OBJECT', 1],
    ['nokey.ndjson', '{"timestamp":1,"value":1}\n', { key: 'id' }, 'SEQ_SENSOR_MISSING_KEY', 1],
    ['objkey.ndjson', '{"id":{},"timestamp":1,"value":1}\n', { key: 'id' }, 'SEQ_SENSOR_BAD_KEY', 1],
    ['nots.ndjson', '{"value":1}\n', {}, 'SEQ_SENSOR_MISSING_TIMESTAMP', 1],
    ['badts.ndjson', '{"timestamp":"yesterday","value":1}\n', {}, 'SEQ_SENSOR_BAD_TIMESTAMP', 1],
    ['noval.ndjson', '{"timestamp":1}\n', {}, 'SEQ_SENSOR_MISSING_VALUE', 1],
    ['long.ndjson', `{"timestamp":1,"value":1,"pad":"${'x'.repeat(200)}"}\n`, { maxLineLength: 100 }, 'SEQ_SENSOR_LINE_TOO_LONG', 1],
  ] as const)('bad input %s errors once with %s and the line', async (name, content, options, code, line) => {
    const e = await failure(file(name, content), options);
    expect(e.code).toBe(code);
    expect(e.details.line).toBe(line);
  });

  it("with invalidInput 'skip' reports every bad line to onError and keeps reading", async () => {
    const errors: SeqstreamError[] = [];
    const long = 'x'.repeat(300);
    const p = file('mixed.csv', `timestamp,value\n1,1\n2,abc\n3,${long}\n4,4\n\u0000\u0001garbage\n5,"5\n6,6`);
    const events = await all(p, { invalidInput: 'skip', maxLineLength: 64, onError: (e) => errors.push(e) });
    expect(events.map((e) => e.x[0])).toEqual([1, 4, 6]);
    expect(errors.map((e) => [e.code, e.details.line])).toEqual([
      ['SEQ_SENSOR_NOT_NUMERIC', 3],
      ['SEQ_SENSOR_LINE_TOO_LONG', 4],
      ['SEQ_SENSOR_CSV_COLUMNS', 6],
      ['SEQ_SENSOR_CSV_SYNTAX', 7],
    ]);
  });

  it('missing-value policies: skip, fill-zero, fill-previous (per key)', async () => {
    const p = file('missing.csv', 'k,timestamp,a,b\nx,1,1,2\ny,1,10,\nx,2,,3\ny,2,,20\n');
    const run = (missing: 'skip' | 'fill-zero' | 'fill-previous') =>
      all(p, { key: 'k', value: ['a', 'b'], missing, invalidInput: 'skip' }).then((es) => es.map((e) => `${e.key}:${e.x.join('/')}`));
    expect(await run('skip')).toEqual(['x:1/2']);
    expect(await run('fill-zero')).toEqual(['x:1/2', 'y:10/0', 'x:0/3', 'y:0/20']);
    // y's first reading has nothing to fill from: reported, dropped.
    expect(await run('fill-previous')).toEqual(['x:1/2', 'x:1/3']);
    const e = await failure(p, { key: 'k', value: ['a', 'b'], missing: 'fill-previous' });
    expect([e.code, e.details.noPrevious]).toEqual(['SEQ_SENSOR_MISSING_VALUE', true]);
  });

  it("order 'drop' drops events older than the key's newest, reporting SEQ_SENSOR_LATE", async () => {
    const p = file('late.ndjson', ['a,1', 'b,5', 'a,3', 'a,2', 'b,4', 'a,3'].map((s) => {
      const [k, t] = s.split(',');
      return JSON.stringify({ k, timestamp: Number(t), value: Number(t) });
    }).join('\n'));
    const errors: SeqstreamError[] = [];
    const events = await all(p, { key: 'k', order: 'drop', onError: (e) => errors.push(e) });
    expect(events.map((e) => `${e.key}${e.timestamp}`)).toEqual(['a1', 'b5', 'a3', 'a3']);
    expect(errors.map((e) => [e.code, e.details.key, e.details.line])).toEqual([
      ['SEQ_SENSOR_LATE', 'a', 4],
      ['SEQ_SENSOR_LATE', 'b', 5],
    ]);
  });

  it('order reorderWindow emits per key in timestamp order, flushes at the end, drops what comes too late', async () => {
    const rows = [['a', 10], ['a', 12], ['a', 11], ['b', 1], ['a', 15], ['a', 9], ['a', 14], ['a', 20], ['a', 13]];
    const p = file('reorder.ndjson', rows.map(([k, t]) => JSON.stringify({ k, timestamp: t, value: t })).join('\n'));
    const errors: SeqstreamError[] = [];
    const events = await all(p, { key: 'k', order: { reorderWindow: 3 }, onError: (e) => errors.push(e) });
    // a: 10,11,12 released when 15 arrives (watermark 12); 9 is behind 12 -> late; 14,15 at 20 (watermark 17); 13 late; 20 and b1 flushed at end.
    expect(events.map((e) => `${e.key}${e.timestamp}`)).toEqual(['a10', 'a11', 'a12', 'a14', 'a15', 'a20', 'b1']);
    expect(errors.map((e) => [e.code, e.details.timestamp])).toEqual([
      ['SEQ_SENSOR_LATE', 9],
      ['SEQ_SENSOR_LATE', 13],
    ]);
  });

  it('bounds the reorder buffer (maxReorderBuffer) and the number of keys (maxKeys)', async () => {
    const p = file('bound.ndjson', [1, 2, 3, 4, 5].map((t) => JSON.stringify({ k: 'a', timestamp: 100 - t, value: t })).join('\n'));
    const events = await all(p, { key: 'k', order: { reorderWindow: 1000 }, maxReorderBuffer: 2 });
    // 99, 98 held; 97 overflows the buffer so the oldest held (97) goes out early; 96 and 95 are then late.
    expect(events.map((e) => e.timestamp)).toEqual([97, 98, 99]);
    const keys = file('keys.ndjson', ['a', 'b', 'c', 'a'].map((k, i) => JSON.stringify({ k, timestamp: i, value: i })).join('\n'));
    const e = await failure(keys, { key: 'k', order: 'drop', maxKeys: 2 });
    expect([e.code, e.details.key]).toEqual(['SEQ_SENSOR_TOO_MANY_KEYS', 'c']);
  });

  it('resumes a replay from an event offset, reading the CSV header from line 1', async () => {
    const p = file('replay.csv', 'timestamp,value\n1,10\n2,20\n3,30\n');
    const events = await all(p);
    const resumed = await all(p, { from: { byteOffset: events[1].byteOffset, line: events[1].line } });
    expect(resumed).toEqual(events.slice(1));
  });

  it('stops reading on early unsubscribe', async () => {
    const lines = ['timestamp,value'];
    for (let i = 0; i < 50_000; i++) lines.push(`${i},${i}`);
    const p = file('big.csv', lines.join('\n'));
    const first = await firstValueFrom(sensorFile(p).pipe(take(3), toArray()));
    expect(first.map((e: SensorEvent) => e.x[0])).toEqual([0, 1, 2]);
  });

  it('a throwing onError ends the stream with that error', async () => {
    const p = file('throw.csv', 'timestamp,value\n1,x\n2,2\n');
    const boom = new Error('boom');
    await expect(all(p, { invalidInput: 'skip', onError: () => { throw boom; } })).rejects.toBe(boom);
  });

  it('throws SEQ_INVALID_OPTION synchronously for bad options', () => {
    const bad: Parameters<typeof sensorFile>[1][] = [
      { format: 'xml' as 'csv' },
      { missing: 'maybe' as 'skip' },
      { order: { reorderWindow: -1 } },
      { maxLineLength: 0 },
      { value: [] },
      { delimiter: '"' },
      { invalidInput: 'ignore' as 'skip' },
      { from: { byteOffset: -1, line: 1 } },
    ];
    for (const options of bad) expect(() => sensorFile('x.csv', options)).toThrow(expect.objectContaining({ code: 'SEQ_INVALID_OPTION' }));
  });
});
