import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compileSource } from '../support/compiledSource.js';

/**
 * The detector thread is a file of its own (`src/detection/detectorWorker.ts`, compiled to
 * `detectorWorker.js` next to `detectorLanes.js`). The operator tests start it from the TypeScript
 * source; this child process starts it as a user of the package does, from the compiled
 * JavaScript, and compares every output with the one-thread operator's.
 */
const childScript = `import { from, lastValueFrom, toArray } from 'rxjs';
import { detectAnomalies, detectAnomaliesParallel } from './detection/index.js';
const readings = Array.from({ length: 1200 }, (_, i) => ({ key: 'k' + (i % 6), x: Math.sin(i / 9) + (i === 1000 ? 4 : 0), timestamp: i * 60000 }));
const plain = (out) => JSON.stringify(out.map(({ event, ...rest }) => rest));
const one = await lastValueFrom(from(readings).pipe(detectAnomalies({ learningPeriod: 40 }), toArray()));
const two = await lastValueFrom(from(readings).pipe(detectAnomaliesParallel({ learningPeriod: 40, threads: 2 }), toArray()));
console.log(JSON.stringify({ outputs: two.length, identical: plain(one) === plain(two), maxScore: Math.max(...two.map((e) => e.score)) }));
`;

describe('detector thread in a child process', () => {
  const compiled = compileSource();
  afterAll(() => compiled.remove());

  it('runs from the compiled JavaScript (detectorWorker.js beside detectorLanes.js), scoring as detectAnomalies does', () => {
    const script = join(compiled.dir, 'detect-child.mjs');
    writeFileSync(script, childScript);
    const r = spawnSync(process.execPath, [script], { encoding: 'utf8', timeout: 120_000 });
    expect(r.error, r.stderr).toBeUndefined();
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop() as string);
    expect(out).toMatchObject({ outputs: 1200, identical: true });
    expect(out.maxScore).toBeGreaterThan(0.5);
  });
});
