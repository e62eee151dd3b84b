import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { verifyTbpttFixture } from '../../src/cli/verifyTbptt.js';

const DIRS = [
  { name: '../shared/fixtures/pytorch', dir: new URL('../../../shared/fixtures/pytorch', import.meta.url).pathname },
  { name: "the project's test/fixtures/pytorch", dir: new URL('../fixtures/pytorch', import.meta.url).pathname },
];

/** TBPTT fixture files (content has `windows`) in a folder. */
export function tbpttFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .filter((f) => 'windows' in JSON.parse(readFileSync(join(dir, f), 'utf8')));
}

/** Every TBPTT fixture passes verifyTbpttFixture on `engine` (backend chosen by the caller's file). */
export function verifyTbpttSuite(engine: 'fused' | 'tfjs', kernel: 'auto' | 'js' = 'auto'): void {
  for (const { name, dir } of DIRS) {
    const present = existsSync(dir);
    if (!present) console.warn(`verifyTbptt: ${name} not found (${dir}), its cases are skipped`);
    describe.skipIf(!present)(`verifyTbpttFixture on ${engine}${engine === 'fused' ? ` (kernel ${kernel})` : ''} over ${name}`, () => {
      const files = present ? tbpttFiles(dir) : [];
      it('finds TBPTT fixtures', () => expect(files.length).toBeGreaterThan(0));
      it.each(files)('%s', (file) => {
        const before = tf.memory().numTensors;
        const r = verifyTbpttFixture(JSON.parse(readFileSync(join(dir, file), 'utf8')), { engine, kernel });
        expect(r.failures).toEqual([]);
        expect(r.passed).toBe(true);
        expect(r.maxAbsError).toBeLessThan(1e-6);
        expect(r.checked.some((c) => c.startsWith('grads'))).toBe(true);
        expect(tf.memory().numTensors).toBe(before);
      });
    });
  }
}
