import type { Readable } from 'node:stream';
import { map } from 'rxjs';
import { sensorReadable } from '../adapters/sensorReadable.js';
import type { RecurrentModel } from '../cells/model.js';
import { InvalidOptionError, type SeqstreamError } from '../errors.js';
import { recurrentByKey } from '../streams/recurrentByKey.js';

/** Output field names of `seqstream stream`; `pass` may not reuse them. */
export const STREAM_OUTPUT_FIELDS: readonly string[] = ['key', 'line', 'y', 'h'];

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
  /** `'output'` (head output as `y`), `'hidden'` (top layer state as `h`) or `'all'` (both). Default `'output'` with a head, else `'hidden'`. */
  emit?: 'output' | 'hidden' | 'all';
  /** Input fields copied as they are into each output line (e.g. `['timestamp', 'id']`), to join results back. Default none. */
  pass?: string[];
}

/** What {@link runStreamCommand} counted. */
export interface StreamCommandSummary {
  events: number;
  rejected: number;
}

/**
 * `seqstream stream`: lines on stdin (`{"key":"a","x":[...]}` NDJSON, or CSV) -> one hidden state
 * per key through `recurrentByKey()` -> one NDJSON line per event on stdout, in arrival order:
 * `{"key":"a","line":1,"y":[...]}` (`line` is the input line number; `pass` fields follow it;
 * `emit: 'hidden'` prints `h` instead of `y`, `'all'` both). In NDJSON the key keeps its JSON
 * type: `1` and `"1"` are two streams, printed back as `1` and `"1"` (CSV fields are all text).
 * A bad line (not JSON, wrong vector length, NaN, missing key) is reported on stderr as
 * `{"error":"<code>","message":...,"line":n}` and skipped; every other line and key goes on.
 *
 * @example
 * ```ts
 * // printf '{"key":"a","t":5,"x":[1,2]}\n' | seqstream stream --model model.json --key key --pass t
 * const summary = await runStreamCommand({ model, key: 'key', pass: ['t'] }, process.stdin, console.log, console.error);
 * ```
 */
export function runStreamCommand(
  options: StreamCommandOptions,
  stdin: Readable,
  print: (line: string) => void,
  printError: (line: string) => void,
): Promise<StreamCommandSummary> {
  const pass = options.pass ?? [];
  for (const field of pass) {
    if (STREAM_OUTPUT_FIELDS.includes(field)) throw new InvalidOptionError('--pass', `field names other than ${STREAM_OUTPUT_FIELDS.join(', ')} (the output's own fields)`, field);
  }
  const emit = options.emit ?? (options.model.config.head ? 'output' : 'hidden');
  if (emit !== 'hidden' && !options.model.config.head) throw new InvalidOptionError('--emit', "'hidden' for a model without a head", emit);
  const summary: StreamCommandSummary = { events: 0, rejected: 0 };
  const report = (e: SeqstreamError, line?: number) => {
    summary.rejected++;
    printError(JSON.stringify({ error: e.code, message: e.message, ...(line !== undefined ? { line } : {}) }));
  };
  const round = (v: Float32Array) => Array.from(v, (n) => Math.round(n * 1e6) / 1e6);
  // Per input line still in flight: the leading output fields (key as written, line, passed fields).
  const pending = new Map<number, Record<string, unknown>>();
  return new Promise((resolve, reject) => {
    sensorReadable(stdin, {
      name: 'stdin',
      defaultKey: 'stdin',
      format: options.format ?? 'ndjson',
      key: options.key,
      value: options.value ?? ['x'],
      timestamp: null,
      invalidInput: 'skip',
      keepRecord: options.key !== undefined || pass.length > 0,
      onError: (e) => report(e, (e.details as { line?: number }).line),
    })
      .pipe(
        map((e) => {
          const raw = options.key !== undefined ? e.record?.[options.key] : undefined;
          const numeric = typeof raw === 'number';
          const head: Record<string, unknown> = { key: numeric ? raw : e.key, line: e.line };
          for (const field of pass) if (e.record && Object.prototype.hasOwnProperty.call(e.record, field)) head[field] = e.record[field];
          pending.set(e.line, head);
          // Typed state keys: a JSON number 1 and a string "1" are different streams.
          return { key: `${numeric ? 'n' : 's'}:${e.key}`, x: e.x, offset: e.line };
        }),
        recurrentByKey<string>(options.model, {
          emit: emit === 'hidden' ? 'hidden' : 'all',
          maxKeys: options.maxKeys ?? 100_000,
          onError: (e, ev) => {
            const line = (ev as { offset?: number }).offset;
            if (line !== undefined) pending.delete(line);
            report(e, line);
          },
        }),
      )
      .subscribe({
        next: (o) => {
          summary.events++;
          const line = o.offset as number;
          const head = pending.get(line);
          pending.delete(line);
          const out: Record<string, unknown> = { ...head };
          if (emit === 'hidden') out.h = round(o.y);
          else {
            out.y = round(o.y);
            if (emit === 'all') out.h = round(o.h as Float32Array);
          }
          print(JSON.stringify(out));
        },
        error: reject,
        complete: () => resolve(summary),
      });
  });
}
