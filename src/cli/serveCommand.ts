import { take, type Observable } from 'rxjs';
import type { RecurrentModel } from '../cells/model.js';
import { DashboardServer, type DashboardInfo } from '../dashboard/dashboardServer.js';
import type { DashboardEvent } from '../dashboard/dashboardStore.js';
import type { SeqstreamError } from '../errors.js';
import { learnAndScore, scoreWithDetector, scoreWithModel, type KeyedReading } from './predictionScores.js';
import { DEMO_CYCLE, DEMO_SENSORS, DEMO_WARMUP_STEPS } from './sensorDemoSource.js';
import { serveSource, type ServeSourceOptions } from './serveSources.js';

/** Options of {@link runServe} (the `seqstream serve` flags). */
export interface ServeOptions extends Omit<ServeSourceOptions, 'onError' | 'status'> {
  /** A fixed model stepped per key; without it (and without `--demo`) readings are shown unscored. */
  model?: RecurrentModel;
  /** Score with the anomaly detector (`detectAnomalies`) instead of a model's prediction error. */
  detect?: boolean;
  /** How the model is described on the page. */
  modelDescription?: string;
  /** Score above which an event is an alert. Default: 0.6 with `detect` and for the demo, none otherwise. */
  threshold?: number;
  /** Dashboard port (0: any free port). Default 0. */
  port?: number;
  host?: string;
  token?: string;
  historyPoints?: number;
  maxKeys?: number;
  /** Milliseconds between terminal summary lines. Default 2000. */
  summaryIntervalMs?: number;
  /** Ends the run (Ctrl-C). */
  signal?: AbortSignal;
  /** Called once the page listens (tests). */
  onListening?: (url: string, board: DashboardServer) => void;
}

/** What {@link runServe} counted. */
export interface ServeSummary {
  events: number;
  keys: number;
  alerts: number;
  errors: Record<string, number>;
  url: string;
}

/** The demo's alert threshold on its prediction error (errors of the settled models stay well under it). */
export const DEMO_THRESHOLD = 0.6;
/** The detector's own default alert threshold (its scores lie in [0, 1)). */
export const DETECT_THRESHOLD = 0.6;

/**
 * `seqstream serve`: a source (the demo, a file or folder, stdin, TCP, MQTT, websocket) → a model
 * (a fixed `--model`, or for the demo one small LSTM per sensor learning online) → prediction
 * error as the anomaly score → the dashboard page, plus a terminal summary on stderr.
 *
 * 1. The page listens first; `dashboard: http://127.0.0.1:<port>/` goes to `status`.
 * 2. Readings are scored and pushed to the page; bad input is counted by its code and skipped.
 * 3. Every `summaryIntervalMs` a summary line (and one line per new alert) goes to `status`.
 * 4. The run ends after `events` readings, or when `signal` aborts (Ctrl-C); when the input ends
 *    first (a file), the page stays up until then. It resolves with the counts.
 *
 * @example
 * ```ts
 * const summary = await runServe({ demo: true, events: 1200, intervalMs: 0 }, console.error);
 * ```
 */
export async function runServe(options: ServeOptions, status: (line: string) => void): Promise<ServeSummary> {
  const threshold = options.threshold ?? (options.detect ? DETECT_THRESHOLD : options.demo ? DEMO_THRESHOLD : undefined);
  const board = new DashboardServer({
    port: options.port ?? 0,
    host: options.host,
    token: options.token,
    historyPoints: options.historyPoints,
    maxKeys: options.maxKeys,
    info: describePipeline(options, threshold),
  });
  const onError = (e: SeqstreamError) => board.reportError(e);
  const readings = await serveSource({ ...options, onError, status });
  const scored = score(readings, options, threshold, onError);
  const url = await board.listen();
  status(`dashboard: ${url}`);
  options.onListening?.(url, board);
  let alertCursor = 0;
  const started = Date.now();
  const summarise = (final: boolean) => {
    const { alerts, next } = board.store.alertsSince(alertCursor);
    alertCursor = next;
    for (const a of alerts) status(`ALERT ${a.key} score ${a.score?.toFixed(3) ?? '-'} at ${new Date(a.timestamp).toISOString()}`);
    const c = board.store.snapshotCounters();
    const errors = Object.entries(c.errors).map(([k, v]) => `${k} ${v}`).join(', ');
    const rate = final ? (c.events * 1000) / Math.max(1, Date.now() - started) : c.eventsPerSec;
    status(`${final ? 'seqstream serve: ' : ''}${c.events} events (${Math.round(rate)}/s${final ? ' on average' : ''}), ${c.keys} streams, ${c.alerts} alerts, ${c.droppedFrames} dropped updates, errors: ${errors || 'none'}`);
  };
  const timer = setInterval(() => {
    board.store.markRates();
    summarise(false);
  }, options.summaryIntervalMs ?? 2000);
  try {
    await new Promise<void>((resolve, reject) => {
      const limited = options.events !== undefined && !options.demo ? scored.pipe(take(options.events)) : scored;
      const subscription = limited.subscribe({
        next: (e) => board.push(e),
        error: (e) => reject(e),
        complete: () => {
          if (options.events !== undefined) resolve();
          else status('input ended; the page stays up until Ctrl-C');
        },
      });
      const stop = () => {
        subscription.unsubscribe();
        resolve();
      };
      if (options.signal?.aborted) stop();
      options.signal?.addEventListener('abort', stop, { once: true });
    });
  } finally {
    clearInterval(timer);
    summarise(true);
    await board.close();
  }
  const c = board.store.snapshotCounters();
  return { events: c.events, keys: c.keys, alerts: c.alerts, errors: c.errors, url };
}

function score(readings: Observable<KeyedReading>, o: ServeOptions, threshold: number | undefined, onError: (e: SeqstreamError) => void): Observable<DashboardEvent> {
  if (o.detect) return readings.pipe(scoreWithDetector({ threshold, onError, maxKeys: o.maxKeys }));
  if (o.demo) return readings.pipe(learnAndScore(1, { threshold, onError, warmup: DEMO_WARMUP_STEPS }));
  if (o.model) return readings.pipe(scoreWithModel(o.model, { threshold, onError, maxKeys: o.maxKeys }));
  return readings;
}

function describePipeline(o: ServeOptions, threshold: number | undefined): DashboardInfo {
  const source = o.demo
    ? `demo plant: ${DEMO_SENSORS.length} sensors, faults injected every ${DEMO_CYCLE} steps`
    : o.input !== undefined ? `file ${o.input}` : o.tcp !== undefined ? `tcp port ${o.tcp}` : o.mqtt !== undefined ? `mqtt ${o.mqtt} ${o.topics?.join(',')}` : `websocket port ${o.ws}`;
  const model = o.detect
    ? 'anomaly detector per key: GRU forecaster learning online, anomaly likelihood of its error, range excursions, contextual sequence memory'
    : o.demo ? 'LSTM 1→16→1 per sensor, learning online (TBPTT k1=k2=8, Adam 0.02)' : (o.modelDescription ?? 'none (readings only)');
  return {
    title: o.demo ? 'seqstream · demo plant' : 'seqstream serve',
    source,
    model,
    score: o.detect ? 'detector score in [0, 1)' : o.demo || o.model ? 'prediction error: RMS of reading − previous prediction' : 'none',
    threshold: threshold ?? 'none',
    ...(o.detect ? { channels: 'input 0: reading; input 1: normalised reading vs the forecast' } : {}),
  };
}
