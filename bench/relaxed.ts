/**
 * The relaxed-SIMD build of the step kernel (fused multiply-add) against the SIMD128 build, same
 * run, same kernel wrapper (`GatesKernel`), interleaved rounds, best of each: batch-1 p50 latency
 * and events/s at 1,024 rows, LSTM and GRU, I=40, H=32 and 128, one thread. On Node 20 this turns
 * on V8's `--experimental-wasm-relaxed-simd` in-process first (Node 22+ has it by default); the
 * process keeps the kernel variant it already chose, so other benches in `bench/run.ts` are not
 * affected.
 *
 *   npx tsx bench/relaxed.ts [--quick]
 */
import { setFlagsFromString } from 'node:v8';
import { fileURLToPath } from 'node:url';
import { RecurrentModel, seededRandom } from '../src/cells/index.js';
import { GatesKernel } from '../src/kernels/gatesKernel.js';
import { gatesKernelBase64 } from '../src/kernels/gatesKernel.wasm.js';
import { gatesKernelRelaxedBase64 } from '../src/kernels/gatesKernelRelaxed.wasm.js';
import { gatesKernelShapeOf } from '../src/kernels/wasmStepper.js';
import { printTable } from './stats.js';

function compile(base64: string): WebAssembly.Module | null {
  try {
    return new WebAssembly.Module(Buffer.from(base64, 'base64'));
  } catch {
    return null;
  }
}

/** Best ms per step over `rounds` slices of `steps` steps. */
function msPerStep(kernel: GatesKernel, model: RecurrentModel, batch: number, x: Float32Array, steps: number): number {
  const state = model.createState(batch);
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) kernel.stepRows(x, state.h, state.c, 0, batch);
  return (performance.now() - t0) / steps;
}

/** Runs the comparison and prints its table. */
export async function run(options: { quick?: boolean } = {}): Promise<void> {
  setFlagsFromString('--experimental-wasm-relaxed-simd');
  const simd = compile(gatesKernelBase64);
  const relaxed = compile(gatesKernelRelaxedBase64);
  if (!simd || !relaxed) {
    console.log(`relaxed-SIMD bench skipped: ${!simd ? 'no WebAssembly SIMD128' : 'this runtime cannot compile relaxed SIMD'}`);
    return;
  }
  const rounds = options.quick ? 5 : 15;
  const rows: Array<Array<string | number>> = [];
  for (const cell of ['lstm', 'gru'] as const) {
    for (const H of [32, 128]) {
      const model = RecurrentModel.create({ cell, inputSize: 40, hiddenSize: H, seed: 1 });
      const rnd = seededRandom(3);
      const kernels = [simd, relaxed].map((m) => {
        const k = new GatesKernel(m, gatesKernelShapeOf(model));
        k.setWeights(model.layers);
        return k;
      });
      const best = { one: [Infinity, Infinity], big: [Infinity, Infinity] };
      const x1 = Float32Array.from({ length: 40 }, () => rnd() * 2 - 1);
      const xb = Float32Array.from({ length: 1024 * 40 }, () => rnd() * 2 - 1);
      for (let r = 0; r < rounds; r++) {
        // Interleaved, so a busy spell of the machine hits both builds alike.
        kernels.forEach((k, i) => {
          best.one[i] = Math.min(best.one[i], msPerStep(k, model, 1, x1, 2000));
          best.big[i] = Math.min(best.big[i], msPerStep(k, model, 1024, xb, H === 32 ? 20 : 5));
        });
      }
      rows.push([
        cell,
        H,
        (best.one[0] * 1000).toFixed(2),
        (best.one[1] * 1000).toFixed(2),
        (best.one[0] / best.one[1]).toFixed(2) + 'x',
        Math.round(1024 / (best.big[0] / 1000)),
        Math.round(1024 / (best.big[1] / 1000)),
        (best.big[0] / best.big[1]).toFixed(2) + 'x',
      ]);
    }
  }
  console.log('Relaxed-SIMD (fused multiply-add) vs SIMD128 step kernel, I=40, one thread, same run (best of interleaved rounds):');
  printTable(['cell', 'H', 'batch-1 simd µs', 'batch-1 relaxed µs', 'relaxed speed-up', '1024 rows simd ev/s', '1024 rows relaxed ev/s', 'relaxed speed-up'], rows);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await run({ quick: process.argv.includes('--quick') });
}
