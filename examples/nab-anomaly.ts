/**
 * Scores one NAB (Numenta Anomaly Benchmark) series with seqstream's anomaly detector, as NAB's
 * rules allow: online, fresh state, the file's min/max and probationary length known.
 *
 *   sensorFile (CSV) -> detectAnomalies (GRU forecaster + likelihood + contextual member, as seqstream detect)
 *
 *   npx tsx examples/nab-anomaly.ts                              # machine temperature
 *   npx tsx examples/nab-anomaly.ts realTraffic/speed_7578.csv
 *
 * The whole corpus in NAB's result layout, then NAB's scoring:
 *   npx seqstream detect --nab ../shared/datasets/nab/data --out results/seqstream
 *   python3 ../shared/datasets/nab/score.py results/seqstream --detector seqstream --strict-timestamps
 *
 * Reads the corpus from ../shared/datasets/nab (or $NAB_DIR); skips with a message when absent.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { lastValueFrom, toArray } from 'rxjs';
import { sensorFile } from 'seqstream/adapters/sensorFile';
import { detectAnomalies, FILE_DETECTOR_OPTIONS } from 'seqstream/detection';

const here = dirname(fileURLToPath(import.meta.url));
const nabDir = process.env.NAB_DIR ?? resolve(here, '../../shared/datasets/nab');
const file = process.argv[2] ?? 'realKnownCause/machine_temperature_system_failure.csv';
const path = join(nabDir, 'data', file);

if (!existsSync(join(nabDir, 'data'))) {
  console.log(`NAB corpus not found at ${nabDir} (set NAB_DIR, or place it at ../shared/datasets/nab); skipping.`);
} else if (!existsSync(path)) {
  throw new Error(`No such NAB file: ${file}`);
} else {
  // All NAB lets a detector know up front: the file's min/max and its probationary length.
  const values = readFileSync(path, 'utf8').trim().split(/\r?\n/).slice(1).map((line) => Number(line.split(',')[1]));
  const facts = { min: Math.min(...values), max: Math.max(...values), probation: Math.min(Math.floor(0.15 * values.length), 750) };
  const start = performance.now();
  const scored = await lastValueFrom(
    sensorFile(path, { format: 'csv' }).pipe(
      detectAnomalies({ ...FILE_DETECTOR_OPTIONS, range: { min: facts.min, max: facts.max }, learningPeriod: facts.probation, threshold: 0.75 }),
      toArray(),
    ),
  );
  const seconds = (performance.now() - start) / 1000;
  console.log(`${file}: ${scored.length} rows, ${Math.round(scored.length / seconds)} events/s, ${scored.filter((e) => e.alert).length} alerts at score >= 0.75`);
  console.log('highest scores:');
  for (const e of [...scored].sort((a, b) => b.score - a.score).slice(0, 5)) {
    console.log(`  row ${e.count + 1}  ${new Date(e.timestamp!).toISOString().slice(0, 19)}  value ${e.x}${e.excursion ? '  (new extreme)' : ''}  score=${e.score.toFixed(4)}`);
  }
}
