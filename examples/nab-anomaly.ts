/**
 * Streams NAB (Numenta Anomaly Benchmark) series through the sensor pipeline:
 *
 *   sensorFile (CSV) -> standardize() -> LSTM state (model step) -> online linear readout
 *   predicting the next standardized value -> prediction error -> anomaly score in [0, 1]
 *
 * The LSTM is random and untrained (training is issue 3's work): it serves as a fixed nonlinear
 * memory of the recent past, and only a linear readout on its hidden state learns, online, by
 * normalised LMS. The score is the Gaussian tail position of the current prediction error among
 * recent errors. It follows NAB's rules (online, no look-ahead, one parameter set for all files,
 * fresh state per file) but this is NOT NAB's scorer: the summary only compares scores inside and
 * outside the labelled anomaly windows, and how many of each file's top 1% rows fall inside them.
 *
 *   npx tsx examples/nab-anomaly.ts                      # one file (machine temperature)
 *   npx tsx examples/nab-anomaly.ts realTraffic/speed_7578.csv
 *   npx tsx examples/nab-anomaly.ts --all                # all 58 files, one summary table
 *
 * Reads the corpus from ../shared/datasets/nab (or $NAB_DIR); skips with a message when absent.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { lastValueFrom, map, reduce } from 'rxjs';
import { sensorFile } from 'seqstream/adapters/sensorFile';
import { createFusedStepper } from 'seqstream/kernels';
import { RecurrentModel } from 'seqstream/cells';
import { standardize } from 'seqstream/streams';

const here = dirname(fileURLToPath(import.meta.url));
const nabDir = process.env.NAB_DIR ?? resolve(here, '../../shared/datasets/nab');

/** One parameter set for every file (NAB rule 2). */
const PARAMS = { hiddenSize: 32, seed: 7, learningRate: 0.05, errorWindow: 500, clip: 10 } as const;

interface Row {
  timestamp: number;
  value: number;
  /** How many recent-error standard deviations the current |error| is above their mean. */
  sigma: number;
  score: number;
}

function erf(x: number): number {
  // Abramowitz & Stegun 7.1.26, |error| < 1.5e-7: plenty for a score.
  const s = Math.sign(x);
  const t = 1 / (1 + 0.3275911 * Math.abs(x));
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return s * y;
}

/** Scores one file, streaming it once. Fresh model, state and statistics per file (NAB rule 3). */
async function scoreFile(path: string): Promise<{ rows: Row[]; ms: number }> {
  const H = PARAMS.hiddenSize;
  const model = RecurrentModel.create({ cell: 'lstm', inputSize: 1, hiddenSize: H, seed: PARAMS.seed });
  const stepper = createFusedStepper(model);
  const state = model.createState();
  const w = new Float64Array(H + 1); // readout on [h, 1]
  const phi = new Float64Array(H + 1);
  phi[H] = 1;
  let prediction = 0;
  let errMean = 0;
  let errVar = 1;
  let n = 0;
  const start = performance.now();
  const rows = await lastValueFrom(
    sensorFile(path, { format: 'csv' }).pipe(
      standardize({ clip: PARAMS.clip }),
      map((e): Row => {
        const z = e.x[0];
        // 1. Error of the prediction made from the previous hidden state, then learn from it (NLMS).
        const err = z - prediction;
        let norm = 1e-6;
        for (let i = 0; i <= H; i++) norm += phi[i] * phi[i];
        for (let i = 0; i <= H; i++) w[i] += (PARAMS.learningRate * err * phi[i]) / norm;
        // 2. Where does |err| sit among recent errors? Exponentially weighted mean/variance.
        const a = Math.abs(err);
        n += 1;
        const alpha = Math.max(1 / n, 1 / PARAMS.errorWindow);
        const sd = Math.sqrt(errVar) || 1;
        const sigma = n < 10 ? 0 : (a - errMean) / sd;
        const score = 0.5 * (1 + erf(sigma / Math.SQRT2));
        const d = a - errMean;
        errMean += alpha * d;
        errVar = (1 - alpha) * (errVar + alpha * d * d);
        // 3. Advance the LSTM with this reading and predict the next one.
        const h = stepper.stepInPlace(state, e.x);
        prediction = w[H];
        for (let i = 0; i < H; i++) {
          phi[i] = h[i];
          prediction += w[i] * h[i];
        }
        return { timestamp: e.timestamp, value: z, sigma, score };
      }),
      reduce((acc, r) => (acc.push(r), acc), [] as Row[]),
    ),
  );
  return { rows, ms: performance.now() - start };
}

function parseWindowTime(s: string): number {
  return Date.parse(s.replace(' ', 'T').slice(0, 23) + 'Z');
}

interface Summary {
  file: string;
  rows: number;
  eventsPerSecond: number;
  inWindow: number;
  outside: number;
  /** Scored rows inside windows, and how many of the top 1% (by sigma) are inside. */
  scored: number;
  windowRows: number;
  top: number;
  topInWindow: number;
}

function summarize(file: string, rows: Row[], ms: number, windows: [string, string][]): Summary {
  const probation = Math.min(Math.floor(0.15 * rows.length), 750); // NAB rule 4
  const spans = windows.map(([a, b]) => [parseWindowTime(a), parseWindowTime(b)] as const);
  const inside = (t: number) => spans.some(([a, b]) => t >= a && t <= b);
  const scored = rows.slice(probation);
  let inSum = 0, inN = 0, outSum = 0, outN = 0;
  for (const r of scored) {
    if (inside(r.timestamp)) (inSum += r.score), inN++;
    else (outSum += r.score), outN++;
  }
  const top = [...scored].sort((a, b) => b.sigma - a.sigma).slice(0, Math.max(1, Math.round(0.01 * scored.length)));
  return {
    file,
    rows: rows.length,
    eventsPerSecond: rows.length / (ms / 1000),
    inWindow: inN ? inSum / inN : NaN,
    outside: outN ? outSum / outN : NaN,
    scored: scored.length,
    windowRows: inN,
    top: top.length,
    topInWindow: top.filter((r) => inside(r.timestamp)).length,
  };
}

const pct = (v: number) => (Number.isFinite(v) ? `${(100 * v).toFixed(1)}%` : '-');

async function main(): Promise<void> {
  if (!existsSync(join(nabDir, 'data'))) {
    console.log(`NAB corpus not found at ${nabDir} (set NAB_DIR, or place it at ../shared/datasets/nab); skipping.`);
    return;
  }
  const labels = JSON.parse(readFileSync(join(nabDir, 'labels/combined_windows.json'), 'utf8')) as Record<string, [string, string][]>;
  const arg = process.argv[2];
  const files =
    arg === '--all'
      ? readdirSync(join(nabDir, 'data')).flatMap((c) => readdirSync(join(nabDir, 'data', c)).filter((f) => f.endsWith('.csv')).map((f) => `${c}/${f}`)).sort()
      : [arg ?? 'realKnownCause/machine_temperature_system_failure.csv'];
  console.log(`LSTM H=${PARAMS.hiddenSize} (random, seed ${PARAMS.seed}) + online NLMS readout; score = Gaussian tail of |prediction error|`);
  const summaries: Summary[] = [];
  for (const file of files) {
    const path = join(nabDir, 'data', file);
    if (!existsSync(path)) throw new Error(`No such NAB file: ${file}`);
    const { rows, ms } = await scoreFile(path);
    const s = summarize(file, rows, ms, labels[file] ?? []);
    summaries.push(s);
    if (files.length === 1) {
      const top = rows.map((r, i) => ({ ...r, i })).sort((a, b) => b.sigma - a.sigma).slice(0, 5);
      console.log(`\n${file}: ${s.rows} rows, ${Math.round(s.eventsPerSecond)} events/s (parse + standardize + LSTM step + readout)`);
      console.log('highest scores:');
      for (const r of top) console.log(`  row ${r.i + 2}  ${new Date(r.timestamp).toISOString().slice(0, 19)}  z=${r.value.toFixed(2)}  error ${r.sigma.toFixed(1)} sd above recent  score=${r.score.toFixed(5)}`);
    }
  }
  console.log('');
  console.table(
    summaries.map((s) => ({
      file: s.file.length > 48 ? '…' + s.file.slice(-47) : s.file,
      rows: s.rows,
      'events/s': Math.round(s.eventsPerSecond),
      'mean score in windows': Number(s.inWindow.toFixed(3)),
      'mean score outside': Number(s.outside.toFixed(3)),
      'rows in windows': pct(s.windowRows / s.scored),
      'top 1% in windows': pct(s.topInWindow / s.top),
    })),
  );
  if (summaries.length > 1) {
    const sum = (f: (s: Summary) => number) => summaries.reduce((a, s) => a + f(s), 0);
    const base = sum((s) => s.windowRows) / sum((s) => s.scored);
    const topShare = sum((s) => s.topInWindow) / sum((s) => s.top);
    console.log(
      `${summaries.length} files, ${sum((s) => s.rows)} rows, ${Math.round(sum((s) => s.rows) / (sum((s) => s.rows / s.eventsPerSecond)))} events/s overall. ` +
        `Top-1% rows in anomaly windows: ${pct(topShare)} vs ${pct(base)} of all scored rows (lift ${(topShare / base).toFixed(2)}; 1.00 = no signal).`,
    );
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
