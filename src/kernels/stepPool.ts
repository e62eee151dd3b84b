import type { MessagePort, Worker, WorkerOptions } from 'node:worker_threads';
import type { RecurrentModel } from '../cells/model.js';
import type { ModelState } from '../cells/types.js';
import { gatesKernelModule, type GatesKernelShape } from './gatesKernel.js';
import { environmentVariable } from './internal/environment.js';
import { workerEntry, workerThreads } from '../workerThreads.js';
import { DONE, ERROR, MODEL, READY, ROWS, SEQ, type StepWorkerData, type StepWorkerMessage } from './stepWorkerProtocol.js';
/** A worker that has not answered one job within this long is given up (its rows run on the caller). */
const JOB_TIMEOUT_MS = 30_000;
/** How far one job moves a worker's share of the rows (it settles where both sides finish together). */
const SHARE_STEP = 0.005;

interface Lane {
  readonly worker: Worker;
  readonly ctl: Int32Array;
  readonly port: MessagePort;
  data: Float32Array;
  seq: number;
  dead: boolean;
  /** Fraction of a split batch this worker takes, nudged after each job toward equal finish times. */
  share: number;
  /** model id -> model.version last shipped to this worker. */
  readonly shipped: Map<number, number>;
}

/**
 * One batch to split: the model, its kernel shape and module, its row count, and how rows reach a
 * worker. A worker's rows travel as one block of floats: `n * inputSize` inputs, then per layer
 * `n * hiddenSize` of `h` (and, for LSTM, `n * hiddenSize` of `c`), rows unpadded and in batch
 * order. `pack` writes batch rows `[r0, r0 + n)` in that layout, `unpack` reads the stepped state
 * back (its input part is left as it was). See {@link modelStateRows} for rows held in a `ModelState`.
 *
 * @example
 * ```ts
 * const job: SplitJob = { model, shape: gatesKernelShapeOf(model), module, batch: n, pack: copyRowsOut, unpack: copyRowsIn };
 * stepSplit(job, 2, (r0, rows) => stepOwnRows(r0, rows));
 * ```
 */
export interface SplitJob {
  readonly model: RecurrentModel;
  readonly shape: GatesKernelShape;
  readonly module: WebAssembly.Module;
  /** Rows in the batch. */
  readonly batch: number;
  pack(r0: number, n: number, block: Float32Array): void;
  unpack(r0: number, n: number, block: Float32Array): void;
}

/**
 * `pack`/`unpack` of a {@link SplitJob} whose rows are those of `state`, with inputs `x`.
 *
 * @example
 * ```ts
 * const job = { model, shape, module, batch: state.batch, ...modelStateRows(model, state, x) };
 * ```
 */
export function modelStateRows(model: RecurrentModel, state: ModelState, x: ArrayLike<number>): Pick<SplitJob, 'pack' | 'unpack'> {
  const { inputSize: I, hiddenSize: H } = model.config;
  const L = state.h.length;
  const stride = state.c ? 2 : 1;
  return {
    pack(r0, n, d) {
      if (ArrayBuffer.isView(x)) d.set((x as Float32Array).subarray(r0 * I, (r0 + n) * I), 0);
      else for (let i = 0, s = r0 * I; i < n * I; i++) d[i] = x[s + i];
      for (let i = 0; i < L; i++) {
        const at = n * I + i * stride * n * H;
        d.set(state.h[i].subarray(r0 * H, (r0 + n) * H), at);
        if (state.c) d.set(state.c[i].subarray(r0 * H, (r0 + n) * H), at + n * H);
      }
    },
    unpack(r0, n, d) {
      for (let i = 0; i < L; i++) {
        const at = n * I + i * stride * n * H;
        state.h[i].set(d.subarray(at, at + n * H), r0 * H);
        if (state.c) state.c[i].set(d.subarray(at + n * H, at + 2 * n * H), r0 * H);
      }
    },
  };
}

/** `rows` rows starting at `r0` of a batch, stepped by the caller's own kernel. */
export type StepRows = (r0: number, rows: number) => void;

let lanes: Lane[] | null | undefined;
let splitBatches = 0;
let workerRows = 0;
let nextModelId = 1;
const modelIds = new WeakMap<RecurrentModel, number>();
const dropped =
  typeof FinalizationRegistry === 'function'
    ? new FinalizationRegistry<number>((id) => {
        for (const lane of lanes ?? []) {
          if (lane.dead) continue;
          lane.shipped.delete(id);
          post(lane, { type: 'drop', id });
        }
      })
    : null;

function post(lane: Lane, message: StepWorkerMessage, transfer: ArrayBuffer[] = []): void {
  lane.port.postMessage(message, transfer);
}

/**
 * How many threads step one large batch: `SEQSTREAM_THREADS` (1 = the caller's thread only, up to 8),
 * default 2 when the machine has at least 2 cores and Node can start worker threads, else 1.
 *
 * @example
 * ```ts
 * process.env.SEQSTREAM_THREADS = '1'; // before creating steppers: never split a batch
 * stepThreads(); // 1
 * ```
 */
export function stepThreads(): number {
  const raw = environmentVariable('SEQSTREAM_THREADS');
  if (raw !== undefined && raw !== '') {
    const n = Number(raw);
    return Number.isInteger(n) && n >= 1 ? Math.min(n, 8) : 1;
  }
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const os = proc?.getBuiltinModule?.('node:os') as { availableParallelism?: () => number } | undefined;
  const cores = os?.availableParallelism?.() ?? 1;
  return cores >= 2 && workerThreads() ? 2 : 1;
}

/** Starts the process-wide workers once (`threads - 1` of them); `null` when none can start. */
function pool(threads: number, module: WebAssembly.Module): Lane[] | null {
  if (threads < 2) return null;
  if (lanes !== undefined) return lanes;
  const bits = workerThreads();
  if (!bits || typeof SharedArrayBuffer !== 'function') {
    lanes = null;
    return lanes;
  }
  const started: Lane[] = [];
  try {
    const entry = workerEntry(import.meta.url, 'stepWorker');
    for (let i = 1; i < threads; i++) {
      const ctl = new Int32Array(new SharedArrayBuffer(8 * 4));
      const { port1, port2 } = new bits.MessageChannel();
      const workerData: StepWorkerData = { module, ctl: ctl.buffer as SharedArrayBuffer, port: port2 };
      const options: WorkerOptions = { workerData, transferList: [port2], stdout: false, stderr: false, eval: entry.eval };
      const worker = new bits.Worker(entry.entry, options);
      worker.unref();
      port1.unref();
      const lane: Lane = { worker, ctl, port: port1, data: new Float32Array(0), seq: 0, dead: false, share: 1 / threads, shipped: new Map() };
      worker.on('error', () => {
        lane.dead = true;
      });
      worker.on('exit', () => {
        lane.dead = true;
      });
      started.push(lane);
    }
  } catch {
    for (const lane of started) void lane.worker.terminate();
    lanes = null;
    return lanes;
  }
  lanes = started;
  return lanes;
}

function modelId(model: RecurrentModel): number {
  let id = modelIds.get(model);
  if (id === undefined) {
    id = nextModelId++;
    modelIds.set(model, id);
    dropped?.register(model, id);
  }
  return id;
}

function ship(lane: Lane, job: SplitJob, id: number): void {
  const { model } = job;
  if (lane.shipped.get(id) === model.version) return;
  const layers = model.layers.map((l) => ({
    weightIh: l.weightIh.slice(),
    weightHh: l.weightHh.slice(),
    biasIh: l.biasIh.slice(),
    biasHh: l.biasHh.slice(),
  }));
  const transfer = layers.flatMap((l) => [l.weightIh.buffer, l.weightHh.buffer, l.biasIh.buffer, l.biasHh.buffer]);
  post(lane, { type: 'model', id, shape: job.shape, layers }, transfer);
  lane.shipped.set(id, model.version);
}

/** Writes rows [r0, r0+n) of x, h and c into the lane's shared buffer and wakes its worker. */
function submit(lane: Lane, job: SplitJob, r0: number, n: number): void {
  const { model } = job;
  const { inputSize: I, hiddenSize: H } = model.config;
  const L = job.shape.layerInputs.length;
  const stride = job.shape.hasCellState ? 2 : 1;
  const need = n * I + L * stride * n * H;
  if (lane.data.length < need) {
    const buffer = new SharedArrayBuffer(Math.max(need, lane.data.length * 2) * 4);
    lane.data = new Float32Array(buffer);
    post(lane, { type: 'buffer', buffer });
  }
  const id = modelId(model);
  ship(lane, job, id);
  job.pack(r0, n, lane.data);
  Atomics.store(lane.ctl, MODEL, id);
  Atomics.store(lane.ctl, ROWS, n);
  lane.seq = (lane.seq + 1) | 0;
  Atomics.store(lane.ctl, SEQ, lane.seq);
  Atomics.notify(lane.ctl, SEQ);
}

/** Waits for the lane's job and copies its rows back (`job.unpack`); false when the worker failed. */
function collect(lane: Lane, job: SplitJob, r0: number, n: number): boolean {
  const { ctl } = lane;
  const deadline = performance.now() + JOB_TIMEOUT_MS;
  for (;;) {
    const done = Atomics.load(ctl, DONE);
    if (done === lane.seq) break;
    const left = deadline - performance.now();
    if (left <= 0 || lane.dead) {
      retire(lane);
      return false;
    }
    Atomics.wait(ctl, DONE, done, Math.min(left, 1000));
  }
  if (Atomics.load(ctl, ERROR) !== 0) {
    retire(lane);
    return false;
  }
  job.unpack(r0, n, lane.data);
  return true;
}

function retire(lane: Lane): void {
  lane.dead = true;
  void lane.worker.terminate();
}

/**
 * Steps one batch on `threads` threads: the caller's kernel takes the first rows (`stepRows`), each
 * ready worker of the process-wide pool a contiguous share of the rest, with its own instance of the
 * same kernel; the caller then waits (`Atomics.wait`) and copies the workers' rows back. Returns
 * false, having stepped nothing, when no worker is ready (still starting, or none can start): the
 * caller then steps the whole batch itself. A worker that fails has its rows stepped by the caller.
 * Bit-identical to one thread because the kernel's result for a row never depends on its batch.
 *
 * @example
 * ```ts
 * const job = { model, shape: gatesKernelShapeOf(model), module: gatesKernelModule()!, batch: state.batch, ...modelStateRows(model, state, x) };
 * if (!stepSplit(job, 2, (r0, n) => kernel.stepRows(x, state.h, state.c, r0, n))) kernel.stepRows(x, state.h, state.c, 0, state.batch);
 * ```
 */
export function stepSplit(job: SplitJob, threads: number, stepRows: StepRows): boolean {
  const all = pool(threads, job.module);
  if (!all) return false;
  const ready: Lane[] = [];
  for (const lane of all) if (!lane.dead && Atomics.load(lane.ctl, READY) === 1) ready.push(lane);
  if (ready.length === 0) return false;
  const B = job.batch;
  const counts = ready.map((lane) => Math.floor(B * lane.share));
  const own = B - counts.reduce((a, b) => a + b, 0);
  if (own <= 0 || counts.some((n) => n === 0)) return false;
  const starts: number[] = [];
  let r0 = own;
  ready.forEach((lane, j) => {
    starts.push(r0);
    submit(lane, job, r0, counts[j]);
    r0 += counts[j];
  });
  splitBatches++;
  try {
    stepRows(0, own);
  } finally {
    ready.forEach((lane, j) => {
      // The caller's copies in and out are serial work the workers do not have: balance finish times.
      const early = Atomics.load(lane.ctl, DONE) === lane.seq;
      lane.share = Math.min(0.75 / ready.length, Math.max(0.25 / ready.length, lane.share + (early ? SHARE_STEP : -SHARE_STEP)));
      if (collect(lane, job, starts[j], counts[j])) workerRows += counts[j];
      else stepRows(starts[j], counts[j]);
    });
  }
  return true;
}

/**
 * Stops the process-wide step workers (they never keep the process alive; this is for tests and
 * embedders that want them gone now). The next large step starts new ones.
 *
 * @example
 * ```ts
 * await shutdownStepPool();
 * ```
 */
export async function shutdownStepPool(): Promise<void> {
  const current = lanes;
  lanes = undefined;
  if (!current) return;
  await Promise.all(current.map((lane) => lane.worker.terminate()));
}

/** What the process-wide step pool has done so far (see {@link stepPoolStats}). */
export interface StepPoolStats {
  /** Worker threads running (0 before the first large batch, or when none can start). */
  readonly workers: number;
  /** Batches split across threads. */
  readonly splitBatches: number;
  /** Rows stepped by worker threads. */
  readonly workerRows: number;
}

/**
 * Counters of the process-wide step pool, to check that large batches really use the workers.
 *
 * @example
 * ```ts
 * stepper.stepInPlace(model.createState(1024), x);
 * stepPoolStats().workerRows; // > 0 once the worker is up
 * ```
 */
export function stepPoolStats(): StepPoolStats {
  return { workers: (lanes ?? []).filter((l) => !l.dead).length, splitBatches, workerRows };
}

/**
 * Starts the process-wide step workers now (normally they start on the first large batch and take
 * over rows once running, ~20 ms later) and resolves when they are ready: `true` when at least one
 * worker runs, `false` when this runtime cannot start any (then every batch runs on the caller).
 *
 * @example
 * ```ts
 * await startStepPool(); // before a benchmark, so the first batches are split too
 * ```
 */
export async function startStepPool(threads: number = stepThreads()): Promise<boolean> {
  const module = gatesKernelModule();
  if (!module) return false;
  const all = pool(threads, module);
  if (!all) return false;
  const deadline = performance.now() + 10_000;
  while (performance.now() < deadline) {
    const live = all.filter((l) => !l.dead);
    if (live.length === 0) return false;
    if (live.every((l) => Atomics.load(l.ctl, READY) === 1)) return true;
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  return false;
}
