import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { lastValueFrom, type Observable, tap } from 'rxjs';
import { sensorFile, type SensorEvent } from '../adapters/sensorFile.js';
import { sensorReadable } from '../adapters/sensorReadable.js';
import { detectAnomalies } from '../detection/detectAnomalies.js';
import { detectAnomaliesParallel, type DetectAnomaliesParallelOptions } from '../detection/detectAnomaliesParallel.js';
import { FILE_DETECTOR_OPTIONS, type ValueRange } from '../detection/detectorOptions.js';
import type { SeqstreamError } from '../errors.js';
import { UsageError } from './cliContext.js';
import { createDetectProgress, type DetectProgress } from './detectProgress.js';
import { rowFormat } from './detectRows.js';

/** Options of {@link runDetect} (the `seqstream detect` flags without `--nab`). */
export interface DetectCommandOptions {
  /** Files or folders (searched for .csv, .ndjson, .jsonl); none = stdin. */
  inputs: string[];
  /** Input format. Default: by extension (.csv -> csv, else ndjson); stdin ndjson. */
  format?: 'csv' | 'ndjson';
  /** Output format. Default: the input's. */
  outputFormat?: 'csv' | 'ndjson';
  /** Key field. Default none: one stream per file (stdin: one stream). */
  key?: string;
  /** Timestamp field, or null for arrival time. Default `'timestamp'`. */
  timestamp?: string | null;
  /** Value field. Default `'value'`. */
  value?: string;
  /** Adds `alert` (score >= threshold). Default none. */
  threshold?: number;
  /** Detector learning period. Default 300. */
  learningPeriod?: number;
  /** Known value range of every stream. Default none. */
  range?: ValueRange;
  /** Contexts kept by the contextual member per stream (0 = off). Default 1024 (`FILE_DETECTOR_OPTIONS`). */
  maxContexts?: number;
  /** Detector threads: above 1, keys are spread over that many worker threads (`detectAnomaliesParallel`, same scores). Default 1. */
  threads?: number;
  /** Draw a progress bar on stderr. */
  progress: boolean;
}

/** What {@link runDetect} counted. */
export interface DetectSummary {
  files: number;
  rows: number;
  rejected: number;
  seconds: number;
}

const INPUT_FILE = /\.(csv|ndjson|jsonl|json)$/i;

/** Files of the inputs, folders searched recursively, in name order. */
export function listInputFiles(inputs: string[]): string[] {
  const files: string[] = [];
  const walk = (path: string, top: boolean) => {
    let st;
    try {
      st = statSync(path);
    } catch {
      throw new UsageError(`no such file or folder: ${path}`);
    }
    if (st.isDirectory()) for (const name of readdirSync(path).sort()) walk(join(path, name), false);
    else if (top || INPUT_FILE.test(path)) files.push(path);
  };
  for (const input of inputs) walk(input, true);
  return files;
}

/**
 * One input through `detectAnomalies` (or, with `threads` above 1, `detectAnomaliesParallel`),
 * each scored row handed to `write`. Fresh detectors per call (NAB: fresh state per file).
 */
export async function scoreStream(
  source: Observable<SensorEvent>,
  detector: DetectAnomaliesParallelOptions<string>,
  progress: DetectProgress,
  write: (event: SensorEvent, score: number, alert: boolean) => void,
): Promise<number> {
  let rows = 0;
  const threads = detector.threads ?? 1;
  await lastValueFrom(
    source.pipe(
      threads > 1 ? detectAnomaliesParallel<string, SensorEvent & { x: number[] }>(detector) : detectAnomalies<string, SensorEvent & { x: number[] }>(detector),
      tap((d) => {
        rows++;
        write(d.event, d.score, d.alert);
        progress.update(d.event.byteOffset, rows);
      }),
    ),
    { defaultValue: undefined },
  );
  return rows;
}

/**
 * `seqstream detect [inputs...]`: CSV/NDJSON files, folders or stdin -> one anomaly detector per
 * key (per file without `--key`) -> every row as written plus `anomaly_score` (and `alert`) on
 * stdout. Bad rows are reported on stderr as `{"error":"<code>",...}` and skipped.
 *
 * @example
 * ```ts
 * // seqstream detect readings.csv --threshold 0.6 > scored.csv
 * await runDetect({ inputs: ['readings.csv'], threshold: 0.6, progress: false }, process.stdin, console.log, console.error);
 * ```
 */
export async function runDetect(
  options: DetectCommandOptions,
  stdin: Readable,
  print: (line: string) => void,
  printError: (line: string) => void,
): Promise<DetectSummary> {
  const start = performance.now();
  const summary: DetectSummary = { files: 0, rows: 0, rejected: 0, seconds: 0 };
  const report = (e: SeqstreamError) => {
    summary.rejected++;
    const d = e.details as { source?: string; line?: number };
    printError(JSON.stringify({ error: e.code, message: e.message, ...(d.source ? { source: d.source } : {}), ...(d.line !== undefined ? { line: d.line } : {}) }));
  };
  const detector: DetectAnomaliesParallelOptions<string> = {
    threads: options.threads,
    threshold: options.threshold ?? 0.6,
    learningPeriod: options.learningPeriod,
    range: options.range,
    maxContexts: options.maxContexts ?? FILE_DETECTOR_OPTIONS.maxContexts,
    onError: (e) => report(e),
  };
  const mapping = { key: options.key, timestamp: options.timestamp === undefined ? 'timestamp' : options.timestamp, value: options.value ?? 'value', keepRecord: true, invalidInput: 'skip' as const, onError: report };
  const withAlert = options.threshold !== undefined;
  let lastHeader: string | null = null;
  const writer = (inputFormat: 'csv' | 'ndjson') => {
    const out = rowFormat(options.outputFormat ?? inputFormat, withAlert);
    return (event: SensorEvent, score: number, alert: boolean) => {
      const header = out.header(Object.keys(event.record ?? {}));
      if (header !== null && header !== lastHeader) print((lastHeader = header));
      print(out.row(event, inputFormat, score, withAlert ? alert : null));
    };
  };

  if (options.inputs.length === 0) {
    const format = options.format ?? 'ndjson';
    const source = sensorReadable(stdin, { name: 'stdin', defaultKey: 'stdin', format, ...mapping });
    summary.rows = await scoreStream(source, detector, createDetectProgress(false, 1, 0), writer(format));
  } else {
    const files = listInputFiles(options.inputs);
    const progress = createDetectProgress(options.progress, files.length, files.reduce((n, f) => n + statSync(f).size, 0));
    try {
      for (const file of files) {
        const format = options.format ?? (/\.csv$/i.test(file) ? 'csv' : 'ndjson');
        summary.rows += await scoreStream(sensorFile(file, { format, ...mapping }), detector, progress, writer(format));
        summary.files++;
        progress.fileDone(statSync(file).size);
      }
    } finally {
      progress.stop();
    }
  }
  summary.seconds = (performance.now() - start) / 1000;
  return summary;
}
