import type { RecurrentModel } from '../cells/model.js';
import type { Float64Allocator } from '../kernels/trainKernel.js';

/**
 * Per-step activations of a model recorded during a forward pass, in `capacity` slots (used as
 * a ring by the online learner), for `batch` rows. Everything backpropagation through time needs
 * is here, in float64: layer inputs, the state before and after each step, gate activations, and
 * the head's pre-activation `z` and output `y`. Allocated once; recording allocates nothing.
 *
 * Layouts, per layer `l`, slot `s`, row `b` (H = hidden size, G = gates, I_l = layer input):
 * `xh[l][(s*B + b)*(I_l + H) + k]` holds the layer's input (`k < I_l`) followed by the state
 * before the step (`h_prev`, `k >= I_l`), so a pre-activation is one dot product;
 * `hNew[l][(s*B + b)*H + j]`,
 * `act[l][(s*B + b)*G*H + g*H + j]` (LSTM i,f,g,o; GRU r,z,n; unused for RNN),
 * `cPrev/cNew/tanhC` (LSTM), `ghn` (GRU: `W_hn h + b_hn`), `z/y/target[(s*B + b)*O + o]`.
 */
export interface ActivationTape {
  readonly capacity: number;
  readonly batch: number;
  readonly inputSize: number;
  readonly hiddenSize: number;
  readonly gates: number;
  /** Head output size, or H when the model has no head (then `y = z = hNew` of the top layer). */
  readonly outputSize: number;
  /** Per layer: `[input | h_prev]` rows, see above. */
  readonly xh: Float64Array[];
  readonly hNew: Float64Array[];
  readonly cPrev: Float64Array[] | null;
  readonly cNew: Float64Array[] | null;
  readonly tanhC: Float64Array[] | null;
  readonly act: Float64Array[];
  readonly ghn: Float64Array[] | null;
  readonly z: Float64Array;
  readonly y: Float64Array;
  readonly target: Float64Array;
  /** Scratch for one row's pre-activations (`(G+1)*H`), used by `recordStep`. */
  readonly pre: Float64Array;
  /** 1 when the slot's step has a target. */
  readonly hasTarget: Uint8Array;
  /** `model.version` the slot was computed with. */
  readonly version: Float64Array;
}

/**
 * Allocates an {@link ActivationTape} for `model` with `capacity` steps of `batch` rows, with
 * `alloc` (a training kernel's allocator, default plain arrays).
 *
 * @example
 * ```ts
 * const tape = createActivationTape(model, 32);
 * ```
 */
export function createActivationTape(model: RecurrentModel, capacity: number, batch = 1, alloc: Float64Allocator = (n) => new Float64Array(n)): ActivationTape {
  const { inputSize: I, hiddenSize: H, numLayers: L, cell } = model.config;
  const G = model.cellDefinition.gates;
  const O = model.head ? model.head.outputSize : H;
  const n = capacity * batch;
  const per = (size: number): Float64Array[] => Array.from({ length: L }, () => alloc(n * size));
  const isLstm = cell === 'lstm';
  return {
    capacity,
    batch,
    inputSize: I,
    hiddenSize: H,
    gates: G,
    outputSize: O,
    xh: model.layers.map((l) => alloc(n * (l.inputSize + H))),
    hNew: per(H),
    cPrev: isLstm ? per(H) : null,
    cNew: isLstm ? per(H) : null,
    tanhC: isLstm ? per(H) : null,
    act: cell === 'lstm' || cell === 'gru' ? per(G * H) : per(0),
    ghn: cell === 'gru' ? per(H) : null,
    z: alloc(n * O),
    y: alloc(n * O),
    target: alloc(n * O),
    pre: alloc((G + 1) * H),
    hasTarget: new Uint8Array(capacity),
    version: alloc(capacity),
  };
}
