/**
 * Sensor source throughput: how much the sensor file source (line framing, offsets, mapping,
 * policies) costs over a bare `readline` + `split` loop reading the same file, and what the
 * quoted-CSV path (csv-parse per line) and `standardize()` add.
 *
 *   npx tsx bench/sensors.ts          # 1,000,000 rows
 *   npx tsx bench/sensors.ts --quick  # 200,000 rows
 */
import { createReadStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { lastValueFrom, reduce } from 'rxjs';
import { sensorFile } from '../src/adapters/sensorFile.js';
import { standardize } from '../src/streams/standardize.js';

async function baseline(path: string): Promise<number> {
  let n = 0;
  let sum = 0;
  let header = true;
  for await (const line of createInterface({ input: createReadStream(path), crlfDelay: Infinity })) {
    if (header) {
      header = false;
      continue;
    }
    const f = line.split(',');
    sum += Number(f[2]);
    n++;
  }
  if (Number.isNaN(sum)) throw new Error('bad data');
  return n;
}

const count = <T>(o: import('rxjs').Observable<T>) => lastValueFrom(o.pipe(reduce((n) => n + 1, 0)));

export async function run(options: { quick?: boolean } = {}): Promise<void> {
  const rows = options.quick ? 200_000 : 1_000_000;
  const dir = mkdtempSync(join(tmpdir(), 'seqstream-bench-sensors-'));
  try {
    const csv: string[] = ['key,timestamp,value'];
    const quoted: string[] = ['"key","timestamp","value"'];
    const ndjson: string[] = [];
    for (let i = 0; i < rows; i++) {
      const key = `s${i % 16}`;
      const v = (Math.sin(i / 50) * 20 + 50).toFixed(4);
      csv.push(`${key},${i},${v}`);
      quoted.push(`"${key}","${i}","${v}"`);
      ndjson.push(`{"key":"${key}","timestamp":${i},"value":${v}}`);
    }
    const files = { csv: join(dir, 'a.csv'), quoted: join(dir, 'q.csv'), ndjson: join(dir, 'a.ndjson') };
    writeFileSync(files.csv, csv.join('\n') + '\n');
    writeFileSync(files.quoted, quoted.join('\n') + '\n');
    writeFileSync(files.ndjson, ndjson.join('\n') + '\n');

    const cases: [string, () => Promise<number>][] = [
      ['baseline: readline + split + Number', () => baseline(files.csv)],
      ['sensorFile csv', () => count(sensorFile(files.csv, { key: 'key' }))],
      ["sensorFile csv, order 'drop'", () => count(sensorFile(files.csv, { key: 'key', order: 'drop' }))],
      ['sensorFile csv + standardize()', () => count(sensorFile(files.csv, { key: 'key' }).pipe(standardize()))],
      ['sensorFile csv, every field quoted (csv-parse path)', () => count(sensorFile(files.quoted, { key: 'key' }))],
      ['sensorFile ndjson', () => count(sensorFile(files.ndjson, { key: 'key' }))],
    ];
    const results: { case: string; 'rows/s': number; 'time vs baseline': string }[] = [];
    let base = 0;
    for (const [name, fn] of cases) {
      await fn(); // warm-up
      let best = Infinity;
      for (let r = 0; r < (options.quick ? 2 : 3); r++) {
        const t = performance.now();
        const n = await fn();
        best = Math.min(best, performance.now() - t);
        if (n !== rows) throw new Error(`${name}: ${n} rows, expected ${rows}`);
      }
      if (!base) base = best;
      results.push({ case: name, 'rows/s': Math.round(rows / (best / 1000)), 'time vs baseline': `${(best / base).toFixed(2)}x` });
    }
    console.log(`Sensor sources, ${rows} rows (best of ${options.quick ? 2 : 3}, same process)`);
    console.table(results);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  run({ quick: process.argv.includes('--quick') }).catch((e) => {
    console.error(e);
    process.exitCode = 1;
  });
}
