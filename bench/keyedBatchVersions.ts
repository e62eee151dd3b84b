/**
 * This checkout's `recurrentByKeyBatch` against another checkout's, in one process, on the native
 * engine (`SEQSTREAM_ENGINE=auto`: onnxruntime-node for these batches): 1,024 keys, LSTM I=40,
 * `emit: 'hidden'` (`--head=O`: a head of O outputs and `emit: 'output'`, or `--emit=all`), one block of 1,024 rows per round, next to the native stepper alone on the
 * same rows. The three run in short passes whose order rotates every pass (each after 8
 * unmeasured steps), so a busy spell of the shared machine and the memory one pass gives back hit
 * all of them. Reports process CPU µs per event (lowest pass), the minor page faults per step
 * (median pass) and the per-pass ratio old / new CPU time (>1: this checkout is faster); both
 * operators' outputs are summed, which must agree (same numbers).
 *
 * Then, with `--rounds=N` (default 300; 0 skips it), the steadier figure: N rounds that step each
 * of the three once, in an order that rotates every round, timing every call (process CPU and
 * wall clock); reports each one's 10th-percentile and median CPU µs per event and the medians of
 * the per-round ratios (wall clock in brackets: the figure for 2 threads, whose CPU time counts
 * onnxruntime's worker too). Neighbouring calls see the same moment of the machine, so a busy spell or a page-fault
 * storm moves all three: two copies of the same code came out at 1.00-1.015 this way, where
 * per-pass ratios spread over 0.5-2.
 *
 *   mkdir -p /tmp/old && git archive <rev> src | tar -x -C /tmp/old && ln -s "$PWD/node_modules" /tmp/old/node_modules
 *   npx tsx bench/keyedBatchVersions.ts /tmp/old/src [--h=128] [--threads=1] [--passes=12] [--steps=40] [--rounds=300] [--head=1] [--emit=all]
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Subject, type OperatorFunction } from 'rxjs';
import { RecurrentModel } from '../src/cells/index.js';
import { createOnnxStepper } from '../src/kernels/onnxEngine.js';
import { onnxRuntimeStatus } from '../src/kernels/onnxRuntime.js';
import { recurrentByKeyBatch, type KeyedBlock, type KeyedOutputBlock } from '../src/streams/index.js';
import { interleavedRounds, medianRatio } from './stats.js';

const I = 40;
const KEYS = 1024;

type BatchOperator = (model: unknown, options: Record<string, unknown>) => OperatorFunction<KeyedBlock<number>, KeyedOutputBlock<number>>;
type Contender = { step: () => void; cpu: number[]; faults: number[] };

function batch(op: BatchOperator, model: unknown, emit: string, sum: { v: number }): Contender {
  const ids = Array.from({ length: KEYS }, (_, k) => k);
  const blocks = Array.from({ length: 8 }, (_, r) => ({ keys: ids, x: Float32Array.from({ length: KEYS * I }, (_, i) => Math.sin(i + r)) }));
  const input = new Subject<KeyedBlock<number>>();
  input.pipe(op(model, { maxBatch: KEYS, emit })).subscribe((o) => (sum.v += o.y[5] + o.y[o.y.length - 1]));
  let r = 0;
  return { step: () => input.next(blocks[r++ & 7]), cpu: [], faults: [] };
}

function pass(c: Contender, steps: number): void {
  for (let i = 0; i < 8; i++) c.step();
  const f0 = process.resourceUsage().minorPageFault;
  const c0 = process.cpuUsage();
  for (let i = 0; i < steps; i++) c.step();
  const t = process.cpuUsage(c0);
  c.cpu.push((t.user + t.system) / (steps * KEYS));
  c.faults.push((process.resourceUsage().minorPageFault - f0) / steps);
}

const median = (v: number[]): number => v.slice().sort((a, b) => a - b)[v.length >> 1];

/** Runs the comparison. */
export async function run(o: { oldSrc: string; H: number; threads: number; passes: number; steps: number; rounds: number; head: number; emit: string | undefined }): Promise<void> {
  if (!onnxRuntimeStatus().available) {
    console.log('keyedBatchVersions: onnxruntime-node is not available');
    return;
  }
  process.env.SEQSTREAM_THREADS = String(o.threads);
  process.env.SEQSTREAM_ENGINE = 'auto';
  const old = (await import(pathToFileURL(resolve(o.oldSrc, 'streams/index.ts')).href)) as { recurrentByKeyBatch: BatchOperator };
  const oldCells = (await import(pathToFileURL(resolve(o.oldSrc, 'cells/index.ts')).href)) as { RecurrentModel: typeof RecurrentModel };
  const config = { cell: 'lstm' as const, inputSize: I, hiddenSize: o.H, seed: 1, ...(o.head > 0 ? { head: { outputSize: o.head } } : {}) };
  const emit = o.emit ?? (o.head > 0 ? 'output' : 'hidden');
  const sums = { now: { v: 0 }, old: { v: 0 } };
  const now = batch(recurrentByKeyBatch as BatchOperator, RecurrentModel.create(config), emit, sums.now);
  const then = batch(old.recurrentByKeyBatch, oldCells.RecurrentModel.create(config), emit, sums.old);
  const model = RecurrentModel.create(config);
  const stepper = createOnnxStepper(model, { threads: o.threads });
  if (!stepper) throw new Error('native stepper unavailable');
  const state = model.createState(KEYS);
  const x = Float32Array.from({ length: KEYS * I }, (_, i) => Math.sin(i));
  const alone: Contender = { step: () => void stepper.stepInPlace(state, x), cpu: [], faults: [] };
  const order = [now, then, alone];
  for (let p = 0; p < o.passes; p++) for (let k = 0; k < order.length; k++) pass(order[(p + k) % order.length], o.steps);
  const ratios = then.cpu.map((v, i) => v / now.cpu[i]).sort((a, b) => a - b);
  const lo = (c: Contender): string => Math.min(...c.cpu).toFixed(3);
  console.log(`LSTM I=${I} H=${o.H}, head ${o.head}, emit ${emit}, ${KEYS} keys, ${o.threads} thread(s), ${o.passes} passes of ${o.steps} steps, CPU µs/event (lowest pass), page faults/step (median pass)`);
  console.log(`  this checkout's batch operator: ${lo(now)}, ${median(now.faults).toFixed(0)} faults`);
  console.log(`  old batch operator:             ${lo(then)}, ${median(then.faults).toFixed(0)} faults`);
  console.log(`  native stepper alone:           ${lo(alone)}, ${median(alone.faults).toFixed(0)} faults`);
  console.log(`  old / this per pass: median ${median(ratios).toFixed(2)} [${ratios[0].toFixed(2)}-${ratios[ratios.length - 1].toFixed(2)}]; batch / stepper (lowest over lowest): this ${(Math.min(...alone.cpu) / Math.min(...now.cpu)).toFixed(2)}, old ${(Math.min(...alone.cpu) / Math.min(...then.cpu)).toFixed(2)}; same outputs: ${sums.now.v === sums.old.v}`);
  if (o.rounds > 0) await interleaved(order, o.rounds);
}

/** The per-round figures (see the header): `order` is [this checkout's, old, stepper alone]. */
async function interleaved(order: Contender[], rounds: number): Promise<void> {
  const { cpu, wall } = await interleavedRounds(order.map((c) => c.step), rounds);
  const t = cpu.map((v) => v.map((us) => us / KEYS));
  const q = (v: number[], p: number): number => v.slice().sort((a, b) => a - b)[Math.floor(v.length * p)];
  const per = (a: number, b: number, v = t): number => medianRatio(v[a], v[b]);
  const fmt = (k: number): string => `p10 ${q(t[k], 0.1).toFixed(3)}, median ${q(t[k], 0.5).toFixed(3)}`;
  console.log(`  ${rounds} interleaved rounds, CPU µs/event: this ${fmt(0)}; old ${fmt(1)}; stepper alone ${fmt(2)}`);
  console.log(`  per-round medians, CPU (wall): old / this ${per(1, 0).toFixed(3)} (${per(1, 0, wall).toFixed(3)}); batch / stepper (speed): this ${per(2, 0).toFixed(3)} (${per(2, 0, wall).toFixed(3)}), old ${per(2, 1).toFixed(3)} (${per(2, 1, wall).toFixed(3)})`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const oldSrc = process.argv.slice(2).find((a) => !a.startsWith('--'));
  if (!oldSrc) {
    console.error('usage: npx tsx bench/keyedBatchVersions.ts <old checkout>/src [--h=128] [--threads=1] [--passes=12] [--steps=40] [--rounds=300] [--head=1] [--emit=all]');
    process.exit(2);
  }
  const arg = (name: string, d: number): number => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? d);
  await run({ oldSrc, H: arg('h', 128), threads: arg('threads', 1), passes: arg('passes', 12), steps: arg('steps', 40), rounds: arg('rounds', 300), head: arg('head', 0), emit: process.argv.find((a) => a.startsWith('--emit='))?.split('=')[1] });
}
