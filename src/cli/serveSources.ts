import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { filter, from, map, mergeMap, Observable } from 'rxjs';
import { sensorFile } from '../adapters/sensorFile.js';
import { sensorReadable } from '../adapters/sensorReadable.js';
import { sensorTcpServer } from '../adapters/sensorTcpServer.js';
import type { SeqstreamError } from '../errors.js';
import { UsageError } from './cliContext.js';
import type { KeyedReading } from './predictionScores.js';
import { sensorDemoSource } from './sensorDemoSource.js';

/** Where `seqstream serve` reads from (exactly one). */
export interface ServeSourceOptions {
  demo?: boolean;
  /** File, folder (every .csv/.ndjson/.jsonl/.json file in it), or `-` for stdin. */
  input?: string;
  tcp?: number;
  mqtt?: string;
  topics?: string[];
  ws?: number;
  format?: 'ndjson' | 'csv';
  key?: string;
  value?: string[];
  /** Timestamp field; `null` uses arrival time. */
  timestamp?: string | null;
  events?: number;
  intervalMs?: number;
  onError: (error: SeqstreamError) => void;
  /** Where status lines go (listening addresses). */
  status: (line: string) => void;
}

/** The file extensions a folder input reads. */
const FILE_TYPES = /\.(csv|ndjson|jsonl|json)$/i;

/**
 * Builds the serve command's source from its flags: the embedded demo, a file or folder, stdin,
 * a TCP server, MQTT topics or a websocket server, as keyed readings `{ key, timestamp, x }`.
 * Bad lines and messages go to `onError` and are skipped; every other line and key goes on.
 *
 * @example
 * ```ts
 * const readings$ = await serveSource({ input: 'readings.csv', key: 'sensor', onError: console.warn, status: console.error });
 * ```
 */
export async function serveSource(o: ServeSourceOptions): Promise<Observable<KeyedReading>> {
  const chosen = [o.demo, o.input !== undefined, o.tcp !== undefined, o.mqtt !== undefined, o.ws !== undefined].filter(Boolean).length;
  if (chosen !== 1) throw new UsageError('give exactly one source: --demo, --input FILE|DIR|-, --tcp PORT, --mqtt URL --topics T, or --ws PORT');
  const mapping = {
    key: o.key,
    value: o.value ?? ['value'],
    timestamp: o.timestamp === undefined ? 'timestamp' : o.timestamp,
    invalidInput: 'skip' as const,
    onError: o.onError,
  };
  if (o.demo) return sensorDemoSource({ events: o.events, intervalMs: o.intervalMs });
  if (o.input === '-') return sensorReadable(process.stdin, { ...mapping, name: 'stdin', defaultKey: 'stdin', format: o.format ?? 'ndjson', timestamp: o.timestamp ?? null });
  if (o.input !== undefined) {
    const path = o.input;
    let files: string[];
    try {
      files = statSync(path).isDirectory() ? readdirSync(path).filter((f) => FILE_TYPES.test(f)).sort().map((f) => join(path, f)) : [path];
    } catch {
      throw new UsageError(`--input ${path}: no such file or folder`);
    }
    if (files.length === 0) throw new UsageError(`--input ${path}: no .csv, .ndjson, .jsonl or .json files in it`);
    return from(files).pipe(mergeMap((f) => sensorFile(f, { ...mapping, ...(o.format ? { format: o.format } : {}) }), 4));
  }
  if (o.tcp !== undefined) {
    return sensorTcpServer({ ...mapping, port: o.tcp, format: o.format ?? 'ndjson', timestamp: o.timestamp ?? null, onListening: (a) => o.status(`tcp: listening on ${a.host}:${a.port}`) });
  }
  if (o.mqtt !== undefined) {
    if (!o.topics?.length) throw new UsageError('--mqtt needs --topics');
    const { mqttSource } = await import('../adapters/mqttSource.js');
    return mqttSource({ ...mapping, url: o.mqtt, topics: o.topics, timestamp: o.timestamp ?? null });
  }
  const port = o.ws as number;
  return new Observable<KeyedReading>((subscriber) => {
    let server: { close(): Promise<void> } | null = null;
    let closed = false;
    import('../adapters/websocketServer.js')
      .then(({ websocketServer }) => websocketServer({ port, onError: (e) => o.onError(e) }))
      .then((s) => {
        server = s;
        if (closed) return void s.close();
        o.status(`ws: listening on ${s.url}`);
        s.events.pipe(
          filter((e) => Array.isArray(e.x)),
          map((e) => ({ key: e.key, timestamp: Date.now(), x: e.x as number[] })),
        ).subscribe(subscriber);
      }, (e: unknown) => subscriber.error(e));
    return () => {
      closed = true;
      void server?.close();
    };
  });
}
