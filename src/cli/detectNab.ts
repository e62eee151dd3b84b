import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { sensorFile } from '../adapters/sensorFile.js';
import { FILE_DETECTOR_OPTIONS, type DetectorOptions } from '../detection/detectorOptions.js';
import { UsageError } from './cliContext.js';
import { scoreStream, type DetectSummary } from './detectCommand.js';
import { createDetectProgress } from './detectProgress.js';

/** Options of {@link runDetectNab}. */
export interface DetectNabOptions {
  /** NAB's `data/` folder (`<category>/<name>.csv`). */
  dataDir: string;
  /** Results folder: `<out>/<category>/<detector>_<name>.csv` is written. */
  outDir: string;
  /** Detector name in the file names. Default `'seqstream'`. */
  detector?: string;
  /** Detector parameters (one set for every file). Default `FILE_DETECTOR_OPTIONS` (the library defaults with the contextual member on). */
  parameters?: DetectorOptions;
  progress: boolean;
}

/** What NAB's rules let a detector know of a file before it starts: its range and probation. */
export interface NabFileFacts {
  rows: number;
  min: number;
  max: number;
  /** min(floor(0.15 * rows), 750) (NAB's probationary period). */
  probation: number;
}

/** Reads a NAB data file's row count, minimum and maximum (NAB's detector base class hands these over). */
export function nabFileFacts(path: string): NabFileFacts {
  const lines = readFileSync(path, 'utf8').split(/\r?\n/);
  let rows = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    if (line.trim() === '') continue;
    const v = Number(line.slice(line.lastIndexOf(',') + 1));
    rows++;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return { rows, min, max, probation: Math.min(Math.floor(0.15 * rows), 750) };
}

/**
 * `seqstream detect --nab <data> --out <results>`: every NAB data file on its own, as NAB's
 * rules demand (fresh detector per file, one parameter set, online; only the file's min/max and
 * probationary length known), written in NAB's result layout with header
 * `timestamp,value,anomaly_score` and the data file's rows in the same order, timestamp and value
 * text as written (repeated and backward timestamps included).
 *
 * @example
 * ```ts
 * await runDetectNab({ dataDir: 'nab/data', outDir: 'results/seqstream', progress: true }, console.error);
 * ```
 */
export async function runDetectNab(options: DetectNabOptions, printError: (line: string) => void): Promise<DetectSummary> {
  const start = performance.now();
  const detector = options.detector ?? 'seqstream';
  if (!existsSync(options.dataDir) || !statSync(options.dataDir).isDirectory()) throw new UsageError(`--nab must be NAB's data folder: ${options.dataDir}`);
  const files: { category: string; path: string }[] = [];
  for (const category of readdirSync(options.dataDir).sort()) {
    const dir = join(options.dataDir, category);
    if (!statSync(dir).isDirectory()) continue;
    for (const name of readdirSync(dir).sort()) if (name.endsWith('.csv')) files.push({ category, path: join(dir, name) });
  }
  if (files.length === 0) throw new UsageError(`no <category>/<name>.csv files under ${options.dataDir}`);
  const progress = createDetectProgress(options.progress, files.length, files.reduce((n, f) => n + statSync(f.path).size, 0));
  const summary: DetectSummary = { files: 0, rows: 0, rejected: 0, seconds: 0 };
  try {
    for (const { category, path } of files) {
      const facts = nabFileFacts(path);
      const lines: string[] = ['timestamp,value,anomaly_score'];
      const source = sensorFile(path, { format: 'csv', keepRecord: true, timestamp: 'timestamp', value: 'value', invalidInput: 'error' });
      const rows = await scoreStream(source, { ...(options.parameters ?? FILE_DETECTOR_OPTIONS), range: { min: facts.min, max: facts.max }, learningPeriod: facts.probation, invalidInput: 'error' }, progress, (e, score) => {
        const r = e.record as { timestamp: string; value: string };
        lines.push(`${r.timestamp},${r.value},${score}`);
      });
      if (rows !== facts.rows) printError(`seqstream detect: ${path}: ${rows} rows scored of ${facts.rows}`);
      await mkdir(join(options.outDir, category), { recursive: true });
      await writeFile(join(options.outDir, category, `${detector}_${basename(path)}`), lines.join('\n') + '\n');
      summary.rows += rows;
      summary.files++;
      progress.fileDone(statSync(path).size);
    }
  } finally {
    progress.stop();
  }
  summary.seconds = (performance.now() - start) / 1000;
  return summary;
}
