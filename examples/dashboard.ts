/**
 * Watch a live keyed pipeline in the browser: 20 machines' readings -> the anomaly detector ->
 * `dashboard()`, one line at the end of the pipe. Open the URL it prints; machine-7 gets a fault
 * every 5 s. Runs for 8 seconds by default (`npx tsx examples/dashboard.ts 600` for ten minutes).
 */
import { interval, map, mergeMap, range, take } from 'rxjs';
import { dashboard } from 'seqstream/dashboard';
import { detectAnomalies } from 'seqstream/detection';

const seconds = Number(process.argv[2] ?? 8);
const start = Date.now();
let alerts = 0;
let events = 0;
const alerted = new Set<string | number>();

interval(50)
  .pipe(
    take(seconds * 20),
    mergeMap((step) =>
      range(0, 20).pipe(
        map((k) => ({
          key: `machine-${k}`,
          timestamp: start + step * 50,
          x: Math.sin(step / (8 + k)) + 0.05 * Math.sin(step * 12.9898 + k) + (k === 7 && step % 100 > 94 ? 2 : 0),
        })),
      ),
    ),
    // range: what the machines can read. maxContexts 0: the contextual member (on by default) takes
    // a sequence of levels it has never seen as an anomaly, and these 100 learning readings do not
    // cover a whole cycle of the slower machines (period up to 2π × 27 ≈ 170 readings).
    // calendar and seasonalDays off: these cycles last seconds, so the time of day and week means
    // nothing here (with them on, the scores depended on the hour the example was started).
    detectAnomalies({ learningPeriod: 100, range: { min: -1.2, max: 1.2 }, threshold: 0.6, maxContexts: 0, calendar: false, seasonalDays: 0 }),
    dashboard({ onListening: (url) => console.error(`dashboard: ${url}`) }), // <- the page
  )
  .subscribe({
    next: (e) => {
      events++;
      if (e.alert) {
        alerts++;
        alerted.add(e.key);
      }
    },
    complete: () => console.log(`${events} readings scored, ${alerts} alerts (${[...alerted].join(', ')}); the page closed with the stream`),
  });
