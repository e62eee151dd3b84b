import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { compileSource } from '../support/compiledSource.js';

/**
 * The step worker is a file of its own (`src/kernels/stepWorker.ts`, compiled to `stepWorker.js`
 * next to `stepPool.js`). These start it as users do, in real child processes: from the compiled
 * JavaScript (what `dist/` holds) and from the TypeScript source under the tsx CLI. Each child
 * steps a batch large enough to split on one and on two threads and compares every bit.
 */
const childScript = (cells: string, kernels: string): string => `import { RecurrentModel } from ${JSON.stringify(cells)};
import { createWasmStepper, startStepPool, stepPoolStats } from ${JSON.stringify(kernels)};
const started = await startStepPool(2);
let identical = true;
for (const cell of ['lstm', 'gru', 'rnn_tanh']) {
  const model = RecurrentModel.create({ cell, inputSize: 8, hiddenSize: 93, numLayers: 2, seed: 3 });
  const one = createWasmStepper(model, { threads: 1 });
  const two = createWasmStepper(model, { threads: 2 });
  const want = model.createState(1500);
  const got = model.createState(1500);
  for (let t = 0; t < 4; t++) {
    const x = Float32Array.from({ length: 1500 * 8 }, (_, i) => Math.sin(i * 0.37 + t));
    one.stepInPlace(want, x);
    two.stepInPlace(got, x);
  }
  for (let k = 0; k < 2; k++) {
    const a = new Uint32Array(got.h[k].buffer), b = new Uint32Array(want.h[k].buffer);
    if (a.some((v, i) => v !== b[i])) identical = false;
  }
}
console.log(JSON.stringify({ started, identical, rows: stepPoolStats().workerRows }));
`;

function run(args: string[]): { started: boolean; identical: boolean; rows: number } {
  const env = { ...process.env, SEQSTREAM_THREADS: '2' };
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', timeout: 60_000, env });
  expect(r.error, r.stderr).toBeUndefined();
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout.trim().split('\n').pop() as string);
}

describe('step worker in a child process', () => {
  const compiled = compileSource();
  afterAll(() => compiled.remove());

  it('runs from the compiled JavaScript (stepWorker.js next to stepPool.js), bit-identical', () => {
    const script = join(compiled.dir, 'child.mjs');
    writeFileSync(script, childScript('./cells/index.js', './kernels/index.js'));
    const out = run([script]);
    expect(out).toMatchObject({ started: true, identical: true });
    expect(out.rows).toBeGreaterThan(0);
  });

  it('runs from the TypeScript source under the tsx CLI, bit-identical', () => {
    const src = (p: string) => pathToFileURL(fileURLToPath(new URL(`../../src/${p}`, import.meta.url))).href;
    const script = join(compiled.dir, 'child-source.mts');
    writeFileSync(script, childScript(src('cells/index.ts'), src('kernels/index.ts')));
    const cli = fileURLToPath(new URL('../../node_modules/tsx/dist/cli.mjs', import.meta.url));
    const out = run([cli, script]);
    expect(out).toMatchObject({ started: true, identical: true });
    expect(out.rows).toBeGreaterThan(0);
  });
});
