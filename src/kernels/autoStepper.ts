import type { RecurrentModel } from '../cells/model.js';
import type { FusedStepper } from './fusedStepperType.js';
import { gatesKernelVariant } from './gatesKernel.js';
import { createOnnxStepper, nativeGraphOf, resolveNativeGraph } from './onnxEngine.js';
import { GATE_GRAPH_MAX_HIDDEN } from './onnxGateGraph.js';
import { onnxRuntimeStatus } from './onnxRuntime.js';
import { stepThreads } from './stepPool.js';
import { environmentVariable, namedSetting } from './internal/environment.js';

/** Step engines a caller can ask for; see {@link resolveEngine}. */
export type StepEngine = 'auto' | 'wasm' | 'native' | 'js';

const ENGINES: readonly StepEngine[] = ['auto', 'wasm', 'native', 'js'];

/**
 * Smallest batch work (rows x multiply-adds per row through every layer) that `'auto'` hands to the
 * native engine. Measured on a shared 2-core machine (LSTM I=40, 2 threads): onnxruntime passes
 * the WebAssembly kernel at ~64-128 rows for H=32 (0.6-1.2M multiply-adds) and ~16 rows for H=128
 * (1.4M). With 1M: H=32 from 109 rows, H=128 from 12 rows; batch 1 always stays on WebAssembly
 * (its latency there is ~5x lower).
 *
 * @example
 * ```ts
 * const goesNative = batch * rowWork(model) >= NATIVE_MIN_WORK;
 * ```
 */
export const NATIVE_MIN_WORK = 1_000_000;

/**
 * Multiply-adds one row costs through every layer of `model` (the head excluded).
 *
 * @example
 * ```ts
 * rowWork(RecurrentModel.create({ cell: 'lstm', inputSize: 40, hiddenSize: 32 })); // 9216
 * ```
 */
export function rowWork(model: RecurrentModel): number {
  const G = model.cellDefinition.gates;
  return model.layers.reduce((sum, l) => sum + G * l.hiddenSize * (l.inputSize + l.hiddenSize), 0);
}

/**
 * The engine to use: `requested` if given, else the `SEQSTREAM_ENGINE` environment variable, else
 * `'auto'`; `SEQSTREAM_KERNEL=js` (older switch) still means `'js'`. An unknown name throws
 * `SEQ_INVALID_OPTION`.
 *
 * @example
 * ```ts
 * resolveEngine(undefined); // 'auto' unless SEQSTREAM_ENGINE says otherwise
 * ```
 */
export function resolveEngine(requested: StepEngine | undefined): StepEngine {
  // SEQSTREAM_KERNEL=js (the older switch) still means the JavaScript loops when no engine is named.
  return namedSetting(requested, 'engine', 'SEQSTREAM_ENGINE', ENGINES, environmentVariable('SEQSTREAM_KERNEL') === 'js' ? 'js' : 'auto');
}

/**
 * A stepper that runs batches under {@link NATIVE_MIN_WORK} on `small` (the WebAssembly kernel)
 * and larger ones on onnxruntime-node, loaded on the first large batch. When onnxruntime-node is
 * missing or fails to load, every batch stays on `small`. `kind` is `small.kind` until the first
 * native batch, then `'<small>+onnxruntime'`.
 *
 * @example
 * ```ts
 * const stepper = createAutoStepper(model, createWasmStepper(model)!);
 * stepper.stepInPlace(model.createState(1024), x); // onnxruntime, when installed
 * ```
 */
export function createAutoStepper(model: RecurrentModel, small: FusedStepper, threads = stepThreads()): FusedStepper {
  const minRows = Math.max(2, Math.ceil(NATIVE_MIN_WORK / rowWork(model)));
  // Read SEQSTREAM_NATIVE_GRAPH now: a bad value fails here, not at the first large batch.
  const graph = nativeGraphOf(model);
  let native: FusedStepper | null | undefined;
  const stepper = {
    kind: small.kind,
    stepInPlace(state: Parameters<FusedStepper['stepInPlace']>[0], x: ArrayLike<number>): Float32Array {
      if (state.batch >= minRows) {
        if (native === undefined) {
          native = createOnnxStepper(model, { threads, graph });
          if (native) stepper.kind = `${small.kind}+onnxruntime`;
        }
        if (native) return native.stepInPlace(state, x);
      }
      return small.stepInPlace(state, x);
    },
    headInPlace: small.headInPlace,
  };
  return stepper;
}

/**
 * One line saying which step engines run here, for `seqstream backend` and `seqstream verify`, e.g.
 * `step engine: auto (wasm-simd below 1M multiply-adds per batch, onnxruntime-node 1.30.0 (LSTM
 * graph: gate math on one thread up to H=32, LSTM op above) from there, 2 thread(s))`.
 *
 * @example
 * ```ts
 * console.error(describeStepEngine(gatesKernelModule() !== null));
 * ```
 */
export function describeStepEngine(wasmAvailable: boolean, engine: StepEngine = resolveEngine(undefined)): string {
  const small = wasmAvailable ? (gatesKernelVariant() === 'relaxed-simd' ? 'wasm-simd (relaxed-SIMD build: fused multiply-add)' : 'wasm-simd') : 'js';
  const ort = onnxRuntimeStatus();
  const threads = stepThreads();
  const nativeText = ort.available ? `onnxruntime-node ${ort.version} (${nativeGraphText()})` : `no native engine: ${ort.reason}`;
  switch (engine) {
    case 'js':
      return 'step engine: js (forced: JavaScript float loops)';
    case 'wasm':
      return `step engine: ${small} (forced; ${threads} thread(s))`;
    case 'native':
      return ort.available ? `step engine: native (forced: ${nativeText} for every batch, ${threads} thread(s))` : `step engine: native requested but ${ort.reason}`;
    default:
      return ort.available
        ? `step engine: auto (${small} below ${NATIVE_MIN_WORK / 1e6}M multiply-adds per batch, ${nativeText} from there, ${threads} thread(s))`
        : `step engine: auto (${small} for every batch; ${nativeText})`;
  }
}

/** What the native graph setting makes of LSTM models (see `NativeGraph`), for {@link describeStepEngine}. */
function nativeGraphText(): string {
  switch (resolveNativeGraph()) {
    case 'op':
      return 'LSTM graph: LSTM op, forced';
    case 'gates':
      return 'LSTM graph: gate math on one thread, forced';
    default:
      return `LSTM graph: gate math on one thread up to H=${GATE_GRAPH_MAX_HIDDEN}, LSTM op above`;
  }
}
