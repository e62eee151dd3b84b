import type { RecurrentModel } from '../cells/model.js';
import type { ForwardFixture, N3 } from './forwardFixture.js';
import type { FusedStepper } from '../kernels/fusedStepperType.js';
import { createOnnxStepper } from '../kernels/onnxEngine.js';
import { createWasmStepper } from '../kernels/wasmStepper.js';

/** What this check reads of a forward or chunk fixture. */
export type KernelFixture = Pick<ForwardFixture, 'x' | 'h0' | 'c0' | 'output' | 'h_n' | 'c_n' | 'y' | 'chunks'>;

/** Where comparisons go (`Comparison` of verifyForward.ts). */
export interface KernelComparison {
  check(label: string, got: unknown, ref: unknown): void;
}

/** The step kernels present here: the WebAssembly kernel and, when installed, onnxruntime-node. */
function kernels(model: RecurrentModel): FusedStepper[] {
  return [createWasmStepper(model), createOnnxStepper(model)].filter((s): s is FusedStepper => s !== null);
}

/**
 * Steps a fixture's whole batch (every row at once, from its `h0`/`c0`) through each step kernel
 * present (WebAssembly SIMD; onnxruntime-node when installed), and for chunk fixtures chunk after
 * chunk with the state carried over; compares every step with the reference. Returns the names
 * checked, e.g. `['kernels:wasm-simd', 'kernels:onnxruntime']`.
 *
 * @example
 * ```ts
 * const names = checkStepKernels(model, fixture, new Comparison(DEFAULT_TOLERANCE));
 * ```
 */
export function checkStepKernels(model: RecurrentModel, fx: KernelFixture, cmp: KernelComparison): string[] {
  const { inputSize: I, hiddenSize: H, numLayers: L } = model.config;
  const B = fx.x.length;
  const O = model.head?.outputSize ?? 0;
  const checked: string[] = [];
  for (const stepper of kernels(model)) {
    const state = model.createState(B);
    for (let k = 0; k < L; k++) {
      state.h[k].set(fx.h0[k].flat());
      if (state.c && fx.c0) state.c[k].set(fx.c0[k].flat());
    }
    const x = new Float32Array(B * I);
    const y = new Float32Array(B * O);
    const run = (label: string, xs: N3, output: N3, hN: N3, cN: N3 | undefined, ys: N3 | undefined): void => {
      const T = xs[0]?.length ?? 0;
      const got: number[][][] = Array.from({ length: B }, () => []);
      const gotY: number[][][] = Array.from({ length: B }, () => []);
      for (let t = 0; t < T; t++) {
        for (let b = 0; b < B; b++) x.set(xs[b][t], b * I);
        const top = stepper.stepInPlace(state, x);
        if (ys) stepper.headInPlace(state, y);
        for (let b = 0; b < B; b++) {
          got[b].push(Array.from(top.subarray(b * H, (b + 1) * H)));
          if (ys) gotY[b].push(Array.from(y.subarray(b * O, (b + 1) * O)));
        }
      }
      cmp.check(`${label} output`, got, output);
      if (ys) cmp.check(`${label} y`, gotY, ys);
      cmp.check(`${label} h_n`, state.h.map((a) => Array.from(a)), hN.map((l) => l.flat()));
      if (cN && state.c) cmp.check(`${label} c_n`, state.c.map((a) => Array.from(a)), cN.map((l) => l.flat()));
    };
    const name = `kernels:${stepper.kind}`;
    if (fx.chunks) fx.chunks.forEach((c, j) => run(`${name} chunk ${j}`, c.x, c.output, c.h_n, c.c_n, undefined));
    else run(name, fx.x, fx.output, fx.h_n, fx.c_n, fx.y);
    checked.push(name);
  }
  return checked;
}
