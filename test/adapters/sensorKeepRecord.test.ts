import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { sensorFile } from '../../src/adapters/sensorFile.js';

const dir = mkdtempSync(join(tmpdir(), 'seqstream-keep-'));

describe('sensor sources with keepRecord', () => {
  it('attach each row as written (CSV fields as text, the line itself) and leave events without it by default', async () => {
    const path = join(dir, 'r.csv');
    writeFileSync(path, 'timestamp,value\r\n2015-01-01 00:00:00,1.50\r\n2015-01-01 00:05:00,2e3\r\n');
    const kept = await lastValueFrom(sensorFile(path, { keepRecord: true }).pipe(toArray()));
    expect(kept.map((e) => e.record)).toEqual([
      { timestamp: '2015-01-01 00:00:00', value: '1.50' },
      { timestamp: '2015-01-01 00:05:00', value: '2e3' },
    ]);
    expect(kept.map((e) => e.text)).toEqual(['2015-01-01 00:00:00,1.50', '2015-01-01 00:05:00,2e3']);
    expect(kept[1].x).toEqual([2000]);
    const plain = await lastValueFrom(sensorFile(path).pipe(toArray()));
    expect(plain[0]).not.toHaveProperty('record');
    expect(plain[0]).not.toHaveProperty('text');
  });

  it('keeps the NDJSON line text, so numbers keep their spelling', async () => {
    const path = join(dir, 'r.ndjson');
    writeFileSync(path, '{"timestamp":1,"value":1.50}\n');
    const [e] = await lastValueFrom(sensorFile(path, { keepRecord: true }).pipe(toArray()));
    expect(e.text).toBe('{"timestamp":1,"value":1.50}');
    expect(e.record).toEqual({ timestamp: 1, value: 1.5 });
  });
});
