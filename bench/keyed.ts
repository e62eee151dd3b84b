/**
 * Many keyed streams at once: recurrentByKey (micro-batched fused steps) vs the per-key baseline
 * (groupBy + one recurrent() per key, batch 1), LSTM I=40, H=32 and 128, with 1, 64, 1,024 and
 * 10,000 active keys. Each round every active key sends one event (synchronously, like a burst of
 * sensor readings); events/s over the run and per-event latency (round start to output) p50/p99.
 * Also: share of the keyed time spent outside the stepper (our overhead), and bytes per key at
 * 100,000 keys. Threads: the same keyed run and kernel with SEQSTREAM_THREADS=1 and =2 (one worker
 * thread steps half of each large batch), measured back to back in this run. Native engine (when
 * onnxruntime-node is installed): recurrentByKey at 1,024 keys with SEQSTREAM_ENGINE=wasm and with
 * the default (auto: onnxruntime for these batches), the native stepper alone on the same 1,024
 * rows, and onnxruntime's own LSTM operator through its public API (bench/ortBaseline.ts), 1 and
 * 2 threads, same run; and recurrentByKeyBatch (one block of 1,024 rows per round) on wasm and auto.
 *
 *   npx tsx bench/keyed.ts [--quick]          (node --expose-gc --import tsx bench/keyed.ts for exact memory)
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { groupBy, map, mergeMap, Subject } from 'rxjs';
import { createFusedStepper, type FusedStepper } from '../src/kernels/index.js';
import { RecurrentModel, seededRandom } from '../src/cells/index.js';
import { startStepPool } from '../src/kernels/index.js';
import { KeyedRecurrentControl, recurrent, recurrentByKey, recurrentByKeyBatch, type KeyedBlock, type KeyedEvent } from '../src/streams/index.js';
import { printTable, weightedPercentile } from './stats.js';
import { createOnnxStepper } from '../src/kernels/onnxEngine.js';
import { onnxRuntimeStatus } from '../src/kernels/onnxRuntime.js';
import { ortLabel, ortRawOp, ortThroughput } from './ortBaseline.js';

/** PyTorch 1.13 (OpenBLAS, one thread) on this machine, 1,024 streams stepped as one batch (events/s). */
const PYTORCH_1024: Record<number, number> = { 32: 1_700_000, 128: 274_000 };
const I = 40;

interface Result {
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
interface Contender {
  sendRound(round: number): void;
  stop(): void;
  stepMs(): number;
}
type Runner = (keys: number, xs: Float32Array[], onOut: (rows: number) => void) => Contender;

/** Round `r`'s events as recurrentByKey events on `input`. */
const sendEvents = (input: Subject<KeyedEvent<number>>, keys: number, xs: Float32Array[], round: number): void => {
  for (let k = 0; k < keys; k++) input.next({ key: k, x: xs[(k + round) % xs.length] });
};

const keyedRunner =
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
const batchRunner =
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

const perKeyRunner =
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
async function measure(runner: Runner, keys: number, budgetMs: number, xs: Float32Array[]): Promise<Result> {
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
function kernelOnly(model: RecurrentModel, batch: number, budgetMs: number, xs: Float32Array[]): number {
  return stepperOnly(createFusedStepper(model), model, batch, budgetMs, xs);
}

/** Events/s of `stepper` stepping `batch` rows in place for `budgetMs` (over the whole time, or with `bestSlice` the best ~100 ms slice). */
function stepperOnly(stepper: FusedStepper, model: RecurrentModel, batch: number, budgetMs: number, xs: Float32Array[], bestSlice = false): number {
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

function gcFn(): (() => void) | null {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g) return g;
  try {
    setFlagsFromString('--expose-gc');
    return runInNewContext('gc') as () => void;
  } catch {
    return null;
  }
}

function usedBytes(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

/** Bytes per key with `n` keys held (string keys 'sensor-<i>'), measured as heap + array-buffer growth. */
async function bytesPerKey(H: number, n: number, which: 'keyed' | 'perKey'): Promise<{ perKey: number; state: number }> {
  const gc = gcFn();
  const model = RecurrentModel.create({ cell: 'lstm', inputSize: I, hiddenSize: H, seed: 1 });
  const x = new Float32Array(I).fill(0.1);
  const settle = async () => {
    for (let i = 0; i < 3; i++) {
      gc?.();
      await new Promise((r) => setImmediate(r));
    }
  };
  await settle();
  const before = usedBytes();
  const input = new Subject<KeyedEvent<string>>();
  const control = new KeyedRecurrentControl<string>();
  const sub =
    which === 'keyed'
      ? input.pipe(recurrentByKey<string>(model, { maxKeys: n, maxBatch: 1024, emit: 'hidden', control })).subscribe()
      : input.pipe(groupBy((e) => e.key), mergeMap((g) => g.pipe(map((e) => e.x), recurrent(model, { emit: 'hidden' })))).subscribe();
  for (let i = 0; i < n; i++) {
    input.next({ key: `sensor-${i}`, x });
    if (i % 4096 === 4095) await Promise.resolve();
  }
  await Promise.resolve();
  await settle();
  // The rows live in the kernel's WebAssembly memory, which memoryUsage() does not count: add it.
  const after = usedBytes() + (which === 'keyed' ? control.stats().kernelMemoryBytes : 0);
  sub.unsubscribe();
  return { perKey: (after - before) / n, state: 2 * H * 4 };
}

/** Runs `fn` with an environment variable set (read when steppers are created), then restores it. */
async function withEnv<T>(name: string, value: string, fn: () => Promise<T>): Promise<T> {
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
function withThreads<T>(threads: number, fn: () => Promise<T>): Promise<T> {
  return withEnv('SEQSTREAM_THREADS', String(threads), fn);
}

/** Process CPU µs per event of `steps()` steps of `batch` rows (lowest of 3 runs of `count` steps, after a warm-up). */
async function cpuPerEvent(step: () => unknown, batch: number, count: number): Promise<number> {
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

/** The stepper alone on `batch` rows of onnxruntime (threads), events/s. */
function nativeKernelOnly(model: RecurrentModel, batch: number, threads: number, budgetMs: number, xs: Float32Array[]): number {
  const stepper = createOnnxStepper(model, { threads });
  return stepper ? stepperOnly(stepper, model, batch, budgetMs, xs, true) : NaN;
}

/** Native engine table (exported for a quick run on its own): keyed (wasm vs auto/native), stepper alone, onnxruntime's own op, at 1,024 keys. */
export async function nativeSection(budget: number, xs: Float32Array[]): Promise<void> {
  if (!onnxRuntimeStatus().available) {
    console.log(`\nNative engine: ${ortLabel()}`);
    return;
  }
  const rows: Array<Array<string | number>> = [];
  const cpuRows: Array<Array<string | number>> = [];
  const keys = 1024;
  const fmt = (v: number): string => (v >= 1e6 ? `${(v / 1e6).toFixed(2)}M` : `${Math.round(v / 1e3)}k`);
  for (const H of [32, 128]) {
    const model = RecurrentModel.create({ cell: 'lstm', inputSize: I, hiddenSize: H, seed: 1 });
    for (const threads of [1, 2]) {
      const onWasm = <T>(fn: () => Promise<T>) => withThreads(threads, () => withEnv('SEQSTREAM_ENGINE', 'wasm', fn));
      const onAuto = <T>(fn: () => Promise<T>) => withThreads(threads, () => withEnv('SEQSTREAM_ENGINE', 'auto', fn));
      // Alternating passes, each contender's best slice over all of them: a busy spell of the
      // shared machine hits every contender, not the one that happened to run then.
      const passes = 3;
      const slice = budget / passes;
      const best: Record<string, Result> = {};
      const cpuMin: Record<string, number> = {};
      const keep = (name: string, r: Result): void => {
        if (!best[name] || r.bestEventsPerSec > best[name].bestEventsPerSec) best[name] = r;
        cpuMin[name] = Math.min(cpuMin[name] ?? Infinity, r.cpuUsPerEvent);
      };
      let alone = 0;
      let raw = 0;
      let aloneCpu = NaN;
      let rawCpu = NaN;
      for (let p = 0; p < passes; p++) {
        keep('wasm', await onWasm(() => measure(keyedRunner(model), keys, slice, xs)));
        keep('batchWasm', await onWasm(() => measure(batchRunner(model), keys, slice, xs)));
        keep('native', await onAuto(() => measure(keyedRunner(model), keys, slice, xs)));
        keep('batch', await onAuto(() => measure(batchRunner(model), keys, slice, xs)));
        alone = Math.max(alone, nativeKernelOnly(model, keys, threads, slice / 2, xs));
        raw = Math.max(raw, (await ortThroughput('lstm', I, H, keys, threads, slice / 1000)) ?? NaN);
      }
      if (threads === 1) {
        // Work per event, which a busy machine slows far less than it slows events/s.
        const stepper = createOnnxStepper(model, { threads });
        const state = model.createState(keys);
        const x = new Float32Array(keys * I);
        for (let k = 0; k < keys; k++) x.set(xs[k % xs.length], k * I);
        if (stepper) aloneCpu = await cpuPerEvent(() => stepper.stepInPlace(state, x), keys, 20);
        const op = await ortRawOp('lstm', I, H, keys, threads);
        if (op) rawCpu = await cpuPerEvent(() => op.step(), keys, 20);
        await op?.release();
        const c = cpuMin;
        cpuRows.push([H, c.native.toFixed(3), c.batch.toFixed(3), aloneCpu.toFixed(3), rawCpu.toFixed(3), (rawCpu / c.native).toFixed(2) + 'x', (rawCpu / c.batch).toFixed(2) + 'x', (aloneCpu / c.batch).toFixed(2), (c.wasm / c.batchWasm).toFixed(2) + 'x']);
      }
      const { wasm, batchWasm, native, batch } = best;
      rows.push([
        H,
        threads,
        fmt(wasm.bestEventsPerSec),
        fmt(batchWasm.bestEventsPerSec),
        (batchWasm.bestEventsPerSec / wasm.bestEventsPerSec).toFixed(2) + 'x',
        fmt(native.bestEventsPerSec),
        fmt(batch.bestEventsPerSec),
        fmt(alone),
        fmt(raw),
        (native.bestEventsPerSec / raw).toFixed(2) + 'x',
        (batch.bestEventsPerSec / raw).toFixed(2) + 'x',
        (native.bestEventsPerSec / alone).toFixed(2),
        (batch.bestEventsPerSec / alone).toFixed(2),
        `${batch.p50.toFixed(0)}/${batch.p99.toFixed(0)}`,
        // Why keyed trails the raw op: its time outside the step, against the op's whole time per event.
        `${(native.overheadUsPerEvent ?? NaN).toFixed(2)} / ${(batch.overheadUsPerEvent ?? NaN).toFixed(2)}`,
        (1e6 / raw).toFixed(2),
      ]);
    }
  }
  console.log(
    `\nNative engine, ${keys} keys, LSTM I=${I} (${ortLabel()}; same run): per-event recurrentByKey ("keyed") and recurrentByKeyBatch (one block of ${keys} rows per round, "batch") on wasm (SEQSTREAM_ENGINE=wasm) and on auto (onnxruntime for these batches), the native stepper alone, onnxruntime's own LSTM op (public run(), one step per call); events/s are each contender's best ~100 ms slice over 3 alternating passes (bench/ortBaseline measures the op by best slice too), so a busy spell of the machine does not favour one side`,
  );
  printTable(
    ['H', 'threads', 'keyed wasm', 'batch wasm', 'batch/keyed wasm', 'keyed native', 'batch native', 'native stepper alone', 'ORT op', 'keyed native/ORT op', 'batch native/ORT op', 'keyed/stepper', 'batch/stepper', 'batch native p50/p99 µs', 'outside step µs/ev keyed / batch', 'ORT op µs/ev'],
    rows,
  );
  console.log('\nThe same at 1 thread as work per event: process CPU µs per event (lowest pass; the ratios are speeds, >1 = the batch/keyed side does less work)');
  printTable(['H', 'keyed native', 'batch native', 'native stepper alone', 'ORT op', 'keyed native/ORT op', 'batch native/ORT op', 'batch/stepper', 'batch/keyed on wasm'], cpuRows);
}

/** Runs the keyed benchmark and prints its tables. */
export async function run(options: { quick?: boolean } = {}): Promise<void> {
  const quick = options.quick ?? false;
  const budget = quick ? 250 : 1500;
  const rnd = seededRandom(5);
  const xs = Array.from({ length: 64 }, () => Float32Array.from({ length: I }, () => rnd() * 2 - 1));
  const rows: Array<Array<string | number>> = [];
  const overheadRows: Array<Array<string | number>> = [];
  for (const H of [32, 128]) {
    const model = RecurrentModel.create({ cell: 'lstm', inputSize: I, hiddenSize: H, seed: 1 });
    for (const keys of [1, 64, 1024, 10_000]) {
      const keyed = await measure(keyedRunner(model), keys, budget, xs);
      const base = await measure(perKeyRunner(model), keys, budget, xs);
      const kernel = kernelOnly(model, Math.min(keys, 1024), budget / 3, xs);
      rows.push([
        H,
        keys,
        Math.round(keyed.eventsPerSec),
        `${keyed.p50.toFixed(0)}/${keyed.p99.toFixed(0)}`,
        Math.round(base.eventsPerSec),
        `${base.p50.toFixed(0)}/${base.p99.toFixed(0)}`,
        (keyed.eventsPerSec / base.eventsPerSec).toFixed(2) + 'x',
        keys === 1024 ? (keyed.eventsPerSec / PYTORCH_1024[H]).toFixed(3) + 'x' : '',
      ]);
      overheadRows.push([
        H,
        keys,
        Math.round(kernel),
        ((keyed.outsideStepShare ?? 0) * 100).toFixed(1) + '%',
        (keyed.overheadUsPerEvent ?? 0).toFixed(2),
        (keyed.eventsPerSec / kernel).toFixed(2),
      ]);
    }
  }
  console.log(`LSTM I=${I}; one event per active key per round; latency = round start to output (µs); stepper kind: ${createFusedStepper(RecurrentModel.create({ cell: 'lstm', inputSize: 1, hiddenSize: 1 })).kind}`);
  printTable(['H', 'keys', 'keyed ev/s', 'keyed p50/p99 µs', 'per-key ev/s', 'per-key p50/p99 µs', 'keyed/per-key', 'keyed/PyTorch'], rows);
  console.log(`PyTorch 1.13 reference, 1,024 streams in one batch: H=32 ${PYTORCH_1024[32].toLocaleString('en')} ev/s, H=128 ${PYTORCH_1024[128].toLocaleString('en')} ev/s`);
  console.log('\nWhere the keyed time goes (kernel = stepper alone on one contiguous batch of min(keys,1024) rows):');
  printTable(['H', 'keys', 'kernel ev/s', 'outside stepper', 'overhead µs/event', 'keyed/kernel'], overheadRows);

  const threadRows: Array<Array<string | number>> = [];
  const pool = await startStepPool(2);
  for (const H of [32, 128]) {
    const model = RecurrentModel.create({ cell: 'lstm', inputSize: I, hiddenSize: H, seed: 1 });
    for (const keys of [64, 1024, 10_000]) {
      const one = await withThreads(1, async () => ({ keyed: await measure(keyedRunner(model), keys, budget, xs), kernel: kernelOnly(model, Math.min(keys, 1024), budget / 3, xs) }));
      const two = await withThreads(2, async () => ({ keyed: await measure(keyedRunner(model), keys, budget, xs), kernel: kernelOnly(model, Math.min(keys, 1024), budget / 3, xs) }));
      threadRows.push([
        H,
        keys,
        Math.round(one.keyed.eventsPerSec),
        Math.round(two.keyed.eventsPerSec),
        (two.keyed.eventsPerSec / one.keyed.eventsPerSec).toFixed(2) + 'x',
        `${one.keyed.p50.toFixed(0)}/${one.keyed.p99.toFixed(0)}`,
        `${two.keyed.p50.toFixed(0)}/${two.keyed.p99.toFixed(0)}`,
        Math.round(one.kernel),
        Math.round(two.kernel),
        (two.kernel / one.kernel).toFixed(2) + 'x',
      ]);
    }
  }
  console.log(`\nThreads (SEQSTREAM_THREADS=1 vs 2, same run; worker ${pool ? 'running' : 'could not start'}): keyed ev/s and the stepper alone on min(keys,1024) rows`);
  printTable(['H', 'keys', 'keyed 1t ev/s', 'keyed 2t ev/s', 'keyed 2t/1t', '1t p50/p99 µs', '2t p50/p99 µs', 'kernel 1t', 'kernel 2t', 'kernel 2t/1t'], threadRows);

  await nativeSection(budget, xs);

  const n = quick ? 20_000 : 100_000;
  const memRows: Array<Array<string | number>> = [];
  for (const H of [32, 128]) {
    const keyed = await bytesPerKey(H, n, 'keyed');
    const base = await bytesPerKey(H, n, 'perKey');
    memRows.push([H, n, keyed.state, Math.round(keyed.perKey), (keyed.perKey / keyed.state).toFixed(2), Math.round(base.perKey), (base.perKey / keyed.perKey).toFixed(1) + 'x']);
  }
  console.log(`\nMemory per key with ${n.toLocaleString('en')} keys (heapUsed + arrayBuffers growth, plus the kernel memory the keyed rows live in${gcFn() ? ', after gc' : ', no gc available'}; keys are 'sensor-<i>' strings):`);
  printTable(['H', 'keys', 'state B/key', 'keyed B/key', 'keyed/state', 'per-key B/key', 'per-key/keyed'], memRows);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await run({ quick: process.argv.includes('--quick') });
}
