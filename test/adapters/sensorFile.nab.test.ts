import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { sensorFile } from '../../src/adapters/sensorFile.js';
import type { SeqstreamError } from '../../src/errors.js';

const nab = resolve(__dirname, '../../../shared/datasets/nab');
const haveNab = existsSync(join(nab, 'data'));
if (!haveNab) console.log(`[skip] NAB corpus not found at ${nab}: NAB sensor tests skipped`);

describe.skipIf(!haveNab)('sensorFile on NAB (read in place from ../shared)', () => {
  const file = join(nab, 'data/realKnownCause/machine_temperature_system_failure.csv');

  it('reads every row, numbered by position, with repeated timestamps kept (order accept)', async () => {
    const events = await lastValueFrom(sensorFile(file).pipe(toArray()));
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
    expect(events).toHaveLength(lines.length - 1);
    expect(events.every((e, i) => e.line === i + 2)).toBe(true);
    expect(events[0].x[0]).toBeCloseTo(Number(lines[1].split(',')[1]), 10);
    // Byte offsets point at the row's first byte.
    const text = readFileSync(file);
    const e = events[1234];
    expect(text.subarray(e.byteOffset, e.byteOffset + 19).toString()).toBe(lines[e.line - 1].slice(0, 19));
  });

  it("the file steps back 55 min at line 10151: 'drop' drops the 11 rows behind, a 1 h reorder window sorts them in", async () => {
    const rows = readFileSync(file, 'utf8').trimEnd().split('\n').length - 1;
    const late: SeqstreamError[] = [];
    const dropped = await lastValueFrom(sensorFile(file, { order: 'drop', onError: (e) => late.push(e) }).pipe(toArray()));
    expect(late).toHaveLength(11);
    expect(late.every((e) => e.code === 'SEQ_SENSOR_LATE')).toBe(true);
    expect(late[0].details.line).toBe(10151);
    expect(dropped).toHaveLength(rows - 11);

    const sorted = await lastValueFrom(sensorFile(file, { order: { reorderWindow: 3_600_000 }, onError: (e) => late.push(e) }).pipe(toArray()));
    expect(sorted).toHaveLength(rows);
    expect(late).toHaveLength(11);
    expect(sorted.every((e, i) => i === 0 || e.timestamp >= sorted[i - 1].timestamp)).toBe(true);
  });
});

describe('examples/nab-anomaly.ts', () => {
  it('skips with a clear message when the corpus is absent', () => {
    const r = spawnSync(process.execPath, ['--conditions=seqstream-source', '--import', 'tsx', resolve(__dirname, '../../examples/nab-anomaly.ts')], {
      env: { ...process.env, NAB_DIR: '/nonexistent/nab' },
      encoding: 'utf8',
    });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/NAB corpus not found at \/nonexistent\/nab.*skipping/);
  });
});
