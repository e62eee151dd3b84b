import { InvalidOptionError, type ErrorCallback } from '../../errors.js';
import { integerOption, functionOption, oneOfOption, INVALID_INPUT } from '../../options.js';

/**
 * One reading from a sensor source: a key (which sensor / stream), a timestamp, a numeric
 * vector `x` and where it came from, so it can be traced and replayed.
 */
export interface SensorEvent {
  /** Stream key (sensor id, device, topic capture ...). */
  key: string;
  /** Event time: a number as given (any unit), or ms since the Unix epoch for date strings. */
  timestamp: number;
  /** The reading: one value per configured value field, in the order given. */
  x: number[];
  /** Which input: `file:<path>`, `readable`, `tcp:<connection id>`, `mqtt:<topic>`. */
  source: string;
  /** 1-based line (record) number within `source`; for MQTT the message number. */
  line: number;
  /** Byte offset of the line's first byte within `source`; -1 where there is none (MQTT). */
  byteOffset: number;
  /** With `keepRecord`: the record as parsed (CSV: every field's text as written, trimmed; JSON: the object). */
  record?: Record<string, unknown>;
  /** With `keepRecord`, line-based sources: the line as read, without its line ending. */
  text?: string;
}

/** What to do with a missing value field (absent, `null` or an empty CSV cell). */
export type MissingPolicy = 'error' | 'skip' | 'fill-previous' | 'fill-zero';

/**
 * Handling of late or out-of-order events, per key: `'accept'` passes everything on in arrival
 * order; `'drop'` drops an event older than the newest one already emitted for its key;
 * `{ reorderWindow }` holds events and emits them in timestamp order once the key's newest
 * timestamp is `reorderWindow` ahead (events arriving later than that are dropped).
 */
export type OrderPolicy = 'accept' | 'drop' | { reorderWindow: number };

/** Field mapping and input policies shared by every sensor source. */
export interface SensorMappingOptions {
  /** Field holding the key. Default: none, every event gets the source's default key. A configured field that is absent is an error (`SEQ_SENSOR_MISSING_KEY`). */
  key?: string;
  /** Field holding the timestamp, or `null` for arrival time (`Date.now()`). Default `'timestamp'` (MQTT: `null`). */
  timestamp?: string | null;
  /** Value field, or several fields making a vector in this order. Default `'value'`. A JSON value that is an array of numbers becomes the vector itself. */
  value?: string | string[];
  /** Missing value policy. Default `'error'`. `'fill-previous'` with no previous value for that key and feature is an error. */
  missing?: MissingPolicy;
  /** Late / out-of-order policy per key. Default `'accept'`. */
  order?: OrderPolicy;
  /** Most events held per key by `{ reorderWindow }`; beyond it the oldest is emitted early. Default 1024. */
  maxReorderBuffer?: number;
  /**
   * Most distinct keys held in per-key state (previous values, order); an event with a new key
   * beyond it is an error (`SEQ_SENSOR_TOO_MANY_KEYS`). Only keyed policies hold state (`order`
   * other than `'accept'`, or `missing: 'fill-previous'`). `sensorTcpServer` frees a connection's
   * own key (`tcp-<n>`) when it closes; `mqttSource` forgets the least recently seen key instead
   * of rejecting. Default 10000.
   */
  maxKeys?: number;
  /**
   * Bad input (unparsable line, non-numeric field, missing key ...): `'error'` ends the stream
   * with it, `'skip'` drops that event and goes on. Default `'error'` for files and readables,
   * `'skip'` for the TCP server and MQTT (live sources shared by many senders).
   */
  invalidInput?: 'error' | 'skip';
  /**
   * Side channel: called with every problem that does not end the stream (skipped bad input,
   * dropped late events, connection trouble), each a `SeqstreamError` with a stable `code` and
   * `details` (`source`, `line`, `byteOffset`, `key` where known). If it throws, the stream
   * ends with that error. Default: none.
   */
  onError?: ErrorCallback<undefined>;
  /** Attach the parsed record (and the line's text) to each event, for writers that echo the input row verbatim. Default false. */
  keepRecord?: boolean;
}

/** Line formats of the line-based sources. */
export interface SensorLineOptions extends SensorMappingOptions {
  /** `'ndjson'` (one JSON object per line) or `'csv'`. Default `'ndjson'` (files: from the extension, `.csv` -> csv). */
  format?: 'ndjson' | 'csv';
  /** Longest line in bytes; a longer line is dropped with `SEQ_SENSOR_LINE_TOO_LONG` and reading goes on after its newline. Default 65536. */
  maxLineLength?: number;
  /** CSV field delimiter (one character). Default `','`. */
  delimiter?: string;
  /** CSV column names. Default: the first line of each input (file, readable, TCP connection) is the header. */
  columns?: string[];
}

export interface ResolvedMapping {
  key: string | undefined;
  timestamp: string | null;
  value: string[];
  missing: MissingPolicy;
  order: 'accept' | 'drop' | 'reorder';
  reorderWindow: number;
  maxReorderBuffer: number;
  maxKeys: number;
  invalidInput: 'error' | 'skip';
  onError: ErrorCallback<undefined> | undefined;
  keepRecord: boolean;
}

export interface ResolvedLineOptions extends ResolvedMapping {
  format: 'ndjson' | 'csv';
  maxLineLength: number;
  delimiter: string;
  columns: string[] | undefined;
}

function fieldName(name: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) throw new InvalidOptionError(name, 'a non-empty field name', value);
  return value;
}

export function resolveMapping(
  options: SensorMappingOptions,
  defaults: { timestamp: string | null; invalidInput: 'error' | 'skip' },
): ResolvedMapping {
  const key = options.key === undefined ? undefined : fieldName('key', options.key);
  const timestamp = options.timestamp === undefined ? defaults.timestamp : options.timestamp === null ? null : fieldName('timestamp', options.timestamp);
  const rawValue = options.value ?? 'value';
  const value = Array.isArray(rawValue) ? rawValue.map((v, i) => fieldName(`value[${i}]`, v)) : [fieldName('value', rawValue)];
  if (value.length === 0) throw new InvalidOptionError('value', 'a field name or a non-empty array of field names', rawValue);
  const missing = options.missing ?? 'error';
  if (!['error', 'skip', 'fill-previous', 'fill-zero'].includes(missing)) {
    throw new InvalidOptionError('missing', "'error' | 'skip' | 'fill-previous' | 'fill-zero'", missing);
  }
  let order: ResolvedMapping['order'];
  let reorderWindow = 0;
  const o = options.order ?? 'accept';
  if (o === 'accept' || o === 'drop') order = o;
  else if (typeof o === 'object' && o !== null && typeof o.reorderWindow === 'number' && Number.isFinite(o.reorderWindow) && o.reorderWindow >= 0) {
    order = 'reorder';
    reorderWindow = o.reorderWindow;
  } else throw new InvalidOptionError('order', "'accept' | 'drop' | { reorderWindow: finite number >= 0 }", o);
  const invalidInput = oneOfOption('invalidInput', options.invalidInput, INVALID_INPUT, defaults.invalidInput);
  functionOption('onError', options.onError);
  return {
    key,
    timestamp,
    value,
    missing,
    order,
    reorderWindow,
    maxReorderBuffer: integerOption('maxReorderBuffer', options.maxReorderBuffer, 1024, 1),
    maxKeys: integerOption('maxKeys', options.maxKeys, 10_000, 1),
    invalidInput,
    onError: options.onError,
    keepRecord: options.keepRecord === true,
  };
}

export function resolveLineOptions(options: SensorLineOptions, defaults: { format?: 'ndjson' | 'csv'; invalidInput: 'error' | 'skip' }): ResolvedLineOptions {
  const mapping = resolveMapping(options, { timestamp: 'timestamp', invalidInput: defaults.invalidInput });
  const format = options.format ?? defaults.format ?? 'ndjson';
  if (format !== 'ndjson' && format !== 'csv') throw new InvalidOptionError('format', "'ndjson' | 'csv'", format);
  const delimiter = options.delimiter ?? ',';
  if (typeof delimiter !== 'string' || delimiter.length !== 1 || delimiter === '"' || delimiter === '\n' || delimiter === '\r') {
    throw new InvalidOptionError('delimiter', 'one character other than a quote or newline', delimiter);
  }
  let columns: string[] | undefined;
  if (options.columns !== undefined) {
    if (!Array.isArray(options.columns) || options.columns.length === 0) throw new InvalidOptionError('columns', 'a non-empty array of column names', options.columns);
    columns = options.columns.map((c, i) => fieldName(`columns[${i}]`, c));
  }
  return { ...mapping, format, maxLineLength: integerOption('maxLineLength', options.maxLineLength, 65_536, 1), delimiter, columns };
}
