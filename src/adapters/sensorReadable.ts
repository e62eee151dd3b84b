import type { Readable } from 'node:stream';
import { Observable } from 'rxjs';
import { InvalidOptionError, SeqstreamError } from '../errors.js';
import { EventAssembler } from './internal/eventAssembler.js';
import { createLineInput } from './internal/lineInput.js';
import { resolveLineOptions, type SensorEvent, type SensorLineOptions } from './internal/sensorOptions.js';

export type { MissingPolicy, OrderPolicy, SensorEvent, SensorLineOptions, SensorMappingOptions } from './internal/sensorOptions.js';

/** Options of {@link sensorReadable}. */
export interface SensorReadableOptions extends SensorLineOptions {
  /** Name used in events' `source` and in errors. Default `'readable'`. */
  name?: string;
  /** Key of every event when no `key` field is configured. Default `'default'`. */
  defaultKey?: string;
}

/**
 * Sensor readings from any Node `Readable` of bytes or text — `process.stdin`, a child process's
 * stdout, a `net.Socket` you connected yourself — as newline-delimited JSON or CSV.
 *
 * 1. Bytes are cut into lines of at most `maxLineLength` bytes (a UTF-8 BOM at the start is
 *    dropped); each line keeps its number and byte offset (`event.line`, `event.byteOffset`).
 * 2. Each line is parsed (`format`): a JSON object, or CSV fields named by the header line
 *    (or `columns`). Blank lines are skipped.
 * 3. Fields are mapped to `{ key, timestamp, x }`; missing values follow `missing`.
 * 4. Per key, late or out-of-order events follow `order`.
 * 5. Bad input follows `invalidInput` (default `'error'`: the stream errors once with the
 *    problem's `code`, e.g. `SEQ_SENSOR_JSON`, `SEQ_SENSOR_NOT_NUMERIC`, `SEQ_SENSOR_LINE_TOO_LONG`).
 * 6. At the end of the readable, held events are flushed and the Observable completes; a stream
 *    error ends it with `SEQ_SENSOR_IO`. A readable that closes without ending (a destroyed
 *    socket: the data may be cut off) flushes the events held so far, drops an unterminated last
 *    line and then errors with `SEQ_SENSOR_IO` (`details.cause` `'closed before end'`), like
 *    the file source for a read failure; one already destroyed at subscribe errors at once.
 *
 * Unsubscribing detaches from the readable and pauses it; it does not destroy it (you own it).
 * Subscribe once per readable: bytes read by one subscriber are gone for the next.
 *
 * @example
 * ```ts
 * import { sensorReadable } from 'seqstream/adapters/sensorReadable';
 * // printf '{"key":"a","timestamp":1,"value":20.5}\n' | node app.js
 * sensorReadable(process.stdin, { key: 'key' }).subscribe((e) => console.log(e.key, e.x));
 * ```
 */
export function sensorReadable(readable: Readable, options: SensorReadableOptions = {}): Observable<SensorEvent> {
  if (!readable || typeof (readable as Readable).on !== 'function') throw new InvalidOptionError('readable', 'a Node Readable stream', readable);
  const resolved = resolveLineOptions(options, { invalidInput: 'error' });
  const name = options.name ?? 'readable';
  const defaultKey = options.defaultKey ?? 'default';
  return new Observable<SensorEvent>((subscriber) => {
    const assembler = new EventAssembler(resolved, (e) => subscriber.next(e), (err) => subscriber.error(err));
    const input = createLineInput(resolved, assembler, { source: name, defaultKey });
    const onData = (chunk: Buffer | string) => {
      input.push(chunk);
      if (assembler.isClosed) detach();
    };
    const onEnd = () => {
      detach();
      input.end();
      assembler.flush();
      if (!assembler.isClosed) subscriber.complete();
    };
    const onError = (err: Error) => {
      detach();
      assembler.abort(new SeqstreamError('SEQ_SENSOR_IO', `Reading ${name} failed: ${err.message}`, { source: name, cause: err.message, ...input.position }));
    };
    // 'close' without 'end' (socket.destroy(), a killed pipe): no 'end' will come, and no 'error' either.
    const onClose = () => {
      detach();
      assembler.flush();
      assembler.abort(new SeqstreamError('SEQ_SENSOR_IO', `${name} closed before it ended`, { source: name, cause: 'closed before end', ...input.position }));
    };
    function detach() {
      readable.off('data', onData);
      readable.off('end', onEnd);
      readable.off('error', onError);
      readable.off('close', onClose);
    }
    if (readable.readableEnded) {
      onEnd();
      return;
    }
    if (readable.destroyed) {
      const cause = (readable as Readable & { errored?: Error | null }).errored?.message ?? 'destroyed before subscribe';
      assembler.abort(new SeqstreamError('SEQ_SENSOR_IO', `${name} was already destroyed when subscribed`, { source: name, cause, line: 0, byteOffset: 0 }));
      return;
    }
    readable.on('data', onData);
    readable.on('end', onEnd);
    readable.on('error', onError);
    readable.on('close', onClose);
    return () => {
      assembler.close();
      detach();
      if (!readable.readableEnded && !readable.destroyed) readable.pause();
    };
  });
}
