import { ModelFormatError } from '../errors.js';
import { RecurrentModel, type NestedNumbers } from './model.js';
import type { CellKind, HeadActivation } from './types.js';

/** A PyTorch-style state dict: parameter name to nested arrays, or `{ data, shape }`. */
export type StateDict = Record<string, NestedNumbers | { data: ArrayLike<number>; shape: readonly number[] }>;

/** Options of {@link loadStateDict}: what the weights' shapes cannot tell. */
export interface LoadStateDictOptions {
  /** For a one-gate (RNN) dict: `'tanh'` (default, PyTorch's default) or `'relu'`. */
  nonlinearity?: 'tanh' | 'relu';
  /** Head activation when the dict has `head.weight`. Default `'identity'`. */
  headActivation?: HeadActivation;
  /** Cell kind, when you want it checked instead of inferred. */
  cell?: CellKind;
}


/**
 * Builds a model from a PyTorch `state_dict` (as JSON or parsed safetensors). The cell kind, sizes,
 * depth and head are read off the names and shapes (`weight_ih_l{k}`, `head.weight`, ...). A common
 * module prefix such as `lstm.` or `rnn.` is stripped, and the one `nn.Linear` after it (`head.*`, `fc.*`, ...)
 * becomes the head. Bidirectional (`_reverse`) weights, unknown
 * names, and inconsistent shapes are rejected with `ModelFormatError`.
 *
 * @example
 * ```ts
 * import { loadStateDict } from 'seqstream/cells';
 * const model = loadStateDict(JSON.parse(fs.readFileSync('weights.json', 'utf8')), { headActivation: 'sigmoid' });
 * ```
 */
export function loadStateDict(dict: StateDict, options: LoadStateDictOptions = {}): RecurrentModel {
  if (!dict || typeof dict !== 'object') throw new ModelFormatError('SEQ_MODEL_FORMAT', 'A state dict must be an object of named tensors', {});
  const params: StateDict = {};
  const heads = new Map<string, string[]>();
  for (const [rawName, value] of Object.entries(dict)) {
    if (/_reverse$/.test(rawName)) {
      throw new ModelFormatError('SEQ_PARAM_UNKNOWN', `Bidirectional weights ('${rawName}') are not supported: a live stream only runs forward`, { name: rawName });
    }
    const layer = /(?:^|\.)((?:weight|bias)_(?:ih|hh)_l\d+)$/.exec(rawName);
    const linear = /^(?:(.*)\.)?(weight|bias)$/.exec(rawName);
    if (layer) params[layer[1]] = value;
    else if (linear) {
      // The one nn.Linear after the recurrent module (named `head`, `fc`, `linear`, ...) is the head.
      const module = linear[1] ?? '';
      heads.set(module, [...(heads.get(module) ?? []), rawName]);
      params[`head.${linear[2]}`] = value;
    } else params[rawName] = value;
  }
  if (heads.size > 1) {
    throw new ModelFormatError('SEQ_PARAM_UNKNOWN', `More than one output layer in the state dict (${[...heads.values()].flat().join(', ')}): seqstream models have one head`, {});
  }
  const shape = (name: string): number[] => {
    const v = params[name];
    if (v === undefined) throw new ModelFormatError('SEQ_PARAM_MISSING', `State dict has no '${name}'`, { name });
    if (typeof v === 'object' && !Array.isArray(v) && 'shape' in v) return [...v.shape];
    const s: number[] = [];
    let cur: NestedNumbers = v as NestedNumbers;
    while (Array.isArray(cur)) {
      s.push(cur.length);
      cur = cur[0] as NestedNumbers;
    }
    return s;
  };
  const [rows, inputSize] = shape('weight_ih_l0');
  const [, hiddenSize] = shape('weight_hh_l0');
  if (!hiddenSize || !inputSize) throw new ModelFormatError('SEQ_PARAM_SHAPE', "'weight_ih_l0' and 'weight_hh_l0' must be matrices", {});
  const gates = rows / hiddenSize;
  let cell: CellKind;
  if (gates === 4) cell = 'lstm';
  else if (gates === 3) cell = 'gru';
  else if (gates === 1) cell = options.nonlinearity === 'relu' ? 'rnn_relu' : 'rnn_tanh';
  else throw new ModelFormatError('SEQ_PARAM_SHAPE', `'weight_ih_l0' has ${rows} rows for hidden size ${hiddenSize}: not 1, 3 or 4 gate blocks`, { rows, hiddenSize });
  if (options.cell && options.cell !== cell) {
    throw new ModelFormatError('SEQ_PARAM_SHAPE', `Weights describe a '${cell}' cell, expected '${options.cell}'`, { cell, expected: options.cell });
  }
  let numLayers = 0;
  while (params[`weight_ih_l${numLayers}`] !== undefined) numLayers++;
  const head = params['head.weight'] !== undefined ? { outputSize: shape('head.weight')[0], activation: options.headActivation ?? 'identity' } : null;
  return RecurrentModel.fromParameters({ cell, inputSize, hiddenSize, numLayers, head }, params);
}
