import type { MessagePort } from 'node:worker_threads';
import type { GatesKernelShape, GatesKernelWeights } from './gatesKernel.js';

/**
 * How `stepPool.ts` and `stepWorker.ts` talk. `ctl` is an Int32Array over a SharedArrayBuffer,
 * indexed by the constants below: the main thread writes MODEL and ROWS, bumps SEQ and notifies;
 * the worker steps, writes ERROR, stores SEQ into DONE and notifies. Model weights, drops and the
 * shared data buffer arrive as {@link StepWorkerMessage}s on `port`, read synchronously with
 * `receiveMessageOnPort` right after each wake-up (the main thread posts before it notifies).
 * Data buffer (float32, unpadded rows): x [rows*I], then per layer h [rows*H] and, for LSTM, c [rows*H].
 *
 * @example
 * ```ts
 * Atomics.store(ctl, ROWS, n);
 * Atomics.store(ctl, SEQ, ++seq);
 * Atomics.notify(ctl, SEQ);
 * ```
 */
export const SEQ = 0;
/** Last job finished (the worker stores SEQ here and notifies); see {@link SEQ}. */
export const DONE = 1;
/** Model id of the job; see {@link SEQ}. */
export const MODEL = 2;
/** Rows of the job (negative: stop); see {@link SEQ}. */
export const ROWS = 3;
/** 1 when the job threw; see {@link SEQ}. */
export const ERROR = 4;
/** 1 once the worker runs its loop; see {@link SEQ}. */
export const READY = 5;

/** `workerData` of a step worker. */
export interface StepWorkerData {
  readonly module: WebAssembly.Module;
  readonly ctl: SharedArrayBuffer;
  readonly port: MessagePort;
}

/** Messages on a step worker's port. */
export type StepWorkerMessage =
  | { readonly type: 'model'; readonly id: number; readonly shape: GatesKernelShape; readonly layers: readonly GatesKernelWeights[] }
  | { readonly type: 'drop'; readonly id: number }
  | { readonly type: 'buffer'; readonly buffer: SharedArrayBuffer };
