import type { RecurrentModel } from '../cells/model.js';
import type { ModelState } from '../cells/types.js';
import { SeqstreamError } from '../errors.js';
import { integerOption } from '../options.js';
import type { FusedStepper } from './fusedStepperType.js';
import { namedSetting } from './internal/environment.js';
import { freshTop } from './internal/freshOutput.js';
import { GATE_GRAPH_MAX_HIDDEN, lstmGateGraph } from './onnxGateGraph.js';
import { stepGraph, stepGraphNames } from './onnxGraph.js';
import { loadOnnxRuntime, onnxRuntimeStatus, type OnnxRuntime, type OrtNativeSession, type OrtTensor } from './onnxRuntime.js';
import { stepThreads } from './stepPool.js';

/**
 * Which ONNX graph the native engine steps: `'op'`, onnxruntime's fused `LSTM`/`GRU`/`RNN` op per
 * layer (`stepGraph`); `'gates'`, for LSTM models, matrix products plus elementwise gate math
 * (`lstmGateGraph`), run on one onnxruntime thread; `'auto'`, the gate graph for LSTMs with
 * `hiddenSize` up to `GATE_GRAPH_MAX_HIDDEN` (32), the op otherwise. GRU and RNN models always
 * step the op.
 *
 * @example
 * ```ts
 * const native = createOnnxStepper(lstm, { graph: 'op' }); // or SEQSTREAM_NATIVE_GRAPH=op
 * ```
 */
export type NativeGraph = 'auto' | 'op' | 'gates';

const NATIVE_GRAPHS: readonly NativeGraph[] = ['auto', 'op', 'gates'];

/** Options of {@link createOnnxStepper}. */
export interface OnnxStepperOptions {
  /** onnxruntime's intra-op threads. Default: `stepThreads()` (`SEQSTREAM_THREADS`, else 2 on 2+ cores). */
  readonly threads?: number;
  /**
   * The graph to step (see {@link NativeGraph}). Default: the `SEQSTREAM_NATIVE_GRAPH` environment
   * variable (read when the stepper is created), else `'auto'`.
   */
  readonly graph?: NativeGraph;
}

/**
 * The graph setting in force: `requested` if given, else the `SEQSTREAM_NATIVE_GRAPH` environment
 * variable, else `'auto'`; anything else is `SEQ_INVALID_OPTION` (naming the option or the
 * variable).
 *
 * @example
 * ```ts
 * resolveNativeGraph(undefined); // 'auto' unless SEQSTREAM_NATIVE_GRAPH says otherwise
 * ```
 */
export function resolveNativeGraph(requested?: NativeGraph): NativeGraph {
  return namedSetting(requested, 'graph', 'SEQSTREAM_NATIVE_GRAPH', NATIVE_GRAPHS, 'auto');
}

/**
 * The graph a native stepper of `model` runs: `'gates'` or `'op'` (see {@link NativeGraph};
 * the setting from {@link resolveNativeGraph}).
 *
 * @example
 * ```ts
 * nativeGraphOf(RecurrentModel.create({ cell: 'lstm', inputSize: 40, hiddenSize: 32 })); // 'gates'
 * ```
 */
export function nativeGraphOf(model: RecurrentModel, requested?: NativeGraph): 'op' | 'gates' {
  const graph = resolveNativeGraph(requested);
  if (model.config.cell !== 'lstm' || graph === 'op') return 'op';
  return graph === 'gates' || model.config.hiddenSize <= GATE_GRAPH_MAX_HIDDEN ? 'gates' : 'op';
}

/**
 * One onnxruntime session per (model version, threads, graph): the step graph of the model's
 * current weights, plus output buffers for the largest batch stepped so far.
 */
class OnnxContext {
  private session: OrtNativeSession | null = null;
  private version = -1;
  private capacity = 0;
  private hOut: Float32Array[] = [];
  private cOut: Float32Array[] = [];
  private xBuf = new Float32Array(0);
  private readonly I: number;
  private readonly H: number;
  private readonly hasC: boolean;
  /** Sessions built so far (one per weight version): how often a trainer made the engine rebuild. */
  builds = 0;

  /** Leading dims of every tensor: the op graph's `[1, batch, n]`, the gate graph's `[batch, n]`. */
  private readonly lead: readonly number[];

  constructor(
    private readonly ort: OnnxRuntime,
    private readonly model: RecurrentModel,
    private readonly threads: number,
    private readonly graph: 'op' | 'gates',
  ) {
    this.I = model.config.inputSize;
    this.H = model.config.hiddenSize;
    this.hasC = model.cellDefinition.hasCellState;
    this.lead = graph === 'gates' ? [] : [1];
  }

  private ensureSession(): OrtNativeSession {
    if (this.session && this.version === this.model.version) return this.session;
    this.session?.dispose();
    this.session = null;
    const gates = this.graph === 'gates';
    const bytes = gates ? lstmGateGraph(this.model) : stepGraph(this.model);
    const session = this.ort.createSession();
    try {
      session.loadModel(bytes.buffer, bytes.byteOffset, bytes.byteLength, {
        // The gate graph's elementwise nodes are too small for onnxruntime's thread pool to pay:
        // at H=32 x 1,024 rows it stepped 1.25-1.33x slower on two threads than on one (each alone
        // in a process, four alternating runs; README "Native engine" item 4).
        intraOpNumThreads: gates ? 1 : this.threads,
        interOpNumThreads: 1,
        graphOptimizationLevel: 'all',
        executionProviders: ['cpu'],
      });
    } catch (e) {
      throw new SeqstreamError('SEQ_ENGINE_FAILED', `onnxruntime could not load the step graph of a ${this.model.config.cell} model: ${(e as Error)?.message ?? String(e)}`, { cause: e });
    }
    this.session = session;
    this.version = this.model.version;
    this.builds++;
    return session;
  }

  private ensureCapacity(batch: number): void {
    if (batch <= this.capacity) return;
    const cap = Math.max(batch, this.capacity * 2);
    const L = this.model.layers.length;
    this.hOut = Array.from({ length: L }, () => new Float32Array(cap * this.H));
    this.cOut = this.hasC ? Array.from({ length: L }, () => new Float32Array(cap * this.H)) : [];
    this.xBuf = new Float32Array(cap * this.I);
    this.capacity = cap;
  }

  step(state: ModelState, x: ArrayLike<number>): Float32Array {
    const L = this.model.layers.length;
    if (state.batch === 0) return state.h[L - 1];
    // onnxruntime's RNN rounds a lone row differently (a matrix-vector path): step one row as two
    // so every row comes out the same whatever batch it is in (crash replay stays bit-exact).
    if (state.batch === 1) return this.stepOneRow(state, x);
    return this.stepRows(state, x);
  }

  private pair: ModelState | null = null;
  private pairX = new Float32Array(0);

  private stepOneRow(state: ModelState, x: ArrayLike<number>): Float32Array {
    const { H, I } = this;
    const L = this.model.layers.length;
    if (!this.pair) {
      this.pair = { batch: 2, h: Array.from({ length: L }, () => new Float32Array(2 * H)), c: this.hasC ? Array.from({ length: L }, () => new Float32Array(2 * H)) : null };
      this.pairX = new Float32Array(2 * I);
    }
    const pair = this.pair;
    for (let i = 0; i < I; i++) this.pairX[i] = x[i];
    for (let k = 0; k < L; k++) {
      pair.h[k].set(state.h[k].subarray(0, H));
      if (pair.c && state.c) pair.c[k].set(state.c[k].subarray(0, H));
    }
    this.stepRows(pair, this.pairX);
    for (let k = 0; k < L; k++) {
      state.h[k].set(pair.h[k].subarray(0, H));
      if (pair.c && state.c) state.c[k].set(pair.c[k].subarray(0, H));
    }
    return state.h[L - 1];
  }

  /**
   * Steps `state` (2+ rows) into `out` (same shape; may be `state` itself): onnxruntime reads
   * `state` and writes its outputs straight into `out`'s buffers when `out` is not `state`.
   * Returns the binding's own copy of the new top-layer `h` when it made one that is safe to hand
   * out (see {@link freshTop}), else null.
   */
  stepTo(state: ModelState, x: ArrayLike<number>, out: ModelState): Float32Array | null {
    if (state.batch === 0) return null;
    if (state.batch === 1 || out === state) {
      this.step(state, x);
      if (out !== state) copyState(state, out, this.model.layers.length, this.H);
      return null;
    }
    return this.run(state, x, out.h, out.c);
  }

  private stepRows(state: ModelState, x: ArrayLike<number>): Float32Array {
    const B = state.batch;
    const L = this.model.layers.length;
    this.ensureCapacity(B);
    const n = B * this.H;
    this.run(state, x, this.hOut, this.hasC ? this.cOut : null);
    // Outputs land in our buffers (the graph reads its inputs while it writes, so not in place).
    for (let k = 0; k < L; k++) {
      state.h[k].set(this.hOut[k].subarray(0, n));
      if (this.hasC && state.c) state.c[k].set(this.cOut[k].subarray(0, n));
    }
    return state.h[L - 1];
  }

  /**
   * One `run` of the step graph: inputs from `state` and `x`, outputs into `hOut`/`cOut` (first
   * `batch` rows). Returns {@link freshTop} of what the binding returned.
   */
  private run(state: ModelState, x: ArrayLike<number>, hOut: readonly Float32Array[], cOut: readonly Float32Array[] | null): Float32Array | null {
    const B = state.batch;
    const L = this.model.layers.length;
    const session = this.ensureSession();
    const { I, H, ort } = this;
    const n = stepGraphNames;
    let xs: Float32Array;
    if (x instanceof Float32Array && x.length >= B * I) xs = x.length === B * I ? x : x.subarray(0, B * I);
    else {
      this.ensureCapacity(B);
      xs = this.xBuf.subarray(0, B * I);
      for (let i = 0; i < B * I; i++) xs[i] = x[i];
    }
    const dims = [...this.lead, B, H];
    const feeds: Record<string, OrtTensor> = { [n.x]: ort.tensor(xs, [...this.lead, B, I]) };
    const fetches: Record<string, OrtTensor | null> = {};
    for (let k = 0; k < L; k++) {
      feeds[n.h(k)] = ort.tensor(rows(state.h[k], B * H), dims);
      fetches[n.hOut(k)] = ort.tensor(rows(hOut[k], B * H), dims);
      if (this.hasC && state.c && cOut) {
        feeds[n.c(k)] = ort.tensor(rows(state.c[k], B * H), dims);
        fetches[n.cOut(k)] = ort.tensor(rows(cOut[k], B * H), dims);
      }
    }
    let result: Record<string, OrtTensor>;
    try {
      result = session.run(feeds, fetches, {});
    } catch (e) {
      throw new SeqstreamError('SEQ_ENGINE_FAILED', `onnxruntime failed to step ${B} row(s): ${(e as Error)?.message ?? String(e)}`, { cause: e });
    }
    return freshTop(result?.[n.hOut(L - 1)], B * H, feeds, fetches);
  }

  dispose(): void {
    this.session?.dispose();
    this.session = null;
  }
}

function rows(a: Float32Array, n: number): Float32Array {
  return a.length === n ? a : a.subarray(0, n);
}

function copyState(from: ModelState, to: ModelState, L: number, H: number): void {
  const n = from.batch * H;
  for (let k = 0; k < L; k++) {
    to.h[k].set(from.h[k].subarray(0, n));
    if (from.c && to.c) to.c[k].set(from.c[k].subarray(0, n));
  }
}

/**
 * The native stepper: a {@link FusedStepper} that can also write a step's new state into other buffers.
 *
 * @example
 * ```ts
 * const native = createOnnxStepper(model);
 * native?.stepTo(state, x, next); // onnxruntime writes next.h / next.c; state is unchanged
 * ```
 */
export interface OnnxStepper extends FusedStepper {
  /**
   * Steps `state` and writes the new state into `out` (same batch; onnxruntime writes there
   * directly), leaving `state` as it was unless `out` is `state` or the batch is one row (a lone
   * row is stepped in place as two rows, then copied to `out`). Returns a fresh buffer with the
   * new top-layer `h` (`batch * hiddenSize`, the same numbers as `out`'s) that nothing else holds —
   * the copy onnxruntime-node's binding makes of each output anyway — or null when it made none
   * that is safe to hand out.
   */
  stepTo(state: ModelState, x: ArrayLike<number>, out: ModelState): Float32Array | null;
}

const contexts = new WeakMap<RecurrentModel, Map<string, OnnxContext>>();
const released =
  typeof FinalizationRegistry === 'function' ? new FinalizationRegistry<Map<string, OnnxContext>>((m) => m.forEach((c) => c.dispose())) : null;

/**
 * A {@link FusedStepper} running onnxruntime-node's CPU `LSTM`/`GRU`/`RNN` operators, or for
 * small LSTMs matrix products and gate math (`options.graph`, {@link NativeGraph})
 * (`kind: 'onnxruntime'`; MLAS kernels, AVX2/AVX-512 where the CPU has them), or `null` when
 * onnxruntime-node is not installed or fails to load (see `onnxRuntimeStatus()`). The model's step
 * graph is built in memory from its own weights (see `stepGraph`, `lstmGateGraph`) and rebuilt
 * when `model.version` changes, so a trainer that updates weights every step makes it rebuild
 * every step: keep such models on the WebAssembly kernel. Stepping is synchronous. Results stay within
 * `1e-5 + 1e-4 * |ref|` of PyTorch's float64 references, like every engine.
 *
 * @example
 * ```ts
 * const stepper = createOnnxStepper(model) ?? createFusedStepper(model);
 * stepper.stepInPlace(state1024, x);
 * ```
 */
export function createOnnxStepper(model: RecurrentModel, options: OnnxStepperOptions = {}): OnnxStepper | null {
  const threads = integerOption('threads', options.threads, stepThreads(), 1);
  const graph = nativeGraphOf(model, options.graph);
  const ort = loadOnnxRuntime();
  if (!ort) return null;
  let byThreads = contexts.get(model);
  if (!byThreads) {
    byThreads = new Map();
    contexts.set(model, byThreads);
    released?.register(model, byThreads);
  }
  // The gate graph always runs on one thread, so its contexts are shared whatever was asked for.
  const key = graph === 'gates' ? 'gates' : `op:${threads}`;
  let ctx = byThreads.get(key);
  if (!ctx) {
    ctx = new OnnxContext(ort, model, threads, graph);
    byThreads.set(key, ctx);
  }
  const context = ctx;
  return {
    kind: 'onnxruntime',
    stepInPlace: (state, x) => context.step(state, x),
    stepTo: (state, x, out) => context.stepTo(state, x, out),
    headInPlace: (state, y) => model.headInPlace(state, y),
  };
}

/**
 * Like {@link createOnnxStepper} but throws `SEQ_ENGINE_UNAVAILABLE` (with the reason) instead of
 * returning `null`: for callers that asked for the native engine explicitly.
 *
 * @example
 * ```ts
 * const native = requireOnnxStepper(model); // throws on a machine without onnxruntime-node
 * ```
 */
export function requireOnnxStepper(model: RecurrentModel, options: OnnxStepperOptions = {}): FusedStepper {
  const s = createOnnxStepper(model, options);
  if (s) return s;
  throw new SeqstreamError('SEQ_ENGINE_UNAVAILABLE', `The native engine was asked for but ${onnxRuntimeStatus().reason}`, { engine: 'native' });
}
