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
import { createFusedStepper } from '../src/kernels/index.js';
import { RecurrentModel, seededRandom } from '../src/cells/index.js';
import { startStepPool } from '../src/kernels/index.js';
import { KeyedRecurrentControl, recurrent, recurrentByKey, type KeyedEvent } from '../src/streams/index.js';
import { printTable } from './stats.js';
import { I, kernelOnly, keyedRunner, measure, perKeyRunner, withThreads } from './keyedHarness.js';
import { nativeSection } from './keyedNative.js';

export { nativeSection };

/** PyTorch 1.13 (OpenBLAS, one thread) on this machine, 1,024 streams stepped as one batch (events/s). */
const PYTORCH_1024: Record<number, number> = { 32: 1_700_000, 128: 274_000 };


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
