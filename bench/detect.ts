/**
 * Anomaly detection throughput: rows/s of `detectAnomalies` behind the sensor file source
 * against the bare source in the same run, the whole NAB corpus end to end (when
 * ../shared/datasets/nab is there), and 10,000 live keys (events/s with learning on, bytes per key).
 *
 *   npx tsx bench/detect.ts                       # 100,000 rows, 10,000 keys x (1 + 100 + 10) events
 *   npx tsx bench/detect.ts --quick               # 20,000 rows, 10,000 keys x (1 + 100 + 3) events
 *   node --expose-gc --import tsx bench/detect.ts # exact bytes per key (forced GC)
 *   npx tsx bench/detect.ts --nab-readings        # the 10,000 keys on real NAB readings instead of random ones
 *   npx tsx bench/detect.ts --threads=4           # detectAnomaliesParallel's threads (default 2)
 * The 10,000 keys use the operator's defaults (contextual member on, 1,024 contexts), on
 * random readings (default), so every context is new and each key's context memory fills up (the largest
 * and slowest a key gets), or with --nab-readings on real ones (key k replays NAB series k mod 58
 * from its own row, when the corpus is there). Bytes per key and events/s (wall and per CPU-second) are
 * measured after 100 readings per key. The same keys and readings then go through
 * `detectAnomaliesParallel` (keys spread over worker threads), wall events/s against the one-thread
 * run. A full context memory is also measured on its own.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { lastValueFrom, reduce, Subject } from 'rxjs';
import { sensorFile } from '../src/adapters/sensorFile.js';
import { runDetectNab } from '../src/cli/detectNab.js';
import { ContextMemory, DETECTOR_DEFAULTS, detectAnomalies, detectAnomaliesParallel, DetectorControl } from '../src/detection/index.js';
import { seededRandom } from '../src/cells/random.js';

const count = <T>(o: import('rxjs').Observable<T>) => lastValueFrom(o.pipe(reduce((n) => n + 1, 0)));
const gc = (globalThis as { gc?: () => void }).gc;
const NAB_DATA = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../shared/datasets/nab/data');

async function fileRows(rows: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'seqstream-bench-detect-'));
  try {
    const path = join(dir, 'one.csv');
    const lines = ['timestamp,value'];
    const t0 = Date.UTC(2024, 0, 1);
    for (let i = 0; i < rows; i++) lines.push(`${new Date(t0 + i * 300_000).toISOString().slice(0, 19).replace('T', ' ')},${(50 + 20 * Math.sin(i / 40) + ((i * 7919) % 13) / 13).toFixed(4)}`);
    writeFileSync(path, lines.join('\n') + '\n');
    let t = performance.now();
    const bare = await count(sensorFile(path, { format: 'csv' }));
    const bareS = (performance.now() - t) / 1000;
    t = performance.now();
    const scored = await count(sensorFile(path, { format: 'csv' }).pipe(detectAnomalies({ learningPeriod: 750 })));
    const detS = (performance.now() - t) / 1000;
    console.table([
      { pipeline: 'sensorFile (bare source)', rows: bare, 'rows/s': Math.round(bare / bareS), 'x bare': '1.00' },
      { pipeline: 'sensorFile + detectAnomalies', rows: scored, 'rows/s': Math.round(scored / detS), 'x bare': (bareS / detS).toFixed(3) },
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function wholeNab(): Promise<void> {
  const nab = NAB_DATA;
  if (!existsSync(nab)) {
    console.log(`whole NAB: corpus not found at ${nab}; skipped`);
    return;
  }
  const out = mkdtempSync(join(tmpdir(), 'seqstream-bench-nab-'));
  try {
    const s = await runDetectNab({ dataDir: nab, outDir: out, progress: false }, console.error);
    console.log(`whole NAB: ${s.files} files, ${s.rows} rows in ${s.seconds.toFixed(1)} s (${Math.round(s.rows / s.seconds)} rows/s, one thread; target <= 60 s)`);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

/** Reading r of key k. */
type Readings = (k: number, r: number) => number;

/** Random readings: every context new, so each key's context memory fills up (the most it holds). */
function randomReadings(): Readings {
  const rnd = seededRandom(2);
  return () => 100 * rnd();
}

/**
 * Real sensor readings: key k replays NAB series k mod 58 from its own starting row (so no two keys
 * of a series are in step), wrapping at the series' end. Null when the corpus is not there.
 */
function nabReadings(): { readings: Readings; series: number } | null {
  if (!existsSync(NAB_DATA)) return null;
  const series: Float64Array[] = [];
  for (const category of readdirSync(NAB_DATA).sort()) {
    for (const name of readdirSync(join(NAB_DATA, category)).filter((f) => f.endsWith('.csv')).sort()) {
      const lines = readFileSync(join(NAB_DATA, category, name), 'utf8').trim().split('\n').slice(1);
      series.push(Float64Array.from(lines, (line) => Number(line.slice(line.lastIndexOf(',') + 1))));
    }
  }
  return { series: series.length, readings: (k, r) => {
    const s = series[k % series.length]!;
    return s[((k * 7919) + r) % s.length]!;
  } };
}

/** The 10,000 keys' measured phase on one thread: wall events/s (the parallel run's baseline). */
async function manyKeys(keys: number, fillRounds: number, rounds: number, reading: Readings, label: string): Promise<number> {
  const t0 = Date.UTC(2024, 0, 1);
  const round = (r: number) => Array.from({ length: keys }, (_, k) => ({ key: k, x: reading(k, r), timestamp: t0 + r * 300_000 }));
  const control = new DetectorControl<number>();
  // Typed arrays live outside the JS heap: count both.
  const used = () => {
    const m = process.memoryUsage();
    return m.heapUsed + m.arrayBuffers;
  };
  const cpuSeconds = (since: NodeJS.CpuUsage) => {
    const c = process.cpuUsage(since);
    return (c.user + c.system) / 1e6;
  };
  const first = round(0);
  gc?.();
  const heap0 = used();
  const rows: Record<string, string | number>[] = [];
  let bytesPerKey = 0;
  let full = 0;
  const sample = Math.min(keys, 100);
  let measured = 0;
  await new Promise<void>((done, fail) => {
    const src = new Subject<{ key: number; x: number; timestamp: number }>();
    src.pipe(detectAnomalies<number>({ control, learningPeriod: 0 })).subscribe({ error: fail, complete: done });
    let t = performance.now();
    for (const e of first) src.next(e);
    rows.push({ phase: `first event of each of ${keys} keys (creates its detector)`, events: keys, 'events/s': Math.round(keys / ((performance.now() - t) / 1000)), 'events/CPU-s': '' });
    first.length = 0;
    t = performance.now();
    let cpu = process.cpuUsage();
    for (let r = 1; r <= fillRounds; r++) for (const e of round(r)) src.next(e);
    rows.push({ phase: `${fillRounds} more per key, learning on (${label})`, events: keys * fillRounds, 'events/s': Math.round((keys * fillRounds) / ((performance.now() - t) / 1000)), 'events/CPU-s': Math.round((keys * fillRounds) / cpuSeconds(cpu)) });
    for (let k = 0; k < sample; k++) if (control.snapshot(Math.floor((k * keys) / sample))?.context?.contexts === CONTEXTS) full++;
    gc?.();
    bytesPerKey = (used() - heap0) / control.stats().keys;
    const steady = Array.from({ length: rounds }, (_, r) => round(fillRounds + 1 + r));
    t = performance.now();
    cpu = process.cpuUsage();
    for (const batch of steady) for (const e of batch) src.next(e);
    measured = (keys * rounds) / ((performance.now() - t) / 1000);
    rows.push({ phase: `${rounds} more per key, learning on (${label}, measured)`, events: keys * rounds, 'events/s': Math.round(measured), 'events/CPU-s': Math.round((keys * rounds) / cpuSeconds(cpu)) });
    src.complete();
  });
  console.table(rows);
  console.log('events/CPU-s: this process\'s own CPU time (less noisy on a shared machine); target >= 50,000 events/s with learning on');
  console.log(
    `bytes per key at ${keys} live keys, ${label}, operator defaults (contextual member on, ${CONTEXTS} contexts; ${full} of ${sample} sampled keys' memories full): ` +
      `${Math.round(bytesPerKey)} (${(bytesPerKey / 1024).toFixed(1)} KiB, JS heap + typed arrays${gc ? ', after forced GC' : ', without --expose-gc: rough'}; target <= 64 KiB)`,
  );
  return measured;
}

/**
 * The same keys and readings through `detectAnomaliesParallel` (keys spread over `threads`
 * detector threads), phase by phase: each phase's events are fed, then the phase ends when its
 * last output is out. Wall events/s against the one-thread run of the same process.
 */
async function manyKeysParallel(keys: number, fillRounds: number, rounds: number, reading: Readings, label: string, threads: number, oneThread: number): Promise<void> {
  const t0 = Date.UTC(2024, 0, 1);
  const round = (r: number) => Array.from({ length: keys }, (_, k) => ({ key: k, x: reading(k, r), timestamp: t0 + r * 300_000 }));
  const src = new Subject<{ key: number; x: number; timestamp: number }>();
  let out = 0;
  let wanted = 0;
  let reached: () => void = () => undefined;
  src.pipe(detectAnomaliesParallel<number>({ learningPeriod: 0, threads })).subscribe(() => {
    if (++out === wanted) reached();
  });
  /** Wall events/s and events per CPU-second of the whole process (every thread) of one phase. */
  const phase = async (from: number, to: number): Promise<[number, number]> => {
    const batches = Array.from({ length: to - from }, (_, i) => round(from + i));
    const t = performance.now();
    const cpu = process.cpuUsage();
    const all = new Promise<void>((r) => (reached = r));
    wanted += keys * (to - from);
    for (const batch of batches) for (const e of batch) src.next(e);
    await all;
    const c = process.cpuUsage(cpu);
    return [(keys * (to - from)) / ((performance.now() - t) / 1000), (keys * (to - from)) / ((c.user + c.system) / 1e6)];
  };
  await phase(0, 1);
  const [fill, fillCpu] = await phase(1, fillRounds + 1);
  const [steady, steadyCpu] = await phase(fillRounds + 1, fillRounds + 1 + rounds);
  src.complete();
  console.table([
    { phase: `${fillRounds} more per key, learning on (${label})`, threads, 'events/s': Math.round(fill), 'events/CPU-s (all threads)': Math.round(fillCpu) },
    { phase: `${rounds} more per key, learning on (${label}, measured)`, threads, 'events/s': Math.round(steady), 'events/CPU-s (all threads)': Math.round(steadyCpu), 'x one thread': (steady / oneThread).toFixed(2) },
  ]);
  console.log(`detectAnomaliesParallel, ${threads} threads, ${keys} keys: ${Math.round(steady)} events/s wall (${(steady / oneThread).toFixed(2)}x the one-thread operator's ${Math.round(oneThread)} in this run; target >= 50,000 events/s)`);
}

const CONTEXTS = DETECTOR_DEFAULTS.maxContexts;

function fullContextMemory(memories: number, events: number): void {
  const rnd = seededRandom(1);
  const used = () => {
    const m = process.memoryUsage();
    return m.heapUsed + m.arrayBuffers;
  };
  gc?.();
  const heap0 = used();
  const all = Array.from({ length: memories }, () => new ContextMemory({ maxContexts: CONTEXTS }));
  for (const m of all) while (m.size < CONTEXTS) m.score(rnd());
  gc?.();
  const bytes = (used() - heap0) / memories;
  const cpu = process.cpuUsage();
  for (let i = 0; i < events; i++) all[i % memories].score(rnd());
  const c = process.cpuUsage(cpu);
  all.length = 0;
  gc?.();
  console.log(
    `contextual member full (${CONTEXTS} contexts, random readings): ${Math.round(bytes)} bytes (${(bytes / 1024).toFixed(1)} KiB) on top of a fresh key${gc ? '' : ' (rough without --expose-gc)'}, ` +
      `${Math.round(events / ((c.user + c.system) / 1e6))} of its steps per CPU-second`,
  );
}

export async function run(options: { quick?: boolean; readings?: 'random' | 'nab'; threads?: number } = {}): Promise<void> {
  fullContextMemory(options.quick ? 50 : 200, options.quick ? 20_000 : 100_000);
  await fileRows(options.quick ? 20_000 : 100_000);
  // One kind of readings per process: a second 10,000-key run would count the first one's freed heap.
  const nab = options.readings === 'nab' ? nabReadings() : null;
  if (options.readings === 'nab' && !nab) console.log(`10,000 keys on real readings: NAB corpus not found at ${NAB_DATA}; skipped`);
  else {
    const readings = nab ? nab.readings : randomReadings();
    const label = nab ? `real readings: the ${nab.series} NAB series replayed` : 'random readings, the worst case';
    const rounds = options.quick ? 3 : 10;
    const oneThread = await manyKeys(10_000, 100, rounds, readings, label);
    await manyKeysParallel(10_000, 100, rounds, nab ? nab.readings : randomReadings(), label, options.threads ?? 2, oneThread);
  }
  await wholeNab();
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  const threads = process.argv.find((a) => a.startsWith('--threads='));
  await run({ quick: process.argv.includes('--quick'), readings: process.argv.includes('--nab-readings') ? 'nab' : 'random', threads: threads ? Number(threads.slice(10)) : undefined });
}
