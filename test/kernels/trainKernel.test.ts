import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { createFusedTbpttEngine } from '../../src/training/index.js';
import { jsTrainKernel, withTrainKernel } from '../../src/kernels/index.js';
import { RecurrentModel, seededRandom } from '../../src/cells/index.js';
import { trainKernelCompiler } from '../../src/kernels/trainKernel.wasm.js';
import { ciPrerequisite } from '../support/prerequisites.js';

describe('training kernel', () => {
  it('loads the WebAssembly SIMD kernel here and its matvec equals the JavaScript one', () => {
    const rand = seededRandom(1);
    const { kernel, value } = withTrainKernel((alloc) => ({ W: alloc(7 * 13), x: alloc(13), out: alloc(7) }));
    expect(kernel.kind).toBe('wasm-simd');
    value.W.forEach((_, i) => (value.W[i] = rand() - 0.5));
    value.x.forEach((_, i) => (value.x[i] = rand() - 0.5));
    const js = jsTrainKernel();
    const ref = new Float64Array(7);
    for (const [rows, n, off] of [[7, 13, 0], [3, 5, 2], [1, 1, 0], [6, 9, 4]]) {
      value.out.fill(1);
      ref.fill(1);
      kernel.matvec(value.W, off, 13, value.x, 0, value.out, 0, rows, n, true);
      js.matvec(value.W, off, 13, value.x, 0, ref, 0, rows, n, true);
      for (let r = 0; r < rows; r++) expect(value.out[r]).toBeCloseTo(ref[r], 14);
    }
  });

  it("SEQSTREAM_KERNEL-style preference 'js' gives the loops, and both kernels train identically up to rounding", () => {
    const run = (kernel: 'auto' | 'js') => {
      const model = RecurrentModel.create({ cell: 'lstm', inputSize: 5, hiddenSize: 7, numLayers: 2, head: { outputSize: 2 }, seed: 8 });
      const engine = createFusedTbpttEngine(model, { k1: 4, k2: 6, loss: 'mse', kernel });
      const rand = seededRandom(2);
      const y = new Float32Array(2);
      const grads = model.parameters().map((p) => new Float64Array(p.data.length));
      const out: number[] = [];
      for (let t = 0; t < 24; t++) {
        engine.step(Array.from({ length: 5 }, rand), [rand(), rand()], y);
        if (engine.windowDue()) out.push(engine.backward(grads).loss, ...grads.flatMap((g) => Array.from(g)));
      }
      return { kind: engine.kernel, out };
    };
    const a = run('auto');
    const b = run('js');
    expect(a.kind).toBe('wasm-simd');
    expect(b.kind).toBe('js');
    a.out.forEach((v, i) => expect(Math.abs(v - b.out[i])).toBeLessThan(1e-13));
  });
});

const clang = spawnSync('clang', ['--version'], { encoding: 'utf8' });
const clangVersion = clang.status === 0 ? clang.stdout.split('\n')[0].trim() : null;
const skip = clangVersion === null || spawnSync('wasm-ld', ['--version']).status !== 0 ? 'clang or wasm-ld (lld) not installed' : clangVersion !== trainKernelCompiler ? `installed '${clangVersion}' differs from '${trainKernelCompiler}'` : null;
// A missing compiler under CI=true fails (.ci/run installs clang and lld); another clang version skips.
if (skip === 'clang or wasm-ld (lld) not installed') ciPrerequisite(false, 'embedded trainKernel rebuild check', 'clang or wasm-ld (lld) is not installed');
else if (skip) console.warn(`embedded trainKernel rebuild check skipped: ${skip}`);

describe.skipIf(skip !== null)('embedded trainKernel.wasm.ts', () => {
  it('is exactly what tools/build-kernels.sh builds from trainKernel.c', () => {
    const r = spawnSync('sh', ['tools/build-kernels.sh', '--check', 'trainKernel'], { encoding: 'utf8' });
    expect(r.stderr + r.stdout).toContain('up to date');
    expect(r.status).toBe(0);
  });
});
