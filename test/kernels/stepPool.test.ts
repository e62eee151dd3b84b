import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RecurrentModel, type CellKind, type ModelState } from '../../src/cells/index.js';
import { createFusedStepper, type FusedStepper } from '../../src/kernels/index.js';
import { createWasmStepper, shutdownStepPool, startStepPool, stepPoolStats, stepThreads } from '../../src/kernels/index.js';

function randomInputs(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 2 ** 32 - 0.5) * 4;
  }
  return out;
}

/** Every float of every layer's h (and c) is the same bit pattern. */
function expectIdentical(got: ModelState, want: ModelState, what: string): void {
  const pairs: Array<[Float32Array, Float32Array, string]> = got.h.map((h, k) => [h, want.h[k], `h[${k}]`]);
  got.c?.forEach((c, k) => pairs.push([c, (want.c as Float32Array[])[k], `c[${k}]`]));
  for (const [a, b, name] of pairs) {
    const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
    const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
    for (let i = 0; i < ua.length; i++) if (ua[i] !== ub[i]) throw new Error(`${what} ${name}[${i}]: ${a[i]} vs single-thread ${b[i]}`);
  }
}

/** Steps one model with a 1-thread and a 2-thread stepper; returns how many rows the worker took. */
function compare(cell: CellKind, I: number, H: number, L: number, B: number, steps: number): number {
  const model = RecurrentModel.create({ cell, inputSize: I, hiddenSize: H, numLayers: L, seed: I * 1000 + H * 10 + L });
  const one = createWasmStepper(model, { threads: 1 })!;
  const two = createWasmStepper(model, { threads: 2 })!;
  const want = model.createState(B);
  const got = model.createState(B);
  const before = stepPoolStats().workerRows;
  for (let t = 0; t < steps; t++) {
    const x = randomInputs(B * I, 31 * t + B);
    one.stepInPlace(want, x);
    expect(two.stepInPlace(got, x)).toBe(got.h[L - 1]);
    expectIdentical(got, want, `${cell} I=${I} H=${H} L=${L} B=${B} t=${t}`);
  }
  return stepPoolStats().workerRows - before;
}

describe('step pool (batches split across worker threads)', () => {
  let workers = false;
  beforeAll(async () => {
    workers = await startStepPool(2);
  });
  afterAll(async () => {
    await shutdownStepPool();
  });

  it('starts a worker on this runtime', () => {
    expect(workers).toBe(true);
    expect(stepPoolStats().workers).toBe(1);
  });

  describe.each<CellKind>(['lstm', 'gru', 'rnn_tanh', 'rnn_relu'])('%s: bit-identical to one thread', (cell) => {
    it.each([
      [40, 128, 1, 1024],
      [40, 32, 1, 4096],
      [40, 33, 2, 2047],
      [7, 13, 3, 9001],
      [5, 130, 1, 301],
    ])('I=%i H=%i layers=%i batch %i, split', (I, H, L, B) => {
      expect(compare(cell, I, H, L, B, 4)).toBeGreaterThan(0);
    });

    it.each([
      [40, 128, 1, 20],
      [4, 8, 1, 100],
      [40, 32, 2, 1],
    ])('I=%i H=%i layers=%i batch %i, below the threshold: stays on the caller', (I, H, L, B) => {
      expect(compare(cell, I, H, L, B, 3)).toBe(0);
    });
  });

  it('picks up weight updates between steps (model.version)', () => {
    const model = RecurrentModel.create({ cell: 'lstm', inputSize: 9, hiddenSize: 67, numLayers: 2, seed: 5 });
    const one = createWasmStepper(model, { threads: 1 })!;
    const two = createWasmStepper(model, { threads: 2 })!;
    const B = 900;
    const want = model.createState(B);
    const got = model.createState(B);
    const rows = stepPoolStats().workerRows;
    for (let t = 0; t < 6; t++) {
      if (t > 0) {
        model.updateParameters((params) => {
          for (const p of params.values()) for (let i = 0; i < p.data.length; i++) p.data[i] *= t % 2 ? -1.25 : 0.75;
        });
      }
      const x = randomInputs(B * 9, t + 70);
      one.stepInPlace(want, x);
      two.stepInPlace(got, x);
      expectIdentical(got, want, `t=${t}`);
    }
    expect(stepPoolStats().workerRows - rows).toBeGreaterThan(0);
  });

  it('shares one worker between many models and steppers, interleaved, with growing batches', () => {
    const models = (['lstm', 'gru', 'rnn_tanh', 'lstm', 'gru'] as const).map((cell, i) =>
      RecurrentModel.create({ cell, inputSize: 3 + i, hiddenSize: 40 + 17 * i, numLayers: 1 + (i % 2), seed: i }),
    );
    const sizes = [600, 1500, 700, 3000, 2000];
    const pairs: Array<{ m: RecurrentModel; one: FusedStepper; two: FusedStepper; want: ModelState; got: ModelState; B: number }> = [];
    models.forEach((m, i) => {
      for (const B of [sizes[i], sizes[i] * 2]) {
        pairs.push({ m, one: createWasmStepper(m, { threads: 1 })!, two: createWasmStepper(m, { threads: 2 })!, want: m.createState(B), got: m.createState(B), B });
      }
    });
    for (let t = 0; t < 3; t++) {
      pairs.forEach((p, j) => {
        const x = randomInputs(p.B * p.m.config.inputSize, 1000 * t + j);
        p.one.stepInPlace(p.want, x);
        p.two.stepInPlace(p.got, x);
        expectIdentical(p.got, p.want, `pair ${j} t=${t}`);
      });
    }
    expect(stepPoolStats().workers).toBe(1);
  });

  it('reads plain arrays and Float64Arrays as x when split', () => {
    const model = RecurrentModel.create({ cell: 'gru', inputSize: 3, hiddenSize: 100, seed: 2 });
    const B = 700;
    const x32 = randomInputs(B * 3, 9);
    const want = model.createState(B);
    createWasmStepper(model, { threads: 1 })!.stepInPlace(want, x32);
    for (const x of [Array.from(x32), Float64Array.from(x32)]) {
      const got = model.createState(B);
      createWasmStepper(model, { threads: 2 })!.stepInPlace(got, x);
      expectIdentical(got, want, x.constructor.name);
    }
  });

  it('restarts after shutdownStepPool', async () => {
    await shutdownStepPool();
    expect(stepPoolStats().workers).toBe(0);
    expect(await startStepPool(2)).toBe(true);
    expect(compare('lstm', 40, 64, 1, 2048, 2)).toBeGreaterThan(0);
  });

  it('rejects a bad threads option', () => {
    const model = RecurrentModel.create({ cell: 'lstm', inputSize: 3, hiddenSize: 4, seed: 1 });
    for (const threads of [0, 1.5, -1, Number.NaN]) {
      expect(() => createWasmStepper(model, { threads })).toThrowError(expect.objectContaining({ code: 'SEQ_INVALID_OPTION' }));
    }
  });
});

describe('SEQSTREAM_THREADS', () => {
  const saved = process.env.SEQSTREAM_THREADS;
  afterEach(() => {
    if (saved === undefined) delete process.env.SEQSTREAM_THREADS;
    else process.env.SEQSTREAM_THREADS = saved;
  });

  it('sets the thread count; garbage means 1; unset means 2 on a multi-core machine', () => {
    process.env.SEQSTREAM_THREADS = '1';
    expect(stepThreads()).toBe(1);
    process.env.SEQSTREAM_THREADS = '3';
    expect(stepThreads()).toBe(3);
    process.env.SEQSTREAM_THREADS = 'lots';
    expect(stepThreads()).toBe(1);
    delete process.env.SEQSTREAM_THREADS;
    expect([1, 2]).toContain(stepThreads());
  });

  it('SEQSTREAM_THREADS=1 never splits', () => {
    process.env.SEQSTREAM_THREADS = '1';
    const model = RecurrentModel.create({ cell: 'lstm', inputSize: 40, hiddenSize: 128, seed: 1 });
    const stepper = createFusedStepper(model, { engine: 'wasm' });
    const before = stepPoolStats().splitBatches;
    stepper.stepInPlace(model.createState(1024), randomInputs(1024 * 40, 1));
    expect(stepPoolStats().splitBatches).toBe(before);
  });
});

describe('process exit', () => {
  const dir = mkdtempSync(join(tmpdir(), 'seqstream-pool-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a process that used the workers exits on its own with the right results', () => {
    const src = pathToFileURL(fileURLToPath(new URL('../../src/cells/index.ts', import.meta.url))).href;
    const kernels = pathToFileURL(fileURLToPath(new URL('../../src/kernels/index.ts', import.meta.url))).href;
    const script = join(dir, 'child.mts');
    writeFileSync(
      script,
      `import { RecurrentModel } from ${JSON.stringify(src)};
import { createFusedStepper, startStepPool, stepPoolStats } from ${JSON.stringify(kernels)};
await startStepPool();
const model = RecurrentModel.create({ cell: 'lstm', inputSize: 8, hiddenSize: 96, seed: 3 });
// The wasm kernel's worker pool is under test: keep this batch off the native engine.
const stepper = createFusedStepper(model, { engine: 'wasm' });
const state = model.createState(1024);
for (let t = 0; t < 5; t++) stepper.stepInPlace(state, new Float32Array(1024 * 8).fill(0.1 * t));
const b64 = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
console.log(JSON.stringify({ rows: stepPoolStats().workerRows, h: b64(state.h[0]), c: b64(state.c![0]) }));
`,
    );
    // The same run on one thread, in this process: the child's workers must give exactly these floats.
    const model = RecurrentModel.create({ cell: 'lstm', inputSize: 8, hiddenSize: 96, seed: 3 });
    const single = createWasmStepper(model, { threads: 1 })!;
    const want = model.createState(1024);
    for (let t = 0; t < 5; t++) single.stepInPlace(want, new Float32Array(1024 * 8).fill(0.1 * t));
    const tsx = fileURLToPath(new URL('../../node_modules/tsx/dist/esm/index.mjs', import.meta.url));
    const env = { ...process.env, SEQSTREAM_THREADS: '2' };
    const r = spawnSync(process.execPath, ['--import', pathToFileURL(tsx).href, script], { encoding: 'utf8', timeout: 30_000, env, maxBuffer: 16 * 1024 * 1024 });
    expect(r.error, r.stderr).toBeUndefined();
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop() as string) as { rows: number; h: string; c: string };
    expect(out.rows).toBeGreaterThan(0);
    const floats = (b64: string) => {
      const bytes = Buffer.from(b64, 'base64');
      return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    };
    expectIdentical({ h: [floats(out.h)], c: [floats(out.c)] } as ModelState, want, 'child process with workers');
  });
});
