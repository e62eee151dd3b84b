/**
 * Dashboard cost. (1) Server side: the same keyed pipeline (1,000 keys, LSTM I=4 H=32 with a head
 * of 4, `recurrentByKey`, prediction error as the score) fed in chunks that yield to the event loop,
 * once with a plain subscriber (the baseline), once pushing every output into a `DashboardServer`
 * with no page, and once into one with a page connected in chromium (ticks, row sorting and the
 * selected stream's points all included). Runs are sized to ~0.3 s of CPU (1 s without --quick) so each
 * holds a few ticks; the three variants run back to back in each round, in rotating order, and
 * the figure is the median over rounds of each round's ratio (neighbours in time share the
 * machine's load). Two clocks: wall time, and the main thread's own CPU time
 * (/proc/thread-self/schedstat, Linux), which a shared machine's other processes disturb far
 * less; every dashboard cost (recording, ticks, sends) runs on that thread.
 * (2) Browser: frame times of the page with 10,000 live keys (requestAnimationFrame intervals and
 * the longest main-thread task, PerformanceObserver 'longtask').
 *
 *   npx tsx bench/dashboard.ts          (add --quick for the short run)
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { map, Observable, tap } from 'rxjs';
import { RecurrentModel } from '../src/cells/index.js';
import { DashboardServer, DashboardStore } from '../src/dashboard/index.js';
import { recurrentByKey } from '../src/streams/index.js';

const CHROMIUM = '/usr/bin/chromium';

/** Keyed readings in chunks of `chunk`, yielding to the event loop between chunks (a live source). */
function chunked(events: number, keys: number, chunk: number): Observable<{ key: string; x: number[]; offset: number }> {
  return new Observable((subscriber) => {
    let i = 0;
    let timer: NodeJS.Immediate | null = null;
    const step = () => {
      const end = Math.min(events, i + chunk);
      for (; i < end; i++) subscriber.next({ key: `sensor-${i % keys}`, x: [Math.sin(i / 7), Math.cos(i / 11), (i % 13) / 13, 0.5], offset: i });
      if (i >= events) subscriber.complete();
      else timer = setImmediate(step);
    };
    timer = setImmediate(step);
    return () => timer && clearImmediate(timer);
  });
}

/** This thread's CPU time in ns (Linux), or NaN where /proc/thread-self/schedstat is missing. */
function threadCpuNs(): number {
  try {
    return Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]);
  } catch {
    return NaN;
  }
}

type Sink = ((e: { key: string; x: number[]; y: Float32Array; score: number }) => void) | null;

/** One run of the keyed pipeline; µs per event, wall and main-thread CPU. */
async function pipeline(model: RecurrentModel, events: number, keys: number, sink: Sink): Promise<{ wall: number; cpu: number }> {
  const last = new Map<string, number>();
  const c0 = threadCpuNs();
  const t0 = performance.now();
  await new Promise<void>((done, fail) =>
    chunked(events, keys, 1000)
      .pipe(
        recurrentByKey<string>(model),
        map((o) => {
          const prev = last.get(o.key) ?? 0;
          last.set(o.key, o.y[0]);
          return { key: o.key, x: [Math.sin(o.offset! / 7)], y: o.y, score: Math.abs(Math.sin(o.offset! / 7) - prev) };
        }),
        tap((e) => sink?.(e)),
      )
      .subscribe({ complete: done, error: fail }),
  );
  return { wall: ((performance.now() - t0) * 1000) / events, cpu: (threadCpuNs() - c0) / 1000 / events };
}

async function launch(): Promise<{ newPage: () => Promise<import('playwright-core').Page>; close: () => Promise<void> } | null> {
  if (!existsSync(CHROMIUM)) return null;
  const { chromium } = await import('playwright-core');
  const profile = mkdtempSync(join(tmpdir(), 'seqstream-bench-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1440, height: 860 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  return { newPage: () => context.newPage(), close: async () => { await context.close(); rmSync(profile, { recursive: true, force: true }); } };
}

const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];

/** `DashboardStore.push` alone on 1,000 keys with full rings, warm (main-thread CPU) and with the caches flushed (wall, per batch). */
function pushAlone(batches: number): void {
  const store = new DashboardStore();
  const n = 100_000;
  const events = Array.from({ length: n }, (_, i) => ({ key: `sensor-${i % 1000}`, x: [Math.sin(i / 7)], y: Float32Array.of(1, 2, 3, 4), score: i / n }));
  for (let r = 0; r < 4; r++) for (const e of events) store.push(e); // fill every ring (300 points per key)
  const ns: number[] = [];
  for (let r = 0; r < 7; r++) {
    const c0 = threadCpuNs();
    for (const e of events) store.push(e);
    ns.push((threadCpuNs() - c0) / n);
  }
  if (!Number.isNaN(ns[0])) console.log(`DashboardStore.push alone, 1,000 keys, full rings: ${median(ns).toFixed(0)} ns/event main-thread CPU (median of 7 x ${n})`);
  // Cold: a pipeline's own work between batches evicts the rings from the caches. Sweep 32 MB,
  // touch the batch's events (a pipeline has just made them), then push 1,024 events and file them.
  const sweep = new Float64Array(4 << 20);
  const batch = 1024;
  const perBatch: number[] = [];
  for (let b = 0; b < batches; b++) {
    for (let i = 0; i < sweep.length; i += 8) sweep[i]++;
    let touch = 0;
    for (let i = 0; i < batch; i++) {
      const e = events[(b * batch + i) % n];
      touch += e.key.length + e.x[0] + e.y[0] + e.score;
    }
    const t0 = performance.now();
    for (let i = 0; i < batch; i++) store.push(events[(b * batch + i) % n]);
    if (store.size < 0 || touch < 0) break; // size files the batch
    perBatch.push(((performance.now() - t0) * 1e6) / batch);
  }
  console.log(`DashboardStore.push, caches flushed between batches of ${batch}: ${median(perBatch).toFixed(0)} ns/event (median over ${batches} batches, wall)`);
}

export async function run(options: { quick?: boolean } = {}): Promise<void> {
  const runMs = options.quick ? 300 : 1000;
  const rounds = options.quick ? 5 : 7;
  const keys = 1000;
  const browser = await launch();
  if (!browser) console.log(`${CHROMIUM} not found: no page connected (server-side cost only, no frame times)`);
  console.log(`server side, ${keys} keys, recurrentByKey LSTM I=4 -> H -> 4, runs of ~${runMs} ms CPU, ${rounds} rounds (variants back to back, order rotating); median per-round ratio to the plain subscriber, wall clock | main-thread CPU:`);
  console.log('  | H | events per run | plain µs/event (wall / CPU) | + dashboard, no page: wall | CPU | + dashboard, page connected: wall | CPU (goal <= 1.2x) |');
  console.log('  |---|---|---|---|---|---|---|');
  for (const hiddenSize of [32, 128]) {
    const model = RecurrentModel.create({ cell: 'lstm', inputSize: 4, hiddenSize, head: { outputSize: 4 }, seed: 1 });
    const lonely = new DashboardServer({ updateIntervalMs: 250 });
    await lonely.listen();
    const board = new DashboardServer({ updateIntervalMs: 250 });
    const url = await board.listen();
    const page = browser ? await browser.newPage() : null;
    if (page) {
      await page.goto(url);
      board.push({ key: 'sensor-7', x: [0] });
      await page.waitForSelector('.row[data-key]');
    }
    await pipeline(model, 20_000, keys, null); // warm-up (JIT, kernel, step pool)
    await pipeline(model, 20_000, keys, (e) => lonely.push(e));
    const warm = await pipeline(model, 40_000, keys, null); // sizing
    // Sized by CPU time where it is known: a loaded machine stretches wall time, not the work.
    const perEvent = Number.isNaN(warm.cpu) ? warm.wall : warm.cpu;
    const events = Math.max(20_000, Math.min(2_000_000, Math.round((runMs * 1000) / perEvent / 1000) * 1000));
    const variants: Array<[string, Sink]> = [['plain', null], ['alone', (e) => lonely.push(e)]];
    if (page) variants.push(['watched', (e) => board.push(e)]);
    const results = new Map<string, Array<{ wall: number; cpu: number }>>(variants.map(([name]) => [name, []]));
    for (let r = 0; r < rounds; r++) {
      for (let v = 0; v < variants.length; v++) {
        const [name, sink] = variants[(v + r) % variants.length];
        results.get(name)!.push(await pipeline(model, events, keys, sink));
      }
    }
    const plain = results.get('plain')!;
    const ratio = (name: string) => {
      const runs = results.get(name);
      if (!runs) return '-';
      const wall = median(runs.map((x, i) => x.wall / plain[i].wall));
      const cpu = median(runs.map((x, i) => x.cpu / plain[i].cpu));
      return `${wall.toFixed(2)}x | ${Number.isNaN(cpu) ? '-' : cpu.toFixed(2) + 'x'}`;
    };
    console.log(`  | ${hiddenSize} | ${events} | ${median(plain.map((x) => x.wall)).toFixed(2)} / ${median(plain.map((x) => x.cpu)).toFixed(2)} | ${ratio('alone')} | ${ratio('watched')} |`);
    await page?.close();
    await board.close();
    await lonely.close();
  }
  pushAlone(options.quick ? 100 : 300);

  if (!browser) return;
  // Browser frame time with 10,000 live keys.
  const KEYS = 10_000;
  const big = new DashboardServer({ historyPoints: 100 });
  const bigUrl = await big.listen();
  for (let r = 0; r < 10; r++) for (let k = 0; k < KEYS; k++) big.push({ key: `sensor-${k}`, x: [Math.sin(r + k)], score: Math.random() });
  let tick = 0;
  const perTick = 2000;
  const feed = setInterval(() => {
    for (let n = 0; n < perTick; n++, tick++) big.push({ key: `sensor-${(tick * 7919) % KEYS}`, x: [Math.sin(tick / 9)], score: (tick % 1000) / 1000 });
  }, 100);
  const p = await browser.newPage();
  await p.addInitScript(() => {
    const w = window as unknown as { __longtasks: number[] };
    w.__longtasks = [];
    new PerformanceObserver((list) => { for (const e of list.getEntries()) w.__longtasks.push(e.duration); }).observe({ type: 'longtask', buffered: true });
  });
  await p.goto(bigUrl);
  await p.waitForSelector('.row[data-key]');
  const firstRows = await p.evaluate(() => (window as unknown as { __dashboard: { firstRowsAt: number } }).__dashboard.firstRowsAt);
  const seconds = options.quick ? 3 : 8;
  // A string, so the bundler's helpers (keepNames) never reach the page.
  const frames = (await p.evaluate(`new Promise((res) => {
    const out = [];
    let last = performance.now();
    const end = last + ${seconds * 1000};
    requestAnimationFrame(function frame(t) {
      out.push(t - last);
      last = t;
      if (t < end) requestAnimationFrame(frame);
      else res(out);
    });
  })`)) as number[];
  const longest = await p.evaluate(() => Math.max(0, ...(window as unknown as { __longtasks: number[] }).__longtasks));
  clearInterval(feed);
  const q = (x: number) => [...frames].sort((a, b) => a - b)[Math.floor(x * (frames.length - 1))];
  console.log(`browser, ${KEYS} keys, ${perTick * 10} events/s, ${seconds} s: first rows ${firstRows.toFixed(0)} ms after navigation; frame interval p50 ${q(0.5).toFixed(1)} ms, p95 ${q(0.95).toFixed(1)} ms, p99 ${q(0.99).toFixed(1)} ms, max ${Math.max(...frames).toFixed(1)} ms; longest main-thread task ${longest.toFixed(0)} ms; last tick ${(await p.evaluate(() => (window as unknown as { __dashboard: { lastTickBytes: number } }).__dashboard.lastTickBytes) / 1024).toFixed(1)} KiB`);
  await p.close();
  await big.close();
  await browser.close();
}

if (import.meta.url === pathToFileURL(resolve(process.argv[1] ?? '')).href) {
  await run({ quick: process.argv.includes('--quick') });
}
