/**
 * The harness of bench/keyed.ts and bench/keyedNative.ts: contenders (per-event recurrentByKey,
 * recurrentByKeyBatch, groupBy + recurrent per key), the timed rounds, the stepper alone, and
 * environment switches for threads and engine.
 */
import { groupBy, map, mergeMap, Subject } from 'rxjs';
import { createFusedStepper, type FusedStepper } from '../src/kernels/index.js';
import { RecurrentModel } from '../src/cells/index.js';
import { KeyedRecurrentControl, recurrent, recurrentByKey, recurrentByKeyBatch, type KeyedBlock, type KeyedEvent } from '../src/streams/index.js';
import { weightedPercentile } from './stats.js';

export const I = 40;

export interface Result {
  eventsPerSec: number;
  /** Best ~100 ms slice (how bench/ortBaseline.ts measures onnxruntime's op), for ratios against it. */
  bestEventsPerSec: number;
  p50: number;
  p99: number;
  outsideStepShare?: number;
  overheadUsPerEvent?: number;
  /** Process CPU µs per event over the timed run (with 1 thread: the work done, whatever else the machine runs). */
  cpuUsPerEvent: number;
}

/** One contender of {@link measure}: sends round `r` (one event per key), reports each output's row count to `onOut`. */
export interface Contender {
  sendRound(round: number): void;
  stop(): void;
  stepMs(): number;
}
export type Runner = (keys: number, xs: Float32Array[], onOut: (rows: number) => void) => Contender;

/** Round `r`'s events as recurrentByKey events on `input`. */
export const sendEvents = (input: Subject<KeyedEvent<number>>, keys: number, xs: Float32Array[], round: number): void => {
  for (let k = 0; k < keys; k++) input.next({ key: k, x: xs[(k + round) % xs.length] });
};

export const keyedRunner =
  (model: RecurrentModel): Runner =>
  (keys, xs, onOut) => {
    const control = new KeyedRecurrentControl<number>();
    const input = new Subject<KeyedEvent<number>>();
    const sub = input.pipe(recurrentByKey<number>(model, { control, profile: true, maxBatch: 1024, emit: 'hidden' })).subscribe(() => onOut(1));
    return { sendRound: (r) => sendEvents(input, keys, xs, r), stop: () => sub.unsubscribe(), stepMs: () => control.stats().stepMs };
  };

/**
 * recurrentByKeyBatch: each round is one block of `keys` rows holding the same inputs the
 * per-event run sends (8 variants built before the clock starts, as the per-event run's vectors are).
 */
export const batchRunner =
  (model: RecurrentModel): Runner =>
  (keys, xs, onOut) => {
    const ids = Array.from({ length: keys }, (_, k) => k);
    const blocks: KeyedBlock<number>[] = Array.from({ length: 8 }, (_, r) => {
      const x = new Float32Array(keys * I);
      for (let k = 0; k < keys; k++) x.set(xs[(k + r) % xs.length], k * I);
      return { keys: ids, x };
    });
    const control = new KeyedRecurrentControl<number>();
    const input = new Subject<KeyedBlock<number>>();
    const sub = input.pipe(recurrentByKeyBatch<number>(model, { control, profile: true, maxBatch: 1024, emit: 'hidden' })).subscribe((o) => onOut(o.rows));
    return { sendRound: (r) => input.next(blocks[r % blocks.length]), stop: () => sub.unsubscribe(), stepMs: () => control.stats().stepMs };
  };

export const perKeyRunner =
  (model: RecurrentModel): Runner =>
  (keys, xs, onOut) => {
    const input = new Subject<KeyedEvent<number>>();
    const sub = input
      .pipe(
        groupBy((e) => e.key),
        mergeMap((g) => g.pipe(map((e) => e.x), recurrent(model, { emit: 'hidden' }))),
      )
      .subscribe(() => onOut(1));
    return { sendRound: (r) => sendEvents(input, keys, xs, r), stop: () => sub.unsubscribe(), stepMs: () => NaN };
  };

/** Rounds of one event per key until `budgetMs` is spent; returns throughput and latency. */
export async function measure(runner: Runner, keys: number, budgetMs: number, xs: Float32Array[]): Promise<Result> {
  // One latency sample per output, weighted by its rows (a block's rows all waited as long).
  const lat: number[] = [];
  const weight: number[] = [];
  let received = 0;
  // All of a round's events are "there" at its start (a burst of readings): latency counts from
  // then for every contender, so a per-key baseline pays for the keys stepped before this one.
  let roundStart = 0;
  const r = runner(keys, xs, (rows) => {
    lat.push(performance.now() - roundStart);
    weight.push(rows);
    received += rows;
  });
  // Warm-up: a few rounds, not counted.
  for (let w = 0; w < 3; w++) {
    r.sendRound(w);
    await Promise.resolve();
    await new Promise((res) => setImmediate(res));
  }
  lat.length = 0;
  weight.length = 0;
  received = 0;
  const step0 = r.stepMs();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let sentCount = 0;
  let round = 0;
  let sliceStart = t0;
  let sliceReceived = 0;
  let best = 0;
  while (performance.now() - t0 < budgetMs || round < 2) {
    roundStart = performance.now();
    r.sendRound(round);
    sentCount += keys;
    round++;
    // Let the keyed operator flush (microtask), then yield to the loop like real I/O would.
    await Promise.resolve();
    if (round % 8 === 0) await new Promise((res) => setImmediate(res));
    const now = performance.now();
    if (now - sliceStart >= 100) {
      best = Math.max(best, ((received - sliceReceived) / (now - sliceStart)) * 1000);
      sliceStart = now;
      sliceReceived = received;
    }
  }
  await new Promise((res) => setImmediate(res));
  const elapsed = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const stepMs = r.stepMs() - step0;
  r.stop();
  if (received !== sentCount) throw new Error(`lost events: ${received}/${sentCount}`);
  const res: Result = { eventsPerSec: (received / elapsed) * 1000, bestEventsPerSec: Math.max(best, (received / elapsed) * 1000), p50: weightedPercentile(lat, weight, 0.5) * 1000, p99: weightedPercentile(lat, weight, 0.99) * 1000, cpuUsPerEvent: (cpu.user + cpu.system) / received };
  if (!Number.isNaN(stepMs)) {
    res.outsideStepShare = 1 - stepMs / elapsed;
    res.overheadUsPerEvent = ((elapsed - stepMs) / received) * 1000;
  }
  return res;
}

/** The stepper alone on one contiguous batch (no gather/scatter/RxJS): the kernel's ceiling. */
export function kernelOnly(model: RecurrentModel, batch: number, budgetMs: number, xs: Float32Array[]): number {
  return stepperOnly(createFusedStepper(model), model, batch, budgetMs, xs);
}

/** Events/s of `stepper` stepping `batch` rows in place for `budgetMs` (over the whole time, or with `bestSlice` the best ~100 ms slice). */
export function stepperOnly(stepper: FusedStepper, model: RecurrentModel, batch: number, budgetMs: number, xs: Float32Array[], bestSlice = false): number {
  const state = model.createState(batch);
  const x = new Float32Array(batch * I);
  for (let b = 0; b < batch; b++) x.set(xs[b % xs.length], b * I);
  stepper.stepInPlace(state, x);
  let steps = 0;
  let best = 0;
  const t0 = performance.now();
  let sliceStart = t0;
  let sliceSteps = 0;
  while (performance.now() - t0 < budgetMs || steps < 2) {
    stepper.stepInPlace(state, x);
    steps++;
    const now = performance.now();
    if (now - sliceStart >= 100) {
      best = Math.max(best, (((steps - sliceSteps) * batch) / (now - sliceStart)) * 1000);
      sliceStart = now;
      sliceSteps = steps;
    }
  }
  const mean = ((steps * batch) / (performance.now() - t0)) * 1000;
  return bestSlice ? Math.max(best, mean) : mean;
}

/** Runs `fn` with an environment variable set (read when steppers are created), then restores it. */
export async function withEnv<T>(name: string, value: string, fn: () => Promise<T>): Promise<T> {
  const saved = process.env[name];
  process.env[name] = value;
  try {
    return await fn();
  } finally {
    if (saved === undefined) delete process.env[name];
    else process.env[name] = saved;
  }
}

/** Runs `fn` with SEQSTREAM_THREADS set, then restores it. */
export function withThreads<T>(threads: number, fn: () => Promise<T>): Promise<T> {
  return withEnv('SEQSTREAM_THREADS', String(threads), fn);
}

/** Process CPU µs per event of `steps()` steps of `batch` rows (lowest of 3 runs of `count` steps, after a warm-up). */
export async function cpuPerEvent(step: () => unknown, batch: number, count: number): Promise<number> {
  for (let i = 0; i < 3; i++) await step();
  let best = Infinity;
  for (let r = 0; r < 3; r++) {
    const c0 = process.cpuUsage();
    for (let i = 0; i < count; i++) await step();
    const c = process.cpuUsage(c0);
    best = Math.min(best, (c.user + c.system) / (count * batch));
  }
  return best;
}
