import type { EvictionReason } from './keyTable.js';

/**
 * Counters and sizes of a keyed table, see `KeyedRecurrentControl.stats`.
 *
 * @example
 * ```ts
 * const { keys, events, engine } = control.stats();
 * ```
 */
export interface KeyedStats {
  /** Keys held now. */
  keys: number;
  /** Rows allocated in the state slab (grows by 1.5x up to `maxKeys`). */
  capacity: number;
  /** Bytes of hidden state per key (`(1 or 2) * numLayers * hiddenSize * 4`). */
  stateBytesPerKey: number;
  /** Bytes held by the slab (key rows plus the maxBatch-row batch area) and the per-row bookkeeping arrays (excludes the key Map). */
  slabBytes: number;
  /** Events stepped. */
  events: number;
  /** Calls to the fused stepper (sub-batches). */
  steps: number;
  /** Events rejected as bad input. */
  rejected: number;
  /** Keys evicted, by reason. */
  evicted: Record<EvictionReason, number>;
  /** With `profile: true`: milliseconds stepping sub-batches (kernel, head, copying the new top rows out), and in whole flushes. */
  stepMs: number;
  flushMs: number;
  /** Bytes of the WebAssembly memory the rows live in (with the kernel's weights and batch areas; 0 with plain-array state): outside `process.memoryUsage().arrayBuffers`. */
  kernelMemoryBytes: number;
  /** Engine of the last sub-batch: `'wasm-simd'` (state in kernel memory, stepped by index), `'onnxruntime'`, or with plain-array state `'js'`/`'wasm-simd'`/`'wasm-simd+onnxruntime'`. */
  engine: string;
}


/**
 * The running counters behind {@link KeyedStats} that every stepping path books into, and the
 * checkpoint offset: the largest `offset` of the events stepped (NaN while none carried one).
 *
 * @example
 * ```ts
 * const progress: KeyedProgress = { events: 0, steps: 0, stepMs: 0, flushMs: 0, offset: Number.NaN };
 * ```
 */
export interface KeyedProgress {
  events: number;
  steps: number;
  stepMs: number;
  flushMs: number;
  offset: number;
}
