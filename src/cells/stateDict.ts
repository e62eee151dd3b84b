import { ModelFormatError } from '../errors.js';
import { RecurrentModel, type NestedNumbers } from './model.js';
import { parseSafetensors, safetensorsMetadata } from './safetensors.js';
import type { CellKind, HeadActivation } from './types.js';

const HEAD_ACTIVATIONS: readonly string[] = ['identity', 'sigmoid', 'softmax'];

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
 * becomes the head. Bidirectional (`_reverse`) weights, unknown names, inconsistent shapes and
 * ragged (non-rectangular) matrices are rejected with `ModelFormatError`.
 *
 * The JSON that `tools/export_torch.py` writes (`{ config, params, ... }`) is accepted as it is:
 * its `params` are the state dict and its `config` says the cell and head activation. An option
 * that contradicts the file is an error (`SEQ_MODEL_FORMAT`), never silently preferred.
 *
 * @example
 * ```ts
 * import { loadStateDict } from 'seqstream/cells';
 * const model = loadStateDict(JSON.parse(fs.readFileSync('weights.json', 'utf8')), { headActivation: 'sigmoid' });
 * const same = loadStateDict(JSON.parse(fs.readFileSync('export_torch_output.json', 'utf8')));
 * ```
 */
export function loadStateDict(dict: StateDict, options: LoadStateDictOptions = {}): RecurrentModel {
  if (!dict || typeof dict !== 'object') throw new ModelFormatError('SEQ_MODEL_FORMAT', 'A state dict must be an object of named tensors', {});
  const exported = dict as { params?: unknown; config?: { cell?: unknown; head_activation?: unknown } };
  if (exported.params && typeof exported.params === 'object' && !Array.isArray(exported.params) && !('weight_ih_l0' in dict)) {
    const config = exported.config && typeof exported.config === 'object' ? exported.config : {};
    return loadStateDict(exported.params as StateDict, declaredOptions({ cell: config.cell, head_activation: config.head_activation }, options, 'export_torch.py JSON config'));
  }
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

/**
 * Builds a model from `.safetensors` bytes: {@link parseSafetensors} for the weights, and the
 * file's `__metadata__` (`cell`, `nonlinearity`, `head_activation`, as `tools/export_torch.py`
 * writes them) for what the weights cannot say, so a sigmoid head stays a sigmoid head. `options`
 * fill in what the metadata does not say; one that contradicts it throws `SEQ_MODEL_FORMAT`.
 *
 * @example
 * ```ts
 * import { loadSafetensors } from 'seqstream/cells';
 * const model = loadSafetensors(fs.readFileSync('model.safetensors'));
 * ```
 */
export function loadSafetensors(bytes: Uint8Array, options: LoadStateDictOptions = {}): RecurrentModel {
  const tensors = parseSafetensors(bytes);
  return loadStateDict(tensors, declaredOptions(safetensorsMetadata(bytes), options, 'safetensors __metadata__'));
}

/** Merges what a file declares (`cell`, `nonlinearity`, `head_activation`) with the caller's options; a contradiction throws. */
function declaredOptions(declared: Record<string, unknown>, options: LoadStateDictOptions, where: string): LoadStateDictOptions {
  const out: LoadStateDictOptions = { ...options };
  const settle = <T extends string>(name: keyof LoadStateDictOptions, value: unknown, allowed: readonly string[]): void => {
    if (value === undefined || value === null) return;
    if (typeof value !== 'string' || !allowed.includes(value)) {
      throw new ModelFormatError('SEQ_MODEL_FORMAT', `${where} has ${name} ${JSON.stringify(value)}, expected one of ${allowed.join(', ')}`, { [name]: value });
    }
    const given = options[name];
    if (given !== undefined && given !== value) {
      throw new ModelFormatError('SEQ_MODEL_FORMAT', `Option ${name} '${given}' contradicts the ${where}, which says '${value}'`, { option: name, given, declared: value });
    }
    (out as Record<string, unknown>)[name] = value as T;
  };
  const cell = declared.cell;
  settle('cell', cell, ['rnn_tanh', 'rnn_relu', 'lstm', 'gru']);
  settle('nonlinearity', declared.nonlinearity ?? (cell === 'rnn_relu' ? 'relu' : cell === 'rnn_tanh' ? 'tanh' : undefined), ['tanh', 'relu']);
  settle('headActivation', declared.head_activation, HEAD_ACTIVATIONS);
  return out;
}
