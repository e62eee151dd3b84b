/**
 * The native-engine tables of bench/keyed.ts: at 1,024 keys, per-event recurrentByKey and
 * recurrentByKeyBatch on wasm and on onnxruntime, the native stepper alone and onnxruntime's own
 * LSTM op, 1 and 2 threads (events/s and CPU µs per event).
 */
import { RecurrentModel } from '../src/cells/index.js';
import { printTable } from './stats.js';
import { createOnnxStepper } from '../src/kernels/onnxEngine.js';
import { onnxRuntimeStatus } from '../src/kernels/onnxRuntime.js';
import { ortLabel, ortRawOp, ortThroughput } from './ortBaseline.js';
import { batchRunner, cpuPerEvent, I, keyedRunner, measure, stepperOnly, withEnv, withThreads, type Result } from './keyedHarness.js';

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
