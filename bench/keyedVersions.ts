/**
 * This checkout's keyed operators against another checkout's `recurrentByKey`, in one process:
 * 1,024 keys, LSTM I=40, H=32 and 128, one event per key per round, on the WebAssembly kernel
 * (SEQSTREAM_ENGINE=wasm, so without the native engine) and 1 thread (so process CPU time is the
 * work of the code measured). Contenders run in alternating short passes — old per-event, this
 * per-event, this `recurrentByKeyBatch` (one block of 1,024 rows per round) — so a busy spell of
 * the shared machine hits all of them; each reports its lowest CPU µs per event over the passes.
 *
 *   mkdir -p /tmp/old && git archive <rev> src | tar -x -C /tmp/old && ln -s "$PWD/node_modules" /tmp/old/node_modules
 *   npx tsx bench/keyedVersions.ts /tmp/old/src [--quick]
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Subject, type OperatorFunction } from 'rxjs';
import { RecurrentModel, seededRandom } from '../src/cells/index.js';
import { recurrentByKey, recurrentByKeyBatch, type KeyedBlock, type KeyedEvent } from '../src/streams/index.js';
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

/** CPU µs per event of `rounds` rounds (each flushed in its microtask, as a burst of readings is). */
async function pass(c: Contender, rounds: number, first: number): Promise<number> {
  const e0 = c.events();
  const t0 = process.cpuUsage();
  for (let r = 0; r < rounds; r++) {
    c.send(first + r);
    await Promise.resolve();
  }
  const t = process.cpuUsage(t0);
  return (t.user + t.system) / (c.events() - e0);
}

/** Runs the comparison and prints its table. */
export async function run(options: { quick?: boolean; oldSrc: string }): Promise<void> {
  process.env.SEQSTREAM_THREADS = '1';
  const old = (await import(pathToFileURL(resolve(options.oldSrc, 'streams/index.ts')).href)) as { recurrentByKey: KeyedOperator };
  const oldCells = (await import(pathToFileURL(resolve(options.oldSrc, 'cells/index.ts')).href)) as { RecurrentModel: typeof RecurrentModel };
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
    ];
    const best = contenders.map(() => Infinity);
    for (const [, c] of contenders) await pass(c, 10, 0); // warm-up
    for (let p = 0; p < passes; p++) {
      for (const [i, [, c]] of contenders.entries()) best[i] = Math.min(best[i], await pass(c, rounds, p * rounds));
    }
    rows.push([H, ...best.map((b) => b.toFixed(3)), (best[0] / best[1]).toFixed(2) + 'x', (best[0] / best[2]).toFixed(2) + 'x']);
  }
  console.log(`${KEYS} keys, LSTM I=${I}, WebAssembly kernel, 1 thread; lowest process CPU µs per event over ${passes} alternating passes of ${rounds} rounds (old = ${options.oldSrc})`);
  printTable(['H', 'old per-event µs', 'per-event µs', 'batch µs', 'per-event speed-up', 'batch speed-up'], rows);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const oldSrc = process.argv.slice(2).find((a) => !a.startsWith('--'));
  if (!oldSrc) {
    console.error('usage: npx tsx bench/keyedVersions.ts <other checkout>/src [--quick]');
    process.exit(2);
  }
  await run({ quick: process.argv.includes('--quick'), oldSrc });
}
