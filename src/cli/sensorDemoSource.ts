import { Observable } from 'rxjs';

/** One reading of the embedded multi-sensor demo. */
export interface DemoReading {
  key: string;
  /** Virtual event time: start + step × intervalMs (ms since the epoch). */
  timestamp: number;
  x: number[];
  /** Step number of this reading (every sensor reads once per step). */
  step: number;
  /** The fault being injected into this reading, if any. */
  fault: DemoFaultKind | null;
}

/** The kinds of fault the demo injects. */
export type DemoFaultKind = 'spike' | 'level-shift' | 'oscillation' | 'dropout';

/** One sensor of the demo plant: its signal and the fault injected into it once per cycle. */
export interface DemoSensor {
  key: string;
  /** Clean signal at step `i` (deterministic). */
  signal: (i: number) => number;
  fault: DemoFaultKind;
  /** Where in each cycle the fault starts, as a fraction of {@link DEMO_CYCLE}. */
  faultAt: number;
}

/** Steps per demo cycle: every sensor gets its fault once per cycle, then the cycle repeats. */
export const DEMO_CYCLE = 400;
/** Steps before the first fault: the online models are still learning the signals. */
export const DEMO_WARMUP_STEPS = 200;
/** Steps each injected fault lasts. */
export const DEMO_FAULT_STEPS = 8;

const noise = (i: number, k: number) => Math.sin(i * 12.9898 + k * 78.233) * 0.02;

/** The demo plant: six sensors with different rhythms, each with its own fault. */
export const DEMO_SENSORS: readonly DemoSensor[] = [
  { key: 'boiler/temperature', signal: (i) => 0.6 * Math.sin((2 * Math.PI * i) / 80) + noise(i, 1), fault: 'level-shift', faultAt: 0.35 },
  { key: 'boiler/pressure', signal: (i) => 0.4 * Math.cos((2 * Math.PI * i) / 50) + 0.2 * Math.sin((2 * Math.PI * i) / 13) + noise(i, 2), fault: 'spike', faultAt: 0.55 },
  { key: 'pump-1/vibration', signal: (i) => 0.5 * Math.sin((2 * Math.PI * i) / 10) + noise(i, 3), fault: 'oscillation', faultAt: 0.75 },
  { key: 'pump-2/vibration', signal: (i) => 0.5 * Math.sin((2 * Math.PI * i) / 12 + 1) + noise(i, 4), fault: 'spike', faultAt: 0.25 },
  { key: 'fan/current', signal: (i) => 0.3 + 0.3 * Math.sin((2 * Math.PI * i) / 40) + noise(i, 5), fault: 'dropout', faultAt: 0.65 },
  { key: 'line/flow', signal: (i) => 0.5 * Math.sin((2 * Math.PI * i) / 60) * Math.cos((2 * Math.PI * i) / 200) + noise(i, 6), fault: 'level-shift', faultAt: 0.9 },
];

/**
 * The reading of `sensor` at step `i`, with its fault injected when `i` falls in the sensor's
 * fault window of the cycle (none before {@link DEMO_WARMUP_STEPS}, while the models learn the signals).
 *
 * @example
 * ```ts
 * demoReading(DEMO_SENSORS[3], 100); // { value, fault: 'spike' }: pump-2's spike at 25% of the cycle
 * ```
 */
export function demoReading(sensor: DemoSensor, i: number): { value: number; fault: DemoFaultKind | null } {
  const clean = sensor.signal(i);
  const inCycle = i % DEMO_CYCLE;
  const start = Math.floor(sensor.faultAt * DEMO_CYCLE);
  const active = i >= DEMO_WARMUP_STEPS && inCycle >= start && inCycle < start + DEMO_FAULT_STEPS;
  if (!active) return { value: clean, fault: null };
  const k = inCycle - start;
  switch (sensor.fault) {
    case 'spike':
      return { value: clean + (k < 2 ? 2.5 : 0), fault: k < 2 ? 'spike' : null };
    case 'level-shift':
      return { value: clean + 1.2, fault: 'level-shift' };
    case 'oscillation':
      return { value: clean + 1.3 * Math.sin(k * 2.6), fault: 'oscillation' };
    case 'dropout':
      return { value: 0 - 0.8, fault: 'dropout' };
  }
}

/** Options of {@link sensorDemoSource}. */
export interface SensorDemoOptions {
  /** Readings in total (all sensors together); Infinity runs until unsubscribed. Default Infinity. */
  events?: number;
  /** Milliseconds between steps (each step reads every sensor); 0 runs as fast as possible. Default 50. */
  intervalMs?: number;
  /** Event time of step 0. Default: now. */
  startTime?: number;
}

/**
 * The embedded multi-sensor demo: the six {@link DEMO_SENSORS} of a small plant, each read once
 * per step, with faults (spikes, level shifts, oscillation bursts, dropouts) injected once per
 * {@link DEMO_CYCLE} steps. Paced by a timer (`intervalMs`), or in chunks of 256 steps that yield
 * to the event loop between them when `intervalMs` is 0, so a page and the terminal stay live.
 *
 * @example
 * ```ts
 * sensorDemoSource({ events: 600, intervalMs: 0 }).subscribe((r) => console.log(r.key, r.x[0], r.fault));
 * ```
 */
export function sensorDemoSource(options: SensorDemoOptions = {}): Observable<DemoReading> {
  const events = options.events ?? Infinity;
  const intervalMs = options.intervalMs ?? 50;
  return new Observable<DemoReading>((subscriber) => {
    const start = options.startTime ?? Date.now();
    let sent = 0;
    let step = 0;
    let timer: NodeJS.Timeout | null = null;
    const emitStep = (): boolean => {
      for (const sensor of DEMO_SENSORS) {
        if (sent >= events || subscriber.closed) return false;
        const { value, fault } = demoReading(sensor, step);
        subscriber.next({ key: sensor.key, timestamp: start + step * Math.max(intervalMs, 50), x: [value], step, fault });
        sent++;
      }
      step++;
      return sent < events;
    };
    const finish = () => {
      if (!subscriber.closed) subscriber.complete();
    };
    if (intervalMs > 0) {
      timer = setInterval(() => {
        if (!emitStep()) {
          if (timer) clearInterval(timer);
          finish();
        }
      }, intervalMs);
    } else {
      const chunk = () => {
        for (let n = 0; n < 256; n++) {
          if (!emitStep()) return finish();
        }
        timer = setTimeout(chunk, 0);
      };
      timer = setTimeout(chunk, 0);
    }
    return () => {
      if (timer) {
        clearInterval(timer);
        clearTimeout(timer);
      }
    };
  });
}
