import type { Readable } from 'node:stream';
import { map } from 'rxjs';
import { sensorReadable } from '../adapters/sensorReadable.js';
import type { RecurrentModel } from '../cells/model.js';
import type { SeqstreamError } from '../errors.js';
import { recurrentByKey } from '../streams/recurrentByKey.js';

/** Options of {@link runStreamCommand} (the `seqstream stream` flags). */
export interface StreamCommandOptions {
  /** The model stepped per event, with one hidden state per key. */
  model: RecurrentModel;
  /** `'ndjson'` (default) or `'csv'` (header line first). */
  format?: 'ndjson' | 'csv';
  /** Field holding the key; without it every line is one stream (key `"stdin"`). */
  key?: string;
  /** Field holding the input vector, or several numeric fields making it. Default `['x']`. */
  value?: string[];
  /** Most keys held at once (least recently used leave). Default 100,000. */
  maxKeys?: number;
}

/** What {@link runStreamCommand} counted. */
export interface StreamCommandSummary {
  events: number;
  rejected: number;
}

/**
 * `seqstream stream`: lines on stdin (`{"key":"a","x":[...]}` NDJSON, or CSV) -> one hidden state
 * per key through `recurrentByKey()` -> one NDJSON line per event on stdout,
 * `{"key":"a","y":[...]}`, in arrival order. A bad line (not JSON, wrong vector length, NaN,
 * missing key) is reported on stderr as `{"error":"<code>","message":...,"line":n}` and skipped;
 * every other line and key goes on.
 *
 * @example
 * ```ts
 * // printf '{"key":"a","x":[1,2]}\n' | seqstream stream --model model.json --key key
 * const summary = await runStreamCommand({ model, key: 'key' }, process.stdin, console.log, console.error);
 * ```
 */
export function runStreamCommand(
  options: StreamCommandOptions,
  stdin: Readable,
  print: (line: string) => void,
  printError: (line: string) => void,
): Promise<StreamCommandSummary> {
  const summary: StreamCommandSummary = { events: 0, rejected: 0 };
  const report = (e: SeqstreamError, line?: number) => {
    summary.rejected++;
    printError(JSON.stringify({ error: e.code, message: e.message, ...(line !== undefined ? { line } : {}) }));
  };
  const round = (v: Float32Array) => Array.from(v, (n) => Math.round(n * 1e6) / 1e6);
  return new Promise((resolve, reject) => {
    sensorReadable(stdin, {
      name: 'stdin',
      defaultKey: 'stdin',
      format: options.format ?? 'ndjson',
      key: options.key,
      value: options.value ?? ['x'],
      timestamp: null,
      invalidInput: 'skip',
      onError: (e) => report(e, (e.details as { line?: number }).line),
    })
      .pipe(
        map((e) => ({ key: e.key, x: e.x, offset: e.line })),
        recurrentByKey<string>(options.model, { maxKeys: options.maxKeys ?? 100_000, onInvalidInput: (e, ev) => report(e, (ev as { offset?: number }).offset) }),
      )
      .subscribe({
        next: (o) => {
          summary.events++;
          print(JSON.stringify({ key: o.key, y: round(o.y) }));
        },
        error: reject,
        complete: () => resolve(summary),
      });
  });
}
