import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lastValueFrom, map, toArray } from 'rxjs';
import { afterAll, describe, expect, it } from 'vitest';
import { sensorFile } from '../../src/adapters/sensorFile.js';
import { RecurrentModel, runSequence } from '../../src/cells/index.js';
import { recurrent, standardize } from '../../src/streams/index.js';

const dir = mkdtempSync(join(tmpdir(), 'seqstream-sensor-pipeline-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('sensorFile -> standardize -> recurrent (the README pipeline)', () => {
  it('gives the model the outputs of running the standardized sequence whole', async () => {
    const rows = ['key,timestamp,temp,humidity'];
    for (let i = 0; i < 60; i++) rows.push(`k,${i * 1000},${(20 + Math.sin(i / 5) * 3).toFixed(3)},${i % 7 === 3 ? '' : (50 + (i % 11)).toString()}`);
    const path = join(dir, 'readings.csv');
    writeFileSync(path, rows.join('\n'));
    const model = RecurrentModel.create({ cell: 'lstm', inputSize: 2, hiddenSize: 16, head: { outputSize: 1 }, seed: 3 });

    const scaled = await lastValueFrom(
      sensorFile(path, { key: 'key', value: ['temp', 'humidity'], missing: 'fill-previous' }).pipe(standardize({ warmup: 20 }), toArray()),
    );
    expect(scaled).toHaveLength(40);
    const streamed = await lastValueFrom(
      sensorFile(path, { key: 'key', value: ['temp', 'humidity'], missing: 'fill-previous' }).pipe(
        standardize({ warmup: 20 }),
        map((e) => e.x),
        recurrent(model),
        toArray(),
      ),
    );
    const whole = runSequence(model, [scaled.map((e) => Array.from(e.x))], { engine: 'fused' });
    const expected = whole.y![0].map((y) => y[0]);
    expect(streamed).toHaveLength(expected.length);
    // Same float32 math; runSequence returns its head output unrounded, so allow float32 rounding.
    streamed.forEach((y, t) => expect(Math.abs(y[0] - expected[t])).toBeLessThan(1e-6));
  });
});
