import { createReadStream, type ReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { Observable } from 'rxjs';
import { InvalidOptionError, SeqstreamError } from '../errors.js';
import { EventAssembler } from './internal/eventAssembler.js';
import { createLineInput } from './internal/lineInput.js';
import { resolveLineOptions, type SensorEvent, type SensorLineOptions } from './internal/sensorOptions.js';
import { integerOption } from '../options.js';

export type { MissingPolicy, OrderPolicy, SensorEvent, SensorLineOptions, SensorMappingOptions } from './internal/sensorOptions.js';

/** Options of {@link sensorFile}. */
export interface SensorFileOptions extends SensorLineOptions {
  /** Key of every event when no `key` field is configured. Default: the file path. */
  defaultKey?: string;
  /**
   * Resume a replay: start reading at `byteOffset`, numbering lines from `line` (take both
   * from the last event you handled: `{ byteOffset: e.byteOffset, line: e.line }` re-reads that
   * event; the next one starts after it). For CSV without `columns`, the header is still read
   * from the first line of the file. Default: the beginning.
   */
  from?: { byteOffset: number; line: number };
  /** Read chunk size in bytes. Default 65536. */
  chunkSize?: number;
}

/**
 * Sensor readings replayed from a newline-delimited JSON or CSV file, as fast as they can be read
 * (pace them downstream if you need real time). Follows the same steps as
 * {@link sensorReadable}; the format defaults from the extension (`.csv` -> `'csv'`, anything
 * else -> `'ndjson'`). A missing or unreadable file errors with `SEQ_SENSOR_IO`. Each
 * subscription reads the file anew; unsubscribing closes it.
 *
 * @example
 * ```ts
 * import { sensorFile } from 'seqstream/adapters/sensorFile';
 * // timestamp,value\n2014-04-01 00:00:00,20.1\n...
 * sensorFile('machine_temperature.csv', { missing: 'fill-previous', order: 'drop' })
 *   .subscribe((e) => console.log(e.timestamp, e.x[0], e.line));
 * ```
 */
export function sensorFile(path: string, options: SensorFileOptions = {}): Observable<SensorEvent> {
  if (typeof path !== 'string' || path.length === 0) throw new InvalidOptionError('path', 'a file path', path);
  const resolved = resolveLineOptions(options, { invalidInput: 'error', format: /\.csv$/i.test(path) ? 'csv' : 'ndjson' });
  const chunkSize = integerOption('chunkSize', options.chunkSize, 65_536, 1);
  const from = options.from;
  if (from !== undefined) {
    integerOption('from.line', from.line, 1, 1);
    if (!Number.isInteger(from.byteOffset) || from.byteOffset < 0) throw new InvalidOptionError('from.byteOffset', 'an integer >= 0', from.byteOffset);
  }
  const source = `file:${path}`;
  const defaultKey = options.defaultKey ?? path;
  return new Observable<SensorEvent>((subscriber) => {
    let stream: ReadStream | undefined;
    let stopped = false;
    const assembler = new EventAssembler(resolved, (e) => subscriber.next(e), (err) => subscriber.error(err));
    const ioError = (err: Error) =>
      assembler.abort(new SeqstreamError('SEQ_SENSOR_IO', `Reading ${path} failed: ${err.message}`, { source, cause: (err as NodeJS.ErrnoException).code ?? err.message }));

    const start = async () => {
      let columns = resolved.columns;
      if (resolved.format === 'csv' && !columns && from && from.byteOffset > 0) columns = await readHeader(path, resolved.maxLineLength, resolved.delimiter);
      if (stopped) return;
      const input = createLineInput({ ...resolved, columns }, assembler, { source, defaultKey }, from);
      stream = createReadStream(path, { start: from?.byteOffset ?? 0, highWaterMark: chunkSize });
      stream.on('data', (chunk) => {
        input.push(chunk as Buffer);
        if (assembler.isClosed) stream?.destroy();
      });
      stream.on('error', ioError);
      stream.on('end', () => {
        input.end();
        assembler.flush();
        if (!assembler.isClosed) subscriber.complete();
      });
    };
    start().catch(ioError);
    return () => {
      stopped = true;
      assembler.close();
      stream?.destroy();
    };
  });
}

/** The header fields of a CSV file, for replays that start past its first line. */
async function readHeader(path: string, maxLineLength: number, delimiter: string): Promise<string[] | undefined> {
  const handle = await open(path, 'r');
  try {
    const buf = Buffer.alloc(maxLineLength + 4);
    const { bytesRead } = await handle.read(buf, 0, buf.length, 0);
    let text = buf.subarray(0, bytesRead).toString('utf8');
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    const nl = text.indexOf('\n');
    if (nl === -1) return undefined;
    return text.slice(0, nl).replace(/\r$/, '').split(delimiter).map((f) => f.trim().replace(/^"(.*)"$/, '$1'));
  } finally {
    await handle.close();
  }
}
