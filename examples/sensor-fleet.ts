/**
 * A fleet of sensors on every core: 100 pumps report a temperature every 5 minutes, one anomaly
 * detector per pump (learning online), the pumps spread over worker threads by
 * `detectAnomaliesParallel`. Each detector learns for 750 readings (NAB's longest probation, 2.6
 * days here). Pump 17's cooling fails at reading 1000 (its temperature climbs); the example prints
 * the first alert of each pump that raises one, and the throughput.
 *   npx tsx examples/sensor-fleet.ts [threads]
 */
import { Subject } from 'rxjs';
import { detectAnomaliesParallel } from 'seqstream/detection';

const PUMPS = 100;
const READINGS = 1200;
const FAULTY = 'pump-17';
const threads = Number(process.argv[2] ?? 2);

/** Pump p's temperature at reading t: a daily cycle, its own offset and noise; pump 17 overheats from t = 1000. */
function temperature(p: number, t: number): number {
  const noise = Math.sin(p * 12.9898 + t * 78.233) * 43758.5453;
  const daily = 3 * Math.sin((2 * Math.PI * t) / 288 + p);
  const fault = p === 17 && t >= 1000 ? Math.min(12, 0.3 * (t - 1000)) : 0;
  return 60 + (p % 7) + daily + 0.4 * (noise - Math.floor(noise)) + fault;
}

const readings = new Subject<{ key: string; x: number; timestamp: number }>();
const firstAlert = new Map<string, number>();
const t0 = Date.UTC(2026, 0, 1);
let scored = 0;
const started = performance.now();
readings
  .pipe(detectAnomaliesParallel<string>({ threads, threshold: 0.8, learningPeriod: 750 }))
  .subscribe({
    next: (e) => {
      scored++;
      if (e.alert && !firstAlert.has(e.key)) firstAlert.set(e.key, (e.timestamp! - t0) / 300_000);
    },
    complete: () => {
      const seconds = (performance.now() - started) / 1000;
      for (const [key, t] of firstAlert) console.log(`alert ${key} at reading ${t}`);
      console.log(`${FAULTY} alerted: ${firstAlert.has(FAULTY) ? 'yes' : 'no'}; other pumps alerting: ${[...firstAlert.keys()].filter((k) => k !== FAULTY).length} of ${PUMPS - 1}`);
      console.log(`${scored} readings of ${PUMPS} pumps on ${threads} threads in ${seconds.toFixed(1)} s (${Math.round(scored / seconds)} readings/s)`);
    },
  });
for (let t = 0; t < READINGS; t++) {
  for (let p = 0; p < PUMPS; p++) readings.next({ key: `pump-${p}`, x: temperature(p, t), timestamp: t0 + t * 300_000 });
}
readings.complete();
