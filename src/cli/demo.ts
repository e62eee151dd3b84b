import { interval, map, take, type Observable } from 'rxjs';
import { RecurrentModel } from '../cells/model.js';
import { recurrent } from '../streams/recurrent.js';

/** Options of {@link runDemo}. */
export interface DemoOptions {
  /** Number of events. Default 120. */
  events?: number;
  /** Milliseconds between events; 0 runs as fast as possible. Default 25. */
  intervalMs?: number;
  /** Where lines go. Default `console.log`. */
  print?: (line: string) => void;
}

/**
 * A generated 3-channel sensor signal (temperature-, vibration- and load-like channels) with a
 * fault injected two thirds of the way in. Deterministic for a given event index.
 *
 * @example
 * ```ts
 * sensorSignal(0); // [t, v, l]
 * ```
 */
export function sensorSignal(i: number): number[] {
  const fault = i >= 80 && i < 88 ? 2.5 : 0;
  const noise = (k: number) => Math.sin(i * 12.9898 + k * 78.233) * 0.05;
  return [
    Math.sin((2 * Math.PI * i) / 40) + noise(1),
    0.5 * Math.sin((2 * Math.PI * i) / 9) + noise(2) + fault,
    0.3 + 0.2 * Math.cos((2 * Math.PI * i) / 60) + noise(3),
  ];
}

/**
 * The `npm start` demo: streams a generated multi-channel sensor signal through an LSTM event by
 * event and prints, as it goes, each reading, the model's output and how far the hidden state
 * moved (a jump marks something the model had not seen in that context).
 *
 * @example
 * ```ts
 * await runDemo({ events: 20, intervalMs: 0 });
 * ```
 */
export function runDemo(options: DemoOptions = {}): Promise<void> {
  const events = options.events ?? 120;
  const intervalMs = options.intervalMs ?? 25;
  const print = options.print ?? ((line: string) => console.log(line));
  const model = RecurrentModel.create({ cell: 'lstm', inputSize: 3, hiddenSize: 16, head: { outputSize: 1, activation: 'sigmoid' }, seed: 2026 });
  const source: Observable<number[]> = interval(intervalMs).pipe(take(events), map(sensorSignal));
  print(`LSTM ${model.config.inputSize}->${model.config.hiddenSize}, head sigmoid(1); ${events} events of a 3-channel sensor signal`);
  print(' event   temp    vib   load |  y     |Δh|');
  let previous: Float32Array | null = null;
  let index = 0;
  return new Promise((resolve, reject) => {
    source.pipe(recurrent(model, { emit: 'all' })).subscribe({
      next: ({ h, y }) => {
        const x = sensorSignal(index);
        let moved = 0;
        if (previous) for (let j = 0; j < h.length; j++) moved += (h[j] - previous[j]) ** 2;
        moved = Math.sqrt(moved);
        previous = h;
        const bar = '#'.repeat(Math.min(30, Math.round(moved * 40)));
        print(`${String(index).padStart(6)} ${x.map((v) => v.toFixed(2).padStart(6)).join(' ')} | ${y![0].toFixed(3)} ${moved.toFixed(3)} ${bar}`);
        index++;
      },
      error: reject,
      complete: () => resolve(),
    });
  });
}
