import { InvalidOptionError, ModelFormatError } from '../errors.js';
import type { CellDefinition } from './cellDefinition.js';
import { cellFor } from './cellFor.js';
import { applyHead } from './head.js';
import { seededRandom } from './random.js';
import { createStepScratch, stepLayer, type StepScratch } from './stepLayer.js';
import type { CellKind, HeadActivation, HeadWeights, LayerWeights, ModelState } from './types.js';
import { integerOption } from '../options.js';

/** Shape of a model. */
export interface ModelConfig {
  /** Cell kind. */
  cell: CellKind;
  /** Input vector length. */
  inputSize: number;
  /** Hidden size H of every layer. */
  hiddenSize: number;
  /** Stacked layers; layer k>0 reads layer k-1's `h`. Default 1. */
  numLayers?: number;
  /** Optional output head `y = g(W h + b)` on the top layer's `h`. Default none. */
  head?: { outputSize: number; activation?: HeadActivation } | null;
}

/** A {@link ModelConfig} with every default filled in. */
export interface ResolvedModelConfig {
  cell: CellKind;
  inputSize: number;
  hiddenSize: number;
  numLayers: number;
  head: { outputSize: number; activation: HeadActivation } | null;
}

/** Options of {@link RecurrentModel.create}. */
export interface CreateModelOptions extends ModelConfig {
  /** Seed of PyTorch-style `U(-1/sqrt(H), 1/sqrt(H))` initialisation. Default: `Math.random`. */
  seed?: number;
}

/** A named parameter tensor: PyTorch name, shape and the live float32 data. */
export interface Parameter {
  readonly name: string;
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/** Serialised model, see {@link RecurrentModel.toJSON}. */
export interface ModelJSON {
  format: 'seqstream-model';
  version: 1;
  config: ResolvedModelConfig;
  /** Parameters by PyTorch name, as nested arrays (state-dict layout). */
  params: Record<string, NestedNumbers>;
}

/** A number or nested arrays of numbers, row-major (PyTorch `tolist()`). */
export type NestedNumbers = number | NestedNumbers[];

const MODEL_FORMAT = 'seqstream-model';

/**
 * A stack of recurrent layers plus an optional output head, with PyTorch's parameter names,
 * shapes and math. Parameters live in float32 arrays; every operator that uses the model reads
 * them live, so an update (see {@link RecurrentModel.updateParameters}) is seen at the next step.
 *
 * @example
 * ```ts
 * import { RecurrentModel } from 'seqstream/cells';
 * const model = RecurrentModel.create({ cell: 'lstm', inputSize: 3, hiddenSize: 8, head: { outputSize: 1 }, seed: 7 });
 * const state = model.createState();
 * const y = model.step(state, [0.1, 0.2, 0.3]); // Float32Array(1), state advanced
 * const copy = RecurrentModel.fromJSON(JSON.parse(JSON.stringify(model)));
 * ```
 */
export class RecurrentModel {
  readonly config: Readonly<ResolvedModelConfig>;
  readonly cellDefinition: CellDefinition;
  readonly layers: readonly LayerWeights[];
  readonly head: HeadWeights | null;
  private _version = 0;
  private readonly derivedValues = new Map<symbol, { version: number; value: unknown; free: (value: never) => void }>();
  /** Step scratch, made on the first `step` (a model trained only through a TBPTT engine never needs it). */
  private scratch: StepScratch | null = null;
  private readonly params: Map<string, Parameter>;

  private constructor(config: ResolvedModelConfig, init: (name: string, shape: number[]) => Float32Array) {
    this.config = Object.freeze({ ...config, head: config.head ? Object.freeze({ ...config.head }) : null });
    this.cellDefinition = cellFor(config.cell);
    const G = this.cellDefinition.gates;
    const H = config.hiddenSize;
    this.params = new Map();
    const param = (name: string, shape: number[]): Float32Array => {
      const data = init(name, shape);
      this.params.set(name, { name, shape, data });
      return data;
    };
    const layers: LayerWeights[] = [];
    for (let k = 0; k < config.numLayers; k++) {
      const I = k === 0 ? config.inputSize : H;
      layers.push({
        inputSize: I,
        hiddenSize: H,
        weightIh: param(`weight_ih_l${k}`, [G * H, I]),
        weightHh: param(`weight_hh_l${k}`, [G * H, H]),
        biasIh: param(`bias_ih_l${k}`, [G * H]),
        biasHh: param(`bias_hh_l${k}`, [G * H]),
      });
    }
    this.layers = layers;
    this.head = config.head
      ? {
          inputSize: H,
          outputSize: config.head.outputSize,
          activation: config.head.activation,
          weight: param('head.weight', [config.head.outputSize, H]),
          bias: param('head.bias', [config.head.outputSize]),
        }
      : null;
  }

  /** Creates a model with PyTorch's default initialisation, `U(-1/sqrt(H), 1/sqrt(H))` for every parameter. */
  static create(options: CreateModelOptions): RecurrentModel {
    const config = resolveConfig(options);
    if (options.seed !== undefined && !Number.isInteger(options.seed)) {
      throw new InvalidOptionError('seed', 'an integer', options.seed);
    }
    const random = options.seed === undefined ? Math.random : seededRandom(options.seed);
    const bound = 1 / Math.sqrt(config.hiddenSize);
    // Every parameter is a view into one Float32Array: one backing store per model, not one per parameter.
    const H = config.hiddenSize;
    const GH = cellFor(config.cell).gates * H;
    let total = config.head ? config.head.outputSize * (H + 1) : 0;
    for (let k = 0; k < config.numLayers; k++) total += GH * ((k === 0 ? config.inputSize : H) + H + 2);
    const slab = new Float32Array(total);
    let next = 0;
    return new RecurrentModel(config, (_name, shape) => {
      const data = slab.subarray(next, (next += shape.reduce((a, b) => a * b, 1)));
      for (let i = 0; i < data.length; i++) data[i] = (random() * 2 - 1) * bound;
      return data;
    });
  }

  /**
   * Builds a model from PyTorch-named parameters (`weight_ih_l0`, ..., `head.weight`), given as nested
   * arrays, flat arrays or `{ data, shape }`. Shapes must match `config` exactly; unknown or missing
   * names are errors.
   */
  static fromParameters(
    config: ModelConfig,
    params: Record<string, NestedNumbers | Float32Array | { data: ArrayLike<number>; shape: readonly number[] }>,
  ): RecurrentModel {
    const resolved = resolveConfig(config);
    const used = new Set<string>();
    const model = new RecurrentModel(resolved, (name, shape) => {
      const value = params[name];
      if (value === undefined) {
        throw new ModelFormatError('SEQ_PARAM_MISSING', `Parameter '${name}' is missing (expected shape [${shape}])`, { name, shape });
      }
      used.add(name);
      return toFloat32(name, value, shape);
    });
    const unknown = Object.keys(params).filter((n) => !used.has(n));
    if (unknown.length > 0) {
      throw new ModelFormatError('SEQ_PARAM_UNKNOWN', `Unknown parameter(s) ${unknown.map((n) => `'${n}'`).join(', ')} for a ${resolved.cell} model with ${resolved.numLayers} layer(s)${resolved.head ? ' and a head' : ''}`, { unknown });
    }
    return model;
  }

  /** Loads {@link RecurrentModel.toJSON} output. */
  static fromJSON(json: unknown): RecurrentModel {
    const j = json as Partial<ModelJSON> | null;
    if (!j || typeof j !== 'object' || j.format !== MODEL_FORMAT) {
      throw new ModelFormatError('SEQ_MODEL_FORMAT', `Not a seqstream model: expected format '${MODEL_FORMAT}'`, {});
    }
    if (j.version !== 1) {
      throw new ModelFormatError('SEQ_MODEL_FORMAT', `Unsupported model format version ${String(j.version)} (this build reads 1)`, { version: j.version });
    }
    if (!j.config || !j.params) throw new ModelFormatError('SEQ_MODEL_FORMAT', 'Model JSON lacks config or params', {});
    return RecurrentModel.fromParameters(j.config, j.params);
  }

  /** Plain JSON (format `seqstream-model`, version 1): config plus parameters in state-dict layout. */
  toJSON(): ModelJSON {
    const params: Record<string, NestedNumbers> = {};
    for (const p of this.params.values()) params[p.name] = nest(p.data, p.shape);
    return { format: MODEL_FORMAT, version: 1, config: { ...this.config, head: this.config.head ? { ...this.config.head } : null }, params };
  }

  /** Number of times the parameters changed; operators use it to refresh derived copies. */
  get version(): number {
    return this._version;
  }

  /** All parameters in PyTorch order (`weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0, ..., head.weight, head.bias`). */
  parameters(): Parameter[] {
    return [...this.params.values()];
  }

  /** One parameter by PyTorch name. */
  parameter(name: string): Parameter {
    const p = this.params.get(name);
    if (!p) throw new ModelFormatError('SEQ_PARAM_UNKNOWN', `No parameter '${name}'`, { name });
    return p;
  }

  /**
   * Changes parameters in place inside `update`, then publishes them as one new version. JavaScript
   * runs a step to its end before anything else, so other operators never see a half-applied update.
   */
  updateParameters(update: (params: ReadonlyMap<string, Parameter>) => void): void {
    update(this.params);
    this._version++;
  }

  /** A zero state for `batch` rows. */
  createState(batch = 1): ModelState {
    const { numLayers, hiddenSize } = this.config;
    const h = Array.from({ length: numLayers }, () => new Float32Array(batch * hiddenSize));
    const c = this.cellDefinition.hasCellState ? Array.from({ length: numLayers }, () => new Float32Array(batch * hiddenSize)) : null;
    return { batch, h, c };
  }

  /**
   * Fused step of every layer for all `state.batch` rows, in place. `x` holds `batch * inputSize`
   * values. Returns the top layer's `h` (the live state array: copy it to keep it).
   */
  stepInPlace(state: ModelState, x: ArrayLike<number>): Float32Array {
    const cell = this.cellDefinition;
    let input: ArrayLike<number> = x;
    for (let k = 0; k < this.layers.length; k++) {
      this.scratch ??= createStepScratch(cell.gates * this.config.hiddenSize);
      stepLayer(cell, this.layers[k], input, 0, state.h[k], state.c ? state.c[k] : null, state.batch, this.scratch);
      input = state.h[k];
    }
    return state.h[this.layers.length - 1];
  }

  /** Head output for the top layer's `h` of every row, into `y` (`batch * outputSize`). */
  headInPlace(state: ModelState, y: Float32Array): Float32Array {
    if (!this.head) throw new InvalidOptionError('head', 'configured on the model to compute head outputs', null);
    applyHead(this.head, state.h[this.layers.length - 1], 0, y, 0, state.batch);
    return y;
  }

  /**
   * One step for a single stream: advances `state` (batch 1) and returns a fresh copy of the head
   * output, or of the top layer's `h` when there is no head.
   */
  step(state: ModelState, x: ArrayLike<number>): Float32Array {
    const h = this.stepInPlace(state, x);
    return this.head ? this.headInPlace(state, new Float32Array(this.head.outputSize * state.batch)) : h.slice();
  }

  /**
   * A value derived from the parameters (a packed or tensor copy of the weights), owned by the
   * model: `build` runs on first use and again after each {@link updateParameters}; `free` releases
   * the old value when it is rebuilt and on {@link dispose}. `key` names the kind of value. The
   * tfjs bridge (`modelTensors` in `seqstream/tensors`) keeps its weight tensors here, so many
   * streams share one copy and this room never imports TensorFlow.js.
   *
   * @example
   * ```ts
   * const KEY = Symbol('rowSums');
   * const sums = model.derived(KEY, (m) => m.layers.map((l) => l.biasIh.reduce((a, b) => a + b, 0)), () => {});
   * ```
   */
  derived<T>(key: symbol, build: (model: RecurrentModel) => T, free: (value: T) => void): T {
    const held = this.derivedValues.get(key);
    if (held && held.version === this._version) return held.value as T;
    if (held) {
      this.derivedValues.delete(key);
      held.free(held.value as never);
    }
    const value = build(this);
    this.derivedValues.set(key, { version: this._version, value, free: free as (value: never) => void });
    return value;
  }

  /** Frees every derived value (e.g. tfjs copies of the weights); the float32 parameters stay usable. */
  dispose(): void {
    const held = [...this.derivedValues.values()];
    this.derivedValues.clear();
    for (const d of held) d.free(d.value as never);
  }
}

const CELLS: readonly CellKind[] = ['rnn_tanh', 'rnn_relu', 'lstm', 'gru'];
const ACTIVATIONS: readonly HeadActivation[] = ['identity', 'sigmoid', 'softmax'];

/** Validates a {@link ModelConfig} and fills in defaults. */
export function resolveConfig(config: ModelConfig): ResolvedModelConfig {
  if (!config || typeof config !== 'object') throw new InvalidOptionError('config', 'an object', config);
  if (!CELLS.includes(config.cell)) throw new InvalidOptionError('cell', `one of ${CELLS.join(', ')}`, config.cell);
  const head = config.head ?? null;
  if (head !== null) {
    integerOption('head.outputSize', head.outputSize, undefined, 1);
    if (head.activation !== undefined && !ACTIVATIONS.includes(head.activation)) {
      throw new InvalidOptionError('head.activation', `one of ${ACTIVATIONS.join(', ')}`, head.activation);
    }
  }
  return {
    cell: config.cell,
    inputSize: integerOption('inputSize', config.inputSize, undefined, 1),
    hiddenSize: integerOption('hiddenSize', config.hiddenSize, undefined, 1),
    numLayers: config.numLayers === undefined ? 1 : integerOption('numLayers', config.numLayers, undefined, 1),
    head: head ? { outputSize: head.outputSize, activation: head.activation ?? 'identity' } : null,
  };
}

/** Shape of nested arrays, or null when they are ragged (rows of different lengths or depths). */
function shapeOf(value: NestedNumbers): number[] | null {
  const shape: number[] = [];
  let v: NestedNumbers = value;
  while (Array.isArray(v)) {
    shape.push(v.length);
    v = v[0] as NestedNumbers;
  }
  const rectangular = (node: NestedNumbers, dim: number): boolean => {
    if (dim === shape.length) return !Array.isArray(node);
    if (!Array.isArray(node) || node.length !== shape[dim]) return false;
    for (const child of node) if (!rectangular(child, dim + 1)) return false;
    return true;
  };
  return rectangular(value, 0) ? shape : null;
}

function toFloat32(
  name: string,
  value: NestedNumbers | Float32Array | { data: ArrayLike<number>; shape: readonly number[] },
  shape: number[],
): Float32Array {
  const size = shape.reduce((a, b) => a * b, 1);
  let flat: ArrayLike<number>;
  let got: readonly number[];
  if (value instanceof Float32Array) {
    flat = value;
    got = [value.length];
  } else if (typeof value === 'object' && value !== null && !Array.isArray(value) && 'data' in value) {
    flat = value.data;
    got = value.shape;
  } else {
    const nested = shapeOf(value as NestedNumbers);
    if (!nested) {
      throw new ModelFormatError('SEQ_PARAM_SHAPE', `Parameter '${name}' is ragged: its rows differ in length (expected a rectangular [${shape}])`, { name, expected: shape, ragged: true });
    }
    got = nested;
    flat = (Array.isArray(value) ? (value as unknown[]).flat(Infinity) : [value]) as number[];
  }
  const sameShape = got.length === shape.length && got.every((d, i) => d === shape[i]);
  const flatOk = got.length === 1 && got[0] === size && flat.length === size;
  if ((!sameShape && !flatOk) || flat.length !== size) {
    throw new ModelFormatError('SEQ_PARAM_SHAPE', `Parameter '${name}' has shape [${got}], expected [${shape}]`, { name, expected: shape, received: got });
  }
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    const v = flat[i];
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new ModelFormatError('SEQ_PARAM_VALUE', `Parameter '${name}' has a non-finite or non-numeric value at flat index ${i}`, { name, index: i });
    }
    out[i] = v;
  }
  return out;
}

/** Flat row-major data to nested arrays of the given shape. */
export function nest(data: ArrayLike<number>, shape: readonly number[]): NestedNumbers {
  if (shape.length === 0) return data[0];
  const build = (offset: number, dim: number): NestedNumbers[] => {
    const n = shape[dim];
    if (dim === shape.length - 1) return Array.from({ length: n }, (_, i) => data[offset + i]);
    const stride = shape.slice(dim + 1).reduce((a, b) => a * b, 1);
    return Array.from({ length: n }, (_, i) => build(offset + i * stride, dim + 1));
  };
  return build(0, 0);
}
