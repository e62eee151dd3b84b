import type { CellDefinition } from './cellDefinition.js';
import type { LayerWeights } from './types.js';

/**
 * Scratch buffers for the fused float path, sized for one layer width.
 * Allocate once per operator with {@link createStepScratch}; the step allocates nothing.
 */
export interface StepScratch {
  gi: Float64Array;
  gh: Float64Array;
}

/**
 * Scratch big enough for every layer of a model whose widest gate block is `gateRows` (G*H).
 *
 * @example
 * ```ts
 * const scratch = createStepScratch(4 * 32);
 * ```
 */
export function createStepScratch(gateRows: number): StepScratch {
  return { gi: new Float64Array(gateRows), gh: new Float64Array(gateRows) };
}

/**
 * One fused step of one layer for `batch` rows, in place: reads row b of `x` (at `xOffset + b*I`),
 * overwrites row b of `h` (and `c`) with the new state. One pass over the weights per row,
 * accumulating in float64, no allocation.
 *
 * @example
 * ```ts
 * stepLayer(lstm, model.layers[0], x, 0, state.h[0], state.c![0], 1, createStepScratch(4 * H));
 * ```
 */
export function stepLayer(
  cell: CellDefinition,
  layer: LayerWeights,
  x: ArrayLike<number>,
  xOffset: number,
  h: Float32Array,
  c: Float32Array | null,
  batch: number,
  scratch: StepScratch,
): void {
  const I = layer.inputSize;
  const H = layer.hiddenSize;
  const rows = cell.gates * H;
  const { weightIh, weightHh, biasIh, biasHh } = layer;
  const { gi, gh } = scratch;
  for (let b = 0; b < batch; b++) {
    const xo = xOffset + b * I;
    const ho = b * H;
    for (let r = 0; r < rows; r++) {
      let si = biasIh[r];
      let o = r * I;
      for (let k = 0; k < I; k++) si += weightIh[o + k] * x[xo + k];
      let sh = biasHh[r];
      o = r * H;
      for (let k = 0; k < H; k++) sh += weightHh[o + k] * h[ho + k];
      gi[r] = si;
      gh[r] = sh;
    }
    cell.combine(gi, gh, h, c, ho, H);
  }
}
