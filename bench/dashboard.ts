/**
 * Dashboard cost. (1) Server side: the same keyed pipeline (1,000 keys, LSTM I=4 H=32 with a head
 * of 4, `recurrentByKey`, prediction error as the score) fed in chunks that yield to the event loop,
 * once with a plain subscriber (the baseline) and once pushing every output into a
 * `DashboardServer` with a page connected in chromium (ticks, row sorting and the selected
 * stream's points all included), rounds alternated, medians compared in the same run.
 * (2) Browser: frame times of the page with 10,000 live keys (requestAnimationFrame intervals and
 * the longest main-thread task, PerformanceObserver 'longtask').
 *
 *   npx tsx bench/dashboard.ts          (add --quick for the short run)
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { map, Observable, tap } from 'rxjs';
import { RecurrentModel } from '../src/cells/index.js';
import { DashboardServer } from '../src/dashboard/index.js';
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

async function pipeline(model: RecurrentModel, events: number, keys: number, sink: ((e: { key: string; x: number[]; y: Float32Array; score: number }) => void) | null): Promise<number> {
  const last = new Map<string, number>();
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
  return ((performance.now() - t0) * 1000) / events; // µs per event
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

export async function run(options: { quick?: boolean } = {}): Promise<void> {
  const events = options.quick ? 40_000 : 100_000;
  const rounds = options.quick ? 3 : 5;
  const keys = 1000;
  const browser = await launch();
  if (!browser) console.log(`${CHROMIUM} not found: no page connected (server-side cost only, no frame times)`);
  console.log(`server side, ${keys} keys, recurrentByKey LSTM I=4 -> H -> 4, ${events} events per run, ${rounds} rounds alternated, median µs/event:`);
  console.log('  | H | plain subscriber (baseline) | + dashboard, no page | + dashboard, page connected | ratio no page | ratio with page (goal <= 1.2x) |');
  console.log('  |---|---|---|---|---|---|');
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
    await pipeline(model, 10_000, keys, null); // warm-up (JIT, kernel, step pool)
    const plain: number[] = [];
    const alone: number[] = [];
    const watched: number[] = [];
    for (let r = 0; r < rounds; r++) {
      plain.push(await pipeline(model, events, keys, null));
      alone.push(await pipeline(model, events, keys, (e) => lonely.push(e)));
      if (page) watched.push(await pipeline(model, events, keys, (e) => board.push(e)));
    }
    const [p, a, w] = [median(plain), median(alone), page ? median(watched) : NaN];
    console.log(`  | ${hiddenSize} | ${p.toFixed(2)} | ${a.toFixed(2)} | ${page ? w.toFixed(2) : '-'} | ${(a / p).toFixed(2)}x | ${page ? (w / p).toFixed(2) + 'x' : '-'} |`);
    await page?.close();
    await board.close();
    await lonely.close();
  }

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
