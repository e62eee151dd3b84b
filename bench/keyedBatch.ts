/**
 * recurrentByKeyBatch on the native engine against onnxruntime's own LSTM op, in one process with
 * nothing else in it: 1,024 keys, LSTM I=40, H=32 and 128, one block of 1,024 rows per round (the
 * same key array every round, 8 input variants). Alternating passes of: the batch operator
 * (`SEQSTREAM_ENGINE=auto`: onnxruntime for these batches), the native stepper alone on the same
 * rows, and the raw op (public `run`, one step per call), in an order that rotates every pass, each
 * pass after 8 unmeasured steps. At 1 thread it reports process CPU µs per event (lowest pass: the
 * load-robust figure); at 2 threads events/s (best pass). The stepper alone steps the same 8 input
 * variants as the batch operator (the raw op keeps one).
 *
 * Then interleaved rounds: each round calls the three once, in an order that rotates every round,
 * timing every call (process CPU at 1 thread, wall clock at 2); the "per call" columns are the
 * medians of the per-round ratios. Neighbouring calls see the same moment of the shared machine,
 * so these move far less than per-pass ratios (two copies of the same operator: 1.00-1.015).
 *
 * The "graph" column is the native graph the engine chose (`auto`: the gate-math graph on one
 * thread for LSTMs up to H=32, onnxruntime's LSTM op above); `SEQSTREAM_NATIVE_GRAPH=op` (or
 * `gates`) forces one for an A/B.
 *
 *   npx tsx bench/keyedBatch.ts [--quick] [--h=32] [--threads=1]
 */
import { Subject } from 'rxjs';
import { RecurrentModel } from '../src/cells/index.js';
import { createOnnxStepper, nativeGraphOf } from '../src/kernels/onnxEngine.js';
import { onnxRuntimeStatus } from '../src/kernels/onnxRuntime.js';
import { recurrentByKeyBatch, type KeyedBlock } from '../src/streams/index.js';
import { ortLabel, ortRawOp } from './ortBaseline.js';
import { interleavedRounds, medianRatio, printTable } from './stats.js';

const I = 40;
const KEYS = 1024;
/** Unmeasured steps before each pass: after another contender's pass the first steps fault in memory again. */
const WARMUP = 8;

/** One contender: `step()` advances all 1,024 rows one time step. */
type Stepper = () => unknown;

function batchOperator(model: RecurrentModel): { step: Stepper; stop: () => void } {
  const ids = Array.from({ length: KEYS }, (_, k) => k);
  const blocks: KeyedBlock<number>[] = Array.from({ length: 8 }, (_, r) => ({ keys: ids, x: Float32Array.from({ length: KEYS * I }, (_, i) => Math.sin(i + r)) }));
  const input = new Subject<KeyedBlock<number>>();
  let rows = 0;
  const sub = input.pipe(recurrentByKeyBatch<number>(model, { maxBatch: KEYS, emit: 'hidden' })).subscribe((o) => (rows += o.rows));
  let r = 0;
  return {
    step: () => input.next(blocks[r++ & 7]),
    stop: () => {
      sub.unsubscribe();
      if (rows === 0) throw new Error('batch operator emitted nothing');
    },
  };
}

function stepperAlone(model: RecurrentModel, threads: number): Stepper | null {
  const stepper = createOnnxStepper(model, { threads });
  if (!stepper) return null;
  const state = model.createState(KEYS);
  const xs = Array.from({ length: 8 }, (_, r) => Float32Array.from({ length: KEYS * I }, (_, i) => Math.sin(i + r)));
  let r = 0;
  return () => stepper.stepInPlace(state, xs[r++ & 7]);
}

/** CPU µs per event and events/s of `count` steps. */
async function pass(step: Stepper, count: number): Promise<{ cpu: number; eps: number }> {
  for (let i = 0; i < WARMUP; i++) await step();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < count; i++) await step();
  const ms = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return { cpu: (c.user + c.system) / (count * KEYS), eps: (count * KEYS * 1000) / ms };
}

async function withThreads<T>(threads: number, fn: () => Promise<T>): Promise<T> {
  const saved = [process.env.SEQSTREAM_THREADS, process.env.SEQSTREAM_ENGINE];
  process.env.SEQSTREAM_THREADS = String(threads);
  process.env.SEQSTREAM_ENGINE = 'auto';
  try {
    return await fn();
  } finally {
    const restore = (name: string, v: string | undefined): void => {
      if (v === undefined) delete process.env[name];
      else process.env[name] = v;
    };
    restore('SEQSTREAM_THREADS', saved[0]);
    restore('SEQSTREAM_ENGINE', saved[1]);
  }
}

/** Runs the comparison (bench/run.ts entry). */
export async function run(o: { quick?: boolean; hs?: number[]; threads?: number[] } = {}): Promise<void> {
  if (!onnxRuntimeStatus().available) {
    console.log(`recurrentByKeyBatch native vs onnxruntime op: ${ortLabel()}`);
    return;
  }
  const passes = o.quick ? 3 : 7;
  const rows: Array<Array<string>> = [];
  for (const H of o.hs ?? [32, 128]) {
    const count = Math.max(10, Math.round((o.quick ? 60 : 150) * (32 / H)));
    const model = RecurrentModel.create({ cell: 'lstm', inputSize: I, hiddenSize: H, seed: 1 });
    for (const threads of o.threads ?? [1, 2]) {
      await withThreads(threads, async () => {
        const batch = batchOperator(model);
        const alone = stepperAlone(model, threads) as Stepper;
        const op = await ortRawOp('lstm', I, H, KEYS, threads);
        if (!op) throw new Error('onnxruntime op unavailable');
        const b: number[] = [];
        const a: number[] = [];
        const r: number[] = [];
        const be: number[] = [];
        const ae: number[] = [];
        const re: number[] = [];
        // The order rotates every pass: whichever contender runs right after the raw op (which
        // allocates fresh output tensors every step) pays for the memory the process gave back
        // meanwhile (page faults cost ~10 µs each on this machine), so a fixed order skews them.
        const contenders: Array<{ step: Stepper; cpu: number[]; eps: number[] }> = [
          { step: batch.step, cpu: b, eps: be },
          { step: alone, cpu: a, eps: ae },
          { step: () => op.step(), cpu: r, eps: re },
        ];
        for (let p = 0; p < passes; p++) {
          for (let k = 0; k < contenders.length; k++) {
            const c = contenders[(p + k) % contenders.length];
            const x = await pass(c.step, count);
            c.cpu.push(x.cpu), c.eps.push(x.eps);
          }
        }
        const rounds = Math.max(60, Math.round((o.quick ? 300 : 800) * (32 / H)));
        const times = await interleavedRounds([batch.step, alone, () => op.step()], rounds);
        const t = threads === 1 ? times.cpu : times.wall;
        const perCall = (other: number): string => medianRatio(t[other], t[0]).toFixed(3);
        batch.stop();
        await op.release();
        const min = (v: number[]): number => Math.min(...v);
        const max = (v: number[]): number => Math.max(...v);
        // Speed ratios (>1: the batch operator is faster): best over best, then the median and
        // range of the per-pass ratios (each pass's contenders ran back to back, at one moment of the machine).
        const ratio = (best: number, perPass: number[]): string => {
          const q = perPass.slice().sort((u, v) => u - v);
          return `${best.toFixed(2)}x; ${q[q.length >> 1].toFixed(2)} [${q[0].toFixed(2)}-${q[q.length - 1].toFixed(2)}]`;
        };
        const per = (num: number[], den: number[]): number[] => num.map((v, i) => v / den[i]);
        if (threads === 1) {
          rows.push([String(H), '1', nativeGraphOf(model), 'CPU µs/event', min(b).toFixed(3), min(a).toFixed(3), min(r).toFixed(3), ratio(min(r) / min(b), per(r, b)), ratio(min(a) / min(b), per(a, b)), perCall(2), perCall(1)]);
        } else {
          const fmt = (v: number): string => (v >= 1e6 ? `${(v / 1e6).toFixed(2)}M` : `${Math.round(v / 1e3)}k`);
          rows.push([String(H), String(threads), nativeGraphOf(model), 'events/s', fmt(max(be)), fmt(max(ae)), fmt(max(re)), ratio(max(be) / max(re), per(be, re)), ratio(max(be) / max(ae), per(be, ae)), perCall(2), perCall(1)]);
        }
      });
    }
  }
  console.log(`\nrecurrentByKeyBatch, ${KEYS} keys, LSTM I=${I}, native engine (${ortLabel()}), ${passes} alternating passes (CPU µs: lowest pass; events/s: best pass); ratios are speeds (>1: batch faster): best over best; median [range] of per-pass ratios; per call: median of per-round ratios (CPU at 1 thread, wall at 2)`);
  printTable(['H', 'threads', 'graph', 'measure', 'batch native', 'native stepper alone', 'ORT op', 'batch / ORT op', 'batch / stepper', 'per call: / ORT op', 'per call: / stepper'], rows);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const arg = (name: string): number[] | undefined => {
    const a = process.argv.find((s) => s.startsWith(`--${name}=`));
    return a ? a.split('=')[1].split(',').map(Number) : undefined;
  };
  await run({ quick: process.argv.includes('--quick'), hs: arg('h'), threads: arg('threads') });
}
