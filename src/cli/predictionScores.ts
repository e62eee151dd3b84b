import { groupBy, map, mergeMap, Observable, type OperatorFunction } from 'rxjs';
import { RecurrentModel } from '../cells/model.js';
import type { DashboardEvent } from '../dashboard/dashboardStore.js';
import { detectAnomalies } from '../detection/detectAnomalies.js';
import type { SeqstreamError } from '../errors.js';
import { recurrentByKey } from '../streams/recurrentByKey.js';
import { trainOnline } from '../streams/trainOnline.js';
import { adam } from '../training/optimizers/adam.js';

/** A keyed reading as the serve sources give it. */
export interface KeyedReading {
  key: string;
  timestamp: number;
  x: number[];
}

/** How a reading is scored against the model's prediction. */
export interface ScoreOptions {
  /** Score above which an event is an alert; none: no alerts. */
  threshold?: number;
  /** Events per key before alerts are raised (the model is still settling). Default 100. */
  warmup?: number;
  /** Keys tracked at once (previous prediction per key). Default 100000. */
  maxKeys?: number;
  /** Bad events (wrong vector length, NaN): reported here, skipped. */
  onError?: (error: SeqstreamError) => void;
}

/**
 * Prediction error as the anomaly score, for a model whose output predicts its next input (same
 * size): for each reading x_t of a key, the prediction made one event earlier is y_{t-1} and the
 * score is the root mean square of x_t - y_{t-1}. A model of another output size is shown with its
 * outputs and no score. (The anomaly detector, `--detect`, replaces this with calibrated scores.)
 */
class PredictionTracker {
  private readonly previous = new Map<string, { y: Float32Array | number[]; seen: number }>();
  constructor(private readonly options: ScoreOptions) {}

  score(reading: KeyedReading, output: ArrayLike<number>): DashboardEvent {
    const prev = this.previous.get(reading.key);
    const seen = (prev?.seen ?? 0) + 1;
    this.previous.delete(reading.key);
    this.previous.set(reading.key, { y: Array.from(output), seen });
    if (this.previous.size > (this.options.maxKeys ?? 100_000)) this.previous.delete(this.previous.keys().next().value as string);
    const event: DashboardEvent = { key: reading.key, timestamp: reading.timestamp, x: reading.x };
    if (output.length !== reading.x.length) return { ...event, y: output };
    if (!prev) return event;
    let sum = 0;
    for (let i = 0; i < reading.x.length; i++) sum += (reading.x[i] - prev.y[i]) ** 2;
    const score = Math.sqrt(sum / reading.x.length);
    const threshold = this.options.threshold;
    const alert = threshold !== undefined && seen > (this.options.warmup ?? 100) && score > threshold;
    return { ...event, y: prev.y, score, ...(threshold !== undefined ? { threshold, alert } : {}) };
  }
}

/**
 * Runs a fixed model over keyed readings (one hidden state per key, `recurrentByKey`) and scores
 * each reading by its prediction error; bad readings go to `onError`, the others go on.
 *
 * @example
 * ```ts
 * readings$.pipe(scoreWithModel(model, { threshold: 0.5 })).subscribe((e) => board.push(e));
 * ```
 */
export function scoreWithModel(model: RecurrentModel, options: ScoreOptions = {}): OperatorFunction<KeyedReading, DashboardEvent> {
  return (source) =>
    new Observable<DashboardEvent>((subscriber) => {
      const tracker = new PredictionTracker(options);
      const pending = new Map<number, KeyedReading>();
      let offset = 0;
      const keyed = new Observable<{ key: string; x: number[]; offset: number }>((inner) =>
        source.subscribe({
          next: (r) => {
            pending.set(offset, r);
            inner.next({ key: r.key, x: r.x, offset: offset++ });
          },
          error: (e) => inner.error(e),
          complete: () => inner.complete(),
        }),
      );
      return keyed
        .pipe(
          recurrentByKey<string>(model, {
            maxKeys: options.maxKeys ?? 100_000,
            onError: (err, ev) => {
              pending.delete((ev as { offset: number }).offset);
              options.onError?.(err);
            },
          }),
        )
        .subscribe({
          next: (o) => {
            const reading = pending.get(o.offset as number);
            pending.delete(o.offset as number);
            if (reading) subscriber.next(tracker.score(reading, o.y));
          },
          error: (e) => subscriber.error(e),
          complete: () => subscriber.complete(),
        });
    });
}

/**
 * The demo's models: one small LSTM per key that learns online to predict the key's next reading
 * (truncated BPTT k1 = k2 = 8, Adam lr 0.02, gradient norm clipped at 1), scored by prediction
 * error as in {@link scoreWithModel}.
 *
 * @example
 * ```ts
 * sensorDemoSource().pipe(learnAndScore(1, { threshold: 0.45 })).subscribe((e) => board.push(e));
 * ```
 */
export function learnAndScore(inputSize: number, options: ScoreOptions = {}): OperatorFunction<KeyedReading, DashboardEvent> {
  return (source) =>
    new Observable<DashboardEvent>((subscriber) => {
      const tracker = new PredictionTracker(options);
      let seed = 2026;
      return source
        .pipe(
          groupBy((r) => r.key),
          mergeMap((group) => {
            const model = RecurrentModel.create({ cell: 'lstm', inputSize, hiddenSize: 16, head: { outputSize: inputSize }, seed: seed++ });
            const queue: KeyedReading[] = [];
            const inputs = new Observable<number[]>((inner) =>
              group.subscribe({
                next: (r) => {
                  queue.push(r);
                  inner.next(r.x);
                },
                error: (e) => inner.error(e),
                complete: () => inner.complete(),
              }),
            );
            return new Observable<DashboardEvent>((out) =>
              inputs
                .pipe(
                  trainOnline(model, {
                    selfSupervised: true, k1: 8, optimizer: adam({ lr: 0.02 }), clipGradNorm: 1,
                    invalidInput: 'skip',
                    onError: (err) => {
                      queue.pop(); // validated synchronously on next(): the newest queued reading
                      options.onError?.(err);
                    },
                  }),
                )
                .subscribe({
                next: (e) => {
                  if (e.kind !== 'prediction') return;
                  const reading = queue.shift();
                  if (reading) out.next(tracker.score(reading, e.y));
                },
                error: (e) => out.error(e),
                complete: () => out.complete(),
              }),
            );
          }),
        )
        .subscribe(subscriber);
    });
}

/**
 * The anomaly detector (`detectAnomalies`, src/detection) as the score: one detector per key,
 * scores in [0, 1) with alerts at `threshold` (default the detector's 0.6). Each output carries
 * the reading as input 0 and, as input 1, the reading on the detector's normalised scale with the
 * detector's forecast as its prediction.
 *
 * @example
 * ```ts
 * readings$.pipe(scoreWithDetector({ threshold: 0.6 })).subscribe((e) => board.push(e));
 * ```
 */
export function scoreWithDetector(options: Omit<ScoreOptions, 'warmup'> & { learningPeriod?: number } = {}): OperatorFunction<KeyedReading, DashboardEvent> {
  const threshold = options.threshold ?? 0.6;
  const detect = detectAnomalies<string, KeyedReading>({
    threshold,
    maxKeys: options.maxKeys ?? 100_000,
    learningPeriod: options.learningPeriod,
    onError: (err) => options.onError?.(err),
  });
  return (source) =>
    source.pipe(
      detect,
      map((e) => ({ key: e.key, timestamp: e.timestamp, x: [e.x, e.normalised], y: [NaN, e.forecast], score: e.score, alert: e.alert, threshold })),
    );
}
