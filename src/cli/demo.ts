import { interval, map, take } from 'rxjs';
import { adam } from '../training/optimizers/adam.js';
import { RecurrentModel } from '../cells/model.js';
import { trainOnline, type TrainPrediction } from '../streams/trainOnline.js';

/** Options of {@link runDemo}. */
export interface DemoOptions {
  /** Number of events. Default 400. */
  events?: number;
  /** Milliseconds between events; 0 runs as fast as possible. Default 15. */
  intervalMs?: number;
  /** Where lines go. Default `console.log`. */
  print?: (line: string) => void;
}

/** Where {@link sensorSignal} injects its fault, as a fraction of the run. */
export const FAULT_AT = 0.85;
/** How many events the injected fault lasts. */
export const FAULT_LENGTH = 6;

/**
 * A generated 3-channel sensor signal (temperature-, vibration- and load-like channels, with a
 * little deterministic noise) and a vibration fault injected at `faultStart` for
 * {@link FAULT_LENGTH} events.
 *
 * @example
 * ```ts
 * sensorSignal(0, 340); // [temp, vib, load]
 * ```
 */
export function sensorSignal(i: number, faultStart: number): number[] {
  const fault = i >= faultStart && i < faultStart + FAULT_LENGTH ? 1.5 : 0;
  const noise = (k: number) => Math.sin(i * 12.9898 + k * 78.233) * 0.03;
  return [
    Math.sin((2 * Math.PI * i) / 40) + noise(1),
    0.5 * Math.sin((2 * Math.PI * i) / 10) + noise(2) + fault,
    0.3 + 0.2 * Math.cos((2 * Math.PI * i) / 60) + noise(3),
  ];
}

/**
 * The `npm start` job: a live 3-channel sensor stream goes event by event into an LSTM that
 * learns online (truncated BPTT, self-supervised: predict the next reading) while it serves. Each
 * line shows the reading and how far the model's prediction for it was off; the error falls as
 * the model learns the signal, and the injected fault stands out.
 *
 * @example
 * ```ts
 * await runDemo({ events: 50, intervalMs: 0 });
 * ```
 */
export function runDemo(options: DemoOptions = {}): Promise<void> {
  const events = options.events ?? 400;
  const intervalMs = options.intervalMs ?? 15;
  const print = options.print ?? ((line: string) => console.log(line));
  const faultStart = Math.floor(events * FAULT_AT);
  const model = RecurrentModel.create({ cell: 'lstm', inputSize: 3, hiddenSize: 24, head: { outputSize: 3 }, seed: 2026 });
  const faultEnd = Math.min(events, faultStart + FAULT_LENGTH) - 1;
  print(`LSTM 3->24->3 learning online to predict the next reading (TBPTT k1=k2=8, Adam lr 0.03); fault (vib +1.5) at events ${faultStart}-${faultEnd}`);
  print('prediction error = distance between the predicted and the actual reading, in the readings\' own units (each channel spans about -1..1)');
  print(' event   temp    vib   load | prediction error');
  let previous: Float32Array | null = null;
  let index = 0;
  const errors: number[] = [];
  return new Promise((resolve, reject) => {
    interval(intervalMs)
      .pipe(
        take(events),
        map((i) => sensorSignal(i, faultStart)),
        trainOnline(model, { selfSupervised: true, k1: 8, optimizer: adam({ lr: 0.03 }), clipGradNorm: 1 }),
      )
      .subscribe({
        next: (e) => {
          if (e.kind !== 'prediction') return;
          const x = sensorSignal(index, faultStart);
          // How far the prediction made at the previous event was from this reading.
          const err = previous ? Math.sqrt(x.reduce((s, v, j) => s + (v - (previous as Float32Array)[j]) ** 2, 0)) : NaN;
          errors.push(err);
          previous = (e as TrainPrediction).y;
          const bar = Number.isNaN(err) ? '' : '#'.repeat(Math.min(40, Math.round(err * 20)));
          const flag = index >= faultStart && index < faultStart + FAULT_LENGTH ? '  <- fault' : '';
          if (index === faultStart) print(`------ fault starts at event ${faultStart}: vib +1.5 for ${faultEnd - faultStart + 1} events ------`);
          print(`${String(index).padStart(6)} ${x.map((v) => v.toFixed(2).padStart(6)).join(' ')} | ${Number.isNaN(err) ? '   -  ' : err.toFixed(3).padStart(6)} ${bar}${flag}`);
          if (index === faultEnd) print(`------ fault ends after event ${faultEnd} ------`);
          index++;
        },
        error: reject,
        complete: () => {
          print(demoSummary(errors, faultStart));
          resolve();
        },
      });
  });
}

/**
 * The demo's last line: mean prediction error over the first events and over the calm stretch
 * before the fault, and the worst error during it. The first event has no prediction yet, and a
 * short run may have no calm stretch or no fault at all: such parts say so instead of `NaN`.
 *
 * @example
 * ```ts
 * demoSummary([NaN, 0.9, 0.5, 0.1, 1.2], 4); // 'mean error, first 3 events: 0.500; ...'
 * ```
 */
export function demoSummary(errors: readonly number[], faultStart: number): string {
  const known = (from: number, to: number) => errors.slice(Math.max(0, from), Math.max(0, to)).filter((e) => Number.isFinite(e));
  const stat = (values: number[], f: (v: number[]) => number) => (values.length > 0 ? f(values).toFixed(3) : 'n/a');
  const mean = (v: number[]) => v.reduce((s, x) => s + x, 0) / v.length;
  const first = known(0, Math.min(41, faultStart));
  const calmFrom = Math.max(first.length > 0 ? 1 : 0, faultStart - 40);
  const calm = known(calmFrom, faultStart);
  const fault = known(faultStart, faultStart + FAULT_LENGTH);
  return (
    `mean error, first ${first.length} events: ${stat(first, mean)}; ` +
    `${calm.length} events before the fault: ${stat(calm, mean)}; ` +
    `worst during the fault: ${stat(fault, (v) => Math.max(...v))}`
  );
}
