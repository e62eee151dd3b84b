/**
 * Loads the optional peer dependency `onnxruntime-node` once per process, synchronously, and
 * reports why when it cannot. seqstream talks to its native binding directly: the binding's `run`
 * is synchronous (the package's public `InferenceSession.run` only wraps it in `setImmediate` and
 * a Promise), so a native step fits the same synchronous `stepInPlace` as the WebAssembly kernel.
 */

/** A tensor as the binding takes and returns it (onnxruntime-common's `Tensor`). */
export interface OrtTensor {
  readonly data: Float32Array;
  readonly dims: readonly number[];
}

/** The binding's session (onnxruntime-node `dist/binding.js`). */
export interface OrtNativeSession {
  loadModel(buffer: ArrayBufferLike, byteOffset: number, byteLength: number, options: Record<string, unknown>): void;
  run(feeds: Record<string, OrtTensor>, fetches: Record<string, OrtTensor | null>, options: Record<string, unknown>): Record<string, OrtTensor>;
  dispose(): void;
  readonly inputMetadata: ReadonlyArray<{ name: string }>;
  readonly outputMetadata: ReadonlyArray<{ name: string }>;
}

/** What seqstream needs from onnxruntime-node. */
export interface OnnxRuntime {
  /** onnxruntime-node's version, from its package.json. */
  readonly version: string;
  /** A new native session (call `loadModel` next). */
  createSession(): OrtNativeSession;
  /** A float32 tensor over `data` (no copy). */
  tensor(data: Float32Array, dims: readonly number[]): OrtTensor;
}

/** Whether onnxruntime-node loaded, and if not, why. */
export interface OnnxRuntimeStatus {
  readonly available: boolean;
  /** Its version when it loaded. */
  readonly version?: string;
  /** Why it did not load (missing package, failed native library, ...). */
  readonly reason?: string;
}

let loaded: OnnxRuntime | null | undefined;
let status: OnnxRuntimeStatus = { available: false, reason: 'not tried yet' };

type Require = (id: string) => unknown;

function nodeRequire(): Require | null {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown; cwd?: () => string } }).process;
  const mod = proc?.getBuiltinModule?.('node:module') as { createRequire?: (from: string) => Require } | undefined;
  if (!mod?.createRequire) return null;
  // Resolve from this file so the package is found next to seqstream, wherever the caller runs from.
  return mod.createRequire(import.meta.url);
}

/**
 * onnxruntime-node, loaded on first call (later calls return the same object), or `null` when it
 * is not installed or its native library fails to load; {@link onnxRuntimeStatus} then says why.
 * Nothing loads it before a caller asks for the native engine.
 *
 * @example
 * ```ts
 * const ort = loadOnnxRuntime();
 * if (!ort) console.warn(onnxRuntimeStatus().reason);
 * ```
 */
export function loadOnnxRuntime(): OnnxRuntime | null {
  if (loaded !== undefined) return loaded;
  loaded = null;
  const req = nodeRequire();
  if (!req) {
    status = { available: false, reason: 'this runtime has no Node module loader' };
    return null;
  }
  try {
    const { binding, initOrt } = req('onnxruntime-node/dist/binding.js') as {
      binding: { InferenceSession: new () => OrtNativeSession };
      initOrt: () => void;
    };
    const { Tensor } = req('onnxruntime-common') as { Tensor: new (type: string, data: Float32Array, dims: readonly number[]) => OrtTensor };
    const { version } = req('onnxruntime-node/package.json') as { version: string };
    initOrt();
    loaded = {
      version,
      createSession: () => new binding.InferenceSession(),
      tensor: (data, dims) => new Tensor('float32', data, dims),
    };
    status = { available: true, version };
  } catch (e) {
    const message = (e as Error)?.message ?? String(e);
    const missing = (e as { code?: string })?.code === 'MODULE_NOT_FOUND' && /onnxruntime-(node|common)/.test(message);
    status = {
      available: false,
      reason: missing ? 'onnxruntime-node is not installed (npm install onnxruntime-node)' : `onnxruntime-node failed to load: ${message.split('\n')[0]}`,
    };
  }
  return loaded;
}

/**
 * Whether onnxruntime-node is usable here (tries to load it).
 *
 * @example
 * ```ts
 * onnxRuntimeStatus(); // { available: true, version: '1.30.0' }
 * ```
 */
export function onnxRuntimeStatus(): OnnxRuntimeStatus {
  loadOnnxRuntime();
  return status;
}
