import { describe, InvalidInputError, InvalidOptionError, ModelFormatError } from '../errors.js';
import { nest, type NestedNumbers, type Parameter } from '../cells/model.js';
import { seededRandom } from '../cells/random.js';
import type { StateDict } from '../cells/stateDict.js';

/** Options of {@link Embedding.create}. */
export interface EmbeddingOptions {
  /** Number of rows (vocabulary size). */
  numEmbeddings: number;
  /** Length of each vector. */
  embeddingDim: number;
  /** Row kept at zero, as PyTorch's `padding_idx` (negative counts from the end). Default none. */
  paddingIdx?: number | null;
  /** Seed of the `N(0, 1)` initialisation (PyTorch's default for `nn.Embedding`). Default `Math.random`. */
  seed?: number;
}

/** Options of {@link Embedding.fromStateDict} and {@link Embedding.split}. */
export interface EmbeddingLoadOptions {
  /** State dict entry holding the `[numEmbeddings, embeddingDim]` weight. Default `'embedding.weight'`. */
  name?: string;
  /** PyTorch `padding_idx` of the module (the state dict does not record it). Default none. */
  paddingIdx?: number | null;
}

/** Serialised embedding, see {@link Embedding.toJSON}. */
export interface EmbeddingJSON {
  format: 'seqstream-embedding';
  version: 1;
  numEmbeddings: number;
  embeddingDim: number;
  paddingIdx: number | null;
  /** `[numEmbeddings][embeddingDim]`, as PyTorch's `weight.tolist()`. */
  weight: NestedNumbers;
}

const FORMAT = 'seqstream-embedding';

/**
 * A lookup table from token ids to vectors with PyTorch `nn.Embedding`'s layout: `weight` is
 * `[numEmbeddings, embeddingDim]` row-major float32, row `i` is the vector of id `i`, and the
 * `paddingIdx` row (if any) starts at zero. An id that is not an integer in
 * `[0, numEmbeddings)` throws `InvalidInputError` with code `SEQ_EMBEDDING_INDEX`.
 * (`max_norm` and `sparse` are training-time features of PyTorch and are not supported.)
 *
 * @example
 * ```ts
 * import { Embedding, CharTokenizer } from 'seqstream/text';
 * import { RecurrentModel } from 'seqstream/cells';
 * const tok = CharTokenizer.fromText('abc', { padToken: '<pad>' });
 * const emb = Embedding.create({ numEmbeddings: tok.vocabSize, embeddingDim: 4, paddingIdx: 0, seed: 1 });
 * const gru = RecurrentModel.create({ cell: 'gru', inputSize: 4, hiddenSize: 8, seed: 1 });
 * const state = gru.createState();
 * for (const id of tok.encode('cab')) gru.step(state, emb.lookup(id));
 * // From PyTorch: const { embedding, rest } = Embedding.split(stateDict); const model = loadStateDict(rest);
 * ```
 */
export class Embedding {
  readonly numEmbeddings: number;
  readonly embeddingDim: number;
  /** Normalised to `[0, numEmbeddings)`, or `null`. */
  readonly paddingIdx: number | null;
  /** Live `[numEmbeddings * embeddingDim]` float32 weights. */
  readonly weight: Float32Array;

  private constructor(numEmbeddings: number, embeddingDim: number, paddingIdx: number | null, weight: Float32Array) {
    this.numEmbeddings = numEmbeddings;
    this.embeddingDim = embeddingDim;
    this.paddingIdx = paddingIdx;
    this.weight = weight;
  }

  /** A new table initialised like PyTorch: `N(0, 1)` entries, the padding row zero. */
  static create(options: EmbeddingOptions): Embedding {
    const { numEmbeddings, embeddingDim } = options;
    checkSizes(numEmbeddings, embeddingDim);
    const paddingIdx = normalisePadding(options.paddingIdx, numEmbeddings);
    if (options.seed !== undefined && !Number.isInteger(options.seed)) throw new InvalidOptionError('seed', 'an integer', options.seed);
    const random = options.seed === undefined ? Math.random : seededRandom(options.seed);
    const weight = new Float32Array(numEmbeddings * embeddingDim);
    // Box-Muller from the uniform generator: the values differ from torch.manual_seed's, the distribution does not.
    for (let i = 0; i < weight.length; i += 2) {
      const u1 = Math.max(random(), Number.MIN_VALUE);
      const u2 = random();
      const r = Math.sqrt(-2 * Math.log(u1));
      weight[i] = r * Math.cos(2 * Math.PI * u2);
      if (i + 1 < weight.length) weight[i + 1] = r * Math.sin(2 * Math.PI * u2);
    }
    if (paddingIdx !== null) weight.fill(0, paddingIdx * embeddingDim, (paddingIdx + 1) * embeddingDim);
    return new Embedding(numEmbeddings, embeddingDim, paddingIdx, weight);
  }

  /**
   * From a weight matrix: nested `[N][D]` arrays (`weight.tolist()`), or `{ data, shape: [N, D] }`
   * (parsed safetensors). The padding row is taken as given, as PyTorch's `from_pretrained` does.
   * A bad shape or value throws `ModelFormatError` (`SEQ_PARAM_SHAPE`, `SEQ_PARAM_VALUE`).
   */
  static fromWeight(weight: NestedNumbers | { data: ArrayLike<number>; shape: readonly number[] }, options: { paddingIdx?: number | null; name?: string } = {}): Embedding {
    const name = options.name ?? 'weight';
    let flat: ArrayLike<unknown>;
    let shape: readonly number[];
    if (weight !== null && typeof weight === 'object' && !Array.isArray(weight) && 'shape' in weight) {
      flat = weight.data;
      shape = weight.shape;
    } else if (Array.isArray(weight) && weight.every((row) => Array.isArray(row))) {
      const rows = weight as NestedNumbers[][];
      const d = rows.length > 0 ? rows[0].length : 0;
      if (rows.some((r) => r.length !== d || r.some((v) => Array.isArray(v)))) {
        throw new ModelFormatError('SEQ_PARAM_SHAPE', `Parameter '${name}' must be a [numEmbeddings, embeddingDim] matrix with rows of equal length`, { name });
      }
      flat = rows.flat();
      shape = [rows.length, d];
    } else {
      throw new ModelFormatError('SEQ_PARAM_SHAPE', `Parameter '${name}' must be a [numEmbeddings, embeddingDim] matrix, received ${describe(weight)}`, { name });
    }
    if (shape.length !== 2 || !(shape[0] > 0) || !(shape[1] > 0) || flat.length !== shape[0] * shape[1]) {
      throw new ModelFormatError('SEQ_PARAM_SHAPE', `Parameter '${name}' has shape [${shape}], expected a non-empty [numEmbeddings, embeddingDim] matrix`, { name, received: [...shape] });
    }
    const data = new Float32Array(flat.length);
    for (let i = 0; i < flat.length; i++) {
      const v = flat[i];
      if (typeof v !== 'number' || !Number.isFinite(v)) {
        throw new ModelFormatError('SEQ_PARAM_VALUE', `Parameter '${name}' has a non-finite or non-numeric value at flat index ${i}`, { name, index: i });
      }
      data[i] = v;
    }
    return new Embedding(shape[0], shape[1], normalisePadding(options.paddingIdx, shape[0]), data);
  }

  /** From the state dict entry `options.name` (default `'embedding.weight'`; a bare `'weight'` is accepted too). */
  static fromStateDict(dict: StateDict, options: EmbeddingLoadOptions = {}): Embedding {
    return Embedding.split(dict, options).embedding;
  }

  /**
   * Takes the embedding out of a whole-model state dict and returns the other entries, ready for
   * `loadStateDict` (which reads the recurrent layers and head, and would reject the extra matrix).
   */
  static split(dict: StateDict, options: EmbeddingLoadOptions = {}): { embedding: Embedding; rest: StateDict } {
    if (!dict || typeof dict !== 'object') throw new ModelFormatError('SEQ_MODEL_FORMAT', 'A state dict must be an object of named tensors', {});
    const requested = options.name ?? 'embedding.weight';
    const name = requested in dict ? requested : options.name === undefined && 'weight' in dict ? 'weight' : null;
    if (name === null) throw new ModelFormatError('SEQ_PARAM_MISSING', `State dict has no '${requested}'`, { name: requested });
    const { [name]: weight, ...rest } = dict;
    return { embedding: Embedding.fromWeight(weight, { paddingIdx: options.paddingIdx, name }), rest };
  }

  /** Loads {@link Embedding.toJSON} output. */
  static fromJSON(json: unknown): Embedding {
    const j = json as Partial<EmbeddingJSON> | null;
    if (!j || typeof j !== 'object' || j.format !== FORMAT) throw new ModelFormatError('SEQ_MODEL_FORMAT', `Not a seqstream embedding: expected format '${FORMAT}'`, {});
    if (j.version !== 1) throw new ModelFormatError('SEQ_MODEL_FORMAT', `Unsupported embedding format version ${String(j.version)} (this build reads 1)`, { version: j.version });
    if (j.weight === undefined) throw new ModelFormatError('SEQ_MODEL_FORMAT', 'Embedding JSON lacks weight', {});
    const e = Embedding.fromWeight(j.weight, { paddingIdx: j.paddingIdx ?? null });
    if (e.numEmbeddings !== j.numEmbeddings || e.embeddingDim !== j.embeddingDim) {
      throw new ModelFormatError('SEQ_PARAM_SHAPE', `Embedding JSON says [${j.numEmbeddings}, ${j.embeddingDim}] but its weight is [${e.numEmbeddings}, ${e.embeddingDim}]`, {});
    }
    return e;
  }

  /** Plain JSON (format `seqstream-embedding`, version 1), weight in state-dict layout. */
  toJSON(): EmbeddingJSON {
    return {
      format: FORMAT,
      version: 1,
      numEmbeddings: this.numEmbeddings,
      embeddingDim: this.embeddingDim,
      paddingIdx: this.paddingIdx,
      weight: nest(this.weight, [this.numEmbeddings, this.embeddingDim]),
    };
  }

  /** The one parameter, PyTorch-named `weight`, with its live data. */
  parameters(): Parameter[] {
    return [{ name: 'weight', shape: [this.numEmbeddings, this.embeddingDim], data: this.weight }];
  }

  /**
   * The vector of `index`, copied into `out` (allocation-free) or a new array. Throws
   * `SEQ_EMBEDDING_INDEX` unless `index` is an integer in `[0, numEmbeddings)` (PyTorch raises
   * "index out of range" there too), and `SEQ_INPUT_SHAPE` if `out` has the wrong length.
   */
  lookup(index: number, out?: Float32Array): Float32Array {
    this.check(index);
    const D = this.embeddingDim;
    const target = out ?? new Float32Array(D);
    if (target.length !== D) {
      throw new InvalidInputError('SEQ_INPUT_SHAPE', `Output 'out' must have shape [${D}], received [${target.length}]`, { expected: [D], received: [target.length] });
    }
    target.set(this.weight.subarray(index * D, (index + 1) * D));
    return target;
  }

  /** Vectors of many ids, `[n][embeddingDim]` (PyTorch `embedding(torch.tensor(indices))`). */
  forward(indices: ArrayLike<number>): Float32Array[] {
    for (let i = 0; i < indices.length; i++) this.check(indices[i]);
    return Array.from(indices, (ix) => this.lookup(ix));
  }

  private check(index: unknown): asserts index is number {
    if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= this.numEmbeddings) {
      throw new InvalidInputError('SEQ_EMBEDDING_INDEX', `Embedding index must be an integer in [0, ${this.numEmbeddings - 1}], received ${describe(index)}`, {
        received: describe(index),
        numEmbeddings: this.numEmbeddings,
      });
    }
  }
}

function checkSizes(n: unknown, d: unknown): void {
  if (!Number.isInteger(n) || (n as number) < 1) throw new InvalidOptionError('numEmbeddings', 'a positive integer', n);
  if (!Number.isInteger(d) || (d as number) < 1) throw new InvalidOptionError('embeddingDim', 'a positive integer', d);
}

function normalisePadding(p: number | null | undefined, n: number): number | null {
  if (p === undefined || p === null) return null;
  if (!Number.isInteger(p) || p < -n || p >= n) throw new InvalidOptionError('paddingIdx', `an integer in [${-n}, ${n - 1}] or null`, p);
  return p < 0 ? n + p : p;
}
