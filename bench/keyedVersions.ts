/**
 * This checkout's keyed operators against another checkout's `recurrentByKey`, in one process:
 * 1,024 keys, LSTM I=40, H=32 and 128, one event per key per round, on the WebAssembly kernel
 * (SEQSTREAM_ENGINE=wasm, so without the native engine). Contenders run in alternating short
 * passes — old per-event, this per-event, this `recurrentByKeyBatch` (one block of 1,024 rows per
 * round), and the stepper alone on one 1,024-row state (the kernel's own ceiling) — so a busy spell of the shared machine hits all of them. At 1 thread (the default) each
 * reports its lowest process CPU µs per event over the passes (CPU time is then the work of the
 * code measured). With `--threads=2` (SEQSTREAM_THREADS, both checkouts' step pools started
 * first) CPU time counts the worker's spin and wait too, so the figures are wall events/s per
 * pass: the median and range of each pass's new/old ratio, and the best pass's events/s.
 *
 *   mkdir -p /tmp/old && git archive <rev> src | tar -x -C /tmp/old && ln -s "$PWD/node_modules" /tmp/old/node_modules && echo '{"type":"module"}' > /tmp/old/package.json
 *   npx tsx bench/keyedVersions.ts /tmp/old/src [--quick] [--threads=2]
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Subject, type OperatorFunction } from 'rxjs';
import { RecurrentModel, seededRandom } from '../src/cells/index.js';
import { recurrentByKey, recurrentByKeyBatch, type KeyedBlock, type KeyedEvent } from '../src/streams/index.js';
import { createWasmStepper, startStepPool } from '../src/kernels/index.js';
import { printTable } from './stats.js';

const I = 40;
const KEYS = 1024;

type KeyedOperator = (model: unknown, options: Record<string, unknown>) => OperatorFunction<KeyedEvent<number>, unknown>;

/** A contender: sends round `r` and counts outputs; `events()` so far. */
interface Contender {
  send(round: number): void;
  events(): number;
}

function perEvent(op: KeyedOperator, model: unknown, xs: Float32Array[]): Contender {
  const input = new Subject<KeyedEvent<number>>();
  let n = 0;
  input.pipe(op(model, { emit: 'hidden', maxBatch: KEYS, engine: 'wasm' })).subscribe(() => n++);
  return {
    send: (r) => {
      for (let k = 0; k < KEYS; k++) input.next({ key: k, x: xs[(k + r) % xs.length] });
    },
    events: () => n,
  };
}

function batch(model: RecurrentModel, xs: Float32Array[]): Contender {
  const ids = Array.from({ length: KEYS }, (_, k) => k);
  const blocks: KeyedBlock<number>[] = Array.from({ length: 8 }, (_, r) => {
    const x = new Float32Array(KEYS * I);
    for (let k = 0; k < KEYS; k++) x.set(xs[(k + r) % xs.length], k * I);
    return { keys: ids, x };
  });
  const input = new Subject<KeyedBlock<number>>();
  let n = 0;
  input.pipe(recurrentByKeyBatch<number>(model, { emit: 'hidden', maxBatch: KEYS, engine: 'wasm' })).subscribe((o) => (n += o.rows));
  return { send: (r) => input.next(blocks[r % blocks.length]), events: () => n };
}

/** The WebAssembly stepper alone on one 1,024-row state (no keys): what the kernel itself does at this thread count. */
function stepperAlone(model: RecurrentModel, xs: Float32Array[]): Contender {
  const stepper = createWasmStepper(model);
  if (!stepper) throw new Error('keyedVersions: no WebAssembly kernel');
  const state = model.createState(KEYS);
  const blocks = Array.from({ length: 8 }, (_, r) => {
    const x = new Float32Array(KEYS * I);
    for (let k = 0; k < KEYS; k++) x.set(xs[(k + r) % xs.length], k * I);
    return x;
  });
  let n = 0;
  return {
    send: (r) => {
      stepper.stepInPlace(state, blocks[r % blocks.length]);
      n += KEYS;
    },
    events: () => n,
  };
}

/** One pass of `rounds` rounds (each flushed in its microtask, as a burst of readings is): process CPU µs per event and wall events/s. */
async function pass(c: Contender, rounds: number, first: number): Promise<{ cpu: number; rate: number }> {
  const e0 = c.events();
  const t0 = process.cpuUsage();
  const w0 = performance.now();
  for (let r = 0; r < rounds; r++) {
    c.send(first + r);
    await Promise.resolve();
  }
  const wall = performance.now() - w0;
  const t = process.cpuUsage(t0);
  const events = c.events() - e0;
  return { cpu: (t.user + t.system) / events, rate: (events / wall) * 1000 };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** `median (min-max)` of per-pass ratios. */
function ratios(xs: number[]): string {
  return `${median(xs).toFixed(2)}x (${Math.min(...xs).toFixed(2)}-${Math.max(...xs).toFixed(2)})`;
}

/** Runs the comparison and prints its table. */
export async function run(options: { quick?: boolean; oldSrc: string; threads?: number }): Promise<void> {
  const threads = options.threads ?? 1;
  process.env.SEQSTREAM_THREADS = String(threads);
  const old = (await import(pathToFileURL(resolve(options.oldSrc, 'streams/index.ts')).href)) as { recurrentByKey: KeyedOperator };
  const oldCells = (await import(pathToFileURL(resolve(options.oldSrc, 'cells/index.ts')).href)) as { RecurrentModel: typeof RecurrentModel };
  if (threads >= 2) {
    const oldKernels = (await import(pathToFileURL(resolve(options.oldSrc, 'kernels/index.ts')).href)) as { startStepPool(threads: number): Promise<boolean> };
    const up = (await oldKernels.startStepPool(threads)) && (await startStepPool(threads));
    if (!up) throw new Error('keyedVersions: the step workers did not start (does <old>/../package.json say "type": "module"? The old worker needs it)');
  }
  const rnd = seededRandom(5);
  const xs = Array.from({ length: 64 }, () => Float32Array.from({ length: I }, () => rnd() * 2 - 1));
  const passes = options.quick ? 5 : 9;
  const rounds = options.quick ? 40 : 120;
  const rows: Array<Array<string | number>> = [];
  for (const H of [32, 128]) {
    const config = { cell: 'lstm' as const, inputSize: I, hiddenSize: H, seed: 1 };
    const contenders: Array<[string, Contender]> = [
      ['old recurrentByKey', perEvent(old.recurrentByKey, oldCells.RecurrentModel.create(config), xs)],
      ['recurrentByKey', perEvent(recurrentByKey as unknown as KeyedOperator, RecurrentModel.create(config), xs)],
      ['recurrentByKeyBatch', batch(RecurrentModel.create(config), xs)],
      ['stepper alone', stepperAlone(RecurrentModel.create(config), xs)],
    ];
    const best = contenders.map(() => Infinity);
    const fastest = contenders.map(() => 0);
    const perPass: number[][] = [[], [], []];
    for (const [, c] of contenders) await pass(c, 10, 0); // warm-up
    for (let p = 0; p < passes; p++) {
      const got: Array<{ cpu: number; rate: number }> = [];
      for (const [i, [, c]] of contenders.entries()) {
        got.push(await pass(c, rounds, p * rounds));
        best[i] = Math.min(best[i], got[i].cpu);
        fastest[i] = Math.max(fastest[i], got[i].rate);
      }
      perPass[0].push(threads >= 2 ? got[1].rate / got[0].rate : got[0].cpu / got[1].cpu);
      perPass[1].push(threads >= 2 ? got[2].rate / got[0].rate : got[0].cpu / got[2].cpu);
      perPass[2].push(threads >= 2 ? got[3].rate / got[0].rate : got[0].cpu / got[3].cpu);
    }
    if (threads >= 2) rows.push([H, ...fastest.map((r) => `${(r / 1000).toFixed(0)}k`), ratios(perPass[0]), ratios(perPass[1]), ratios(perPass[2])]);
    else rows.push([H, ...best.map((b) => b.toFixed(3)), (best[0] / best[1]).toFixed(2) + 'x', (best[0] / best[2]).toFixed(2) + 'x', ratios(perPass[0]), ratios(perPass[1]), ratios(perPass[2])]);
  }
  if (threads >= 2) {
    console.log(`${KEYS} keys, LSTM I=${I}, WebAssembly kernel, ${threads} threads; wall events/s of the best of ${passes} alternating passes of ${rounds} rounds, and the median (range) of each pass's speed-up over old (old = ${options.oldSrc})`);
    printTable(['H', 'old per-event ev/s', 'per-event ev/s', 'batch ev/s', 'stepper alone ev/s', 'per-event speed-up', 'batch speed-up', 'stepper alone / old'], rows);
  } else {
    console.log(`${KEYS} keys, LSTM I=${I}, WebAssembly kernel, 1 thread; lowest process CPU µs per event over ${passes} alternating passes of ${rounds} rounds, and the median (range) of each pass's speed-up (old = ${options.oldSrc})`);
    printTable(['H', 'old per-event µs', 'per-event µs', 'batch µs', 'stepper alone µs', 'per-event speed-up', 'batch speed-up', 'per-event per pass', 'batch per pass', 'stepper alone / old per pass'], rows);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const oldSrc = process.argv.slice(2).find((a) => !a.startsWith('--'));
  if (!oldSrc) {
    console.error('usage: npx tsx bench/keyedVersions.ts <other checkout>/src [--quick] [--threads=2]');
    process.exit(2);
  }
  const t = process.argv.find((a) => a.startsWith('--threads='));
  await run({ quick: process.argv.includes('--quick'), oldSrc, threads: t ? Number(t.slice('--threads='.length)) : 1 });
}
