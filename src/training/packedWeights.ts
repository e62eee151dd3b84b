import type { RecurrentModel } from '../cells/model.js';
import type { Float64Allocator } from '../kernels/trainKernel.js';

/**
 * Float64 copies of a model's weights laid out for the training loops: per layer the row
 * `[W_ih[r] | W_hh[r]]` (length `I + H`, so a gate pre-activation is one contiguous dot product
 * with `[x | h]`), its transpose (for the backward products `W_ihᵀ dg` and `W_hhᵀ dg`), the two
 * bias vectors, and the head. Rebuilt by {@link refreshPackedWeights} when `model.version`
 * changes (once per update), never per step.
 */
export interface PackedWeights {
  version: number;
  readonly layers: ReadonlyArray<{ readonly I: number; readonly wcat: Float64Array; readonly wcatT: Float64Array; readonly bIh: Float64Array; readonly bHh: Float64Array }>;
  readonly headW: Float64Array;
  readonly headWT: Float64Array;
  readonly headB: Float64Array;
}

/**
 * Allocates {@link PackedWeights} for `model` with `alloc` (default plain arrays) and fills them.
 *
 * @example
 * ```ts
 * const packed = createPackedWeights(model);
 * refreshPackedWeights(model, packed); // no-op until the model's version changes
 * ```
 */
export function createPackedWeights(
  model: RecurrentModel,
  alloc: Float64Allocator = (n) => new Float64Array(n),
  /** Transpose buffers to use instead of allocating them (shared by engines that redo them with `transposePackedWeights` before each backward pass). */
  transposes?: { readonly wcatT: readonly Float64Array[]; readonly headWT: Float64Array },
): PackedWeights {
  const G = model.cellDefinition.gates;
  const H = model.config.hiddenSize;
  const O = model.head ? model.head.outputSize : 0;
  const packed: PackedWeights = {
    version: -1,
    layers: model.layers.map((l, i) => ({
      I: l.inputSize,
      wcat: alloc(G * H * (l.inputSize + H)),
      wcatT: transposes ? transposes.wcatT[i] : alloc(G * H * (l.inputSize + H)),
      bIh: alloc(G * H),
      bHh: alloc(G * H),
    })),
    headW: alloc(O * H),
    headWT: transposes ? transposes.headWT : alloc(O * H),
    headB: alloc(O),
  };
  refreshPackedWeights(model, packed);
  return packed;
}

/**
 * Refreshes `packed` from the model's live float32 parameters if the model changed since.
 *
 * @example
 * ```ts
 * refreshPackedWeights(model, packed);
 * ```
 */
export function refreshPackedWeights(model: RecurrentModel, packed: PackedWeights): void {
  if (packed.version === model.version) return;
  const G = model.cellDefinition.gates;
  model.layers.forEach((layer, l) => {
    const { inputSize: I, hiddenSize: H } = layer;
    const GH = G * H;
    const C = I + H;
    const p = packed.layers[l];
    // Locals: property loads inside the loops would be repeated on every element.
    const wih = layer.weightIh;
    const whh = layer.weightHh;
    const wcat = p.wcat;
    for (let r = 0; r < GH; r++) {
      const ro = r * C;
      for (let k = 0; k < I; k++) wcat[ro + k] = wih[r * I + k];
      for (let k = 0; k < H; k++) wcat[ro + I + k] = whh[r * H + k];
      p.bIh[r] = layer.biasIh[r];
      p.bHh[r] = layer.biasHh[r];
    }
  });
  const head = model.head;
  if (head) {
    const { inputSize: H, outputSize: O } = head;
    for (let o = 0; o < O; o++) {
      packed.headB[o] = head.bias[o];
      for (let k = 0; k < H; k++) packed.headW[o * H + k] = head.weight[o * H + k];
    }
  }
  transposePackedWeights(model, packed);
  packed.version = model.version;
}

/**
 * Fills the transposes (`wcatT`, `headWT`) of `packed` from its rows (`wcat`, `headW`): the part
 * of {@link refreshPackedWeights} that engines sharing one transpose buffer redo before a backward pass.
 *
 * @example
 * ```ts
 * transposePackedWeights(model, packed);
 * ```
 */
export function transposePackedWeights(model: RecurrentModel, packed: PackedWeights): void {
  const G = model.cellDefinition.gates;
  model.layers.forEach((layer, l) => {
    const { inputSize: I, hiddenSize: H } = layer;
    const GH = G * H;
    const C = I + H;
    const p = packed.layers[l];
    const wcat = p.wcat;
    const wcatT = p.wcatT;
    // Transpose in 16x16 tiles: a plain column walk strides G*H*8 bytes per write and thrashes the cache.
    for (let r0 = 0; r0 < GH; r0 += 16) {
      const r1 = Math.min(GH, r0 + 16);
      for (let k0 = 0; k0 < C; k0 += 16) {
        const k1 = Math.min(C, k0 + 16);
        for (let k = k0; k < k1; k++) {
          const to = k * GH;
          for (let r = r0; r < r1; r++) wcatT[to + r] = wcat[r * C + k];
        }
      }
    }
  });
  const head = model.head;
  if (head) {
    const { inputSize: H, outputSize: O } = head;
    for (let o = 0; o < O; o++) for (let k = 0; k < H; k++) packed.headWT[k * O + o] = packed.headW[o * H + k];
  }
}
