import { describe, InvalidInputError, SeqstreamError } from '../../errors.js';
import type { ResolvedMapping, SensorEvent } from './sensorOptions.js';

/** Where a record came from; copied onto its event and onto every error about it. */
export interface RecordOrigin {
  source: string;
  line: number;
  byteOffset: number;
  /** Key used when no key field is configured. */
  defaultKey: string;
  /** The line's text (line-based sources), kept on the event with `keepRecord`. */
  text?: string;
  /** The input (one TCP connection) this record came from, when its keys are to be flushed and freed at its end. */
  input?: AssemblerInput;
}

/**
 * One input of a shared assembler (a TCP connection), from {@link EventAssembler.openInput}.
 * It remembers which key states it fed, so {@link EventAssembler.endInput} can flush them and
 * free its default key.
 */
export interface AssemblerInput {
  readonly defaultKey: string;
  /** Key -> the state object this input fed (compared by identity: an evicted key gets a new one). */
  readonly keys: Map<string, KeyState>;
  ended: boolean;
}

export interface KeyState {
  previous: number[] | null;
  /** Newest timestamp already emitted for this key (`drop` and `reorder`). */
  lastEmitted: number;
  /** Newest timestamp seen for this key (`reorder`). */
  maxSeen: number;
  /** Min-heap on (timestamp, arrival) of events held by `reorder`. */
  heap: { event: SensorEvent; seq: number }[];
  /** Open inputs that have fed this key; held events are flushed when the last one ends. */
  feeders: number;
}

const DECIMAL = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;
const DATE_NO_ZONE = /^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?$/;

/** Reads `field` of a record without ever reaching into its prototype. */
export function fieldOf(record: Record<string, unknown>, field: string): unknown {
  return Object.prototype.hasOwnProperty.call(record, field) ? record[field] : undefined;
}

/** Parses a timestamp: finite numbers and numeric strings as given, dates to ms since the epoch (UTC when no zone is written). Returns NaN when it is neither. */
export function parseTimestamp(raw: unknown): number {
  if (typeof raw === 'number') return Number.isFinite(raw) ? raw : NaN;
  if (typeof raw !== 'string') return NaN;
  const s = raw.trim();
  // '1e999' matches the pattern and overflows to Infinity: not a timestamp.
  if (DECIMAL.test(s)) return Number.isFinite(Number(s)) ? Number(s) : NaN;
  // A date with no zone is read as UTC, not the machine's local time, so replays agree everywhere.
  if (DATE_NO_ZONE.test(s)) return Date.parse(s.length === 10 ? s : s.replace(' ', 'T') + 'Z');
  return Date.parse(s);
}

/**
 * Turns parsed records (a JSON object, a CSV row) into {@link SensorEvent}s: field mapping,
 * missing-value policy, per-key order policy and the bad-input policy. One per subscription,
 * shared by all inputs of that subscription (every TCP connection), because key state is per key.
 *
 * Key state is bounded by `maxKeys`. At the limit a new key is rejected with
 * `SEQ_SENSOR_TOO_MANY_KEYS`, or, with `keyLimit: 'evict'`, the least recently used key's state
 * is dropped (its held events emitted first) to make room.
 */
export class EventAssembler {
  /** In insertion order; with `keyLimit: 'evict'` also in use order (a used key moves to the end). */
  private readonly keys = new Map<string, KeyState>();
  private readonly keyed: boolean;
  private readonly evict: boolean;
  private seq = 0;
  private closed = false;

  constructor(
    private readonly options: ResolvedMapping,
    private readonly emit: (event: SensorEvent) => void,
    private readonly fail: (error: unknown) => void,
    settings: { keyLimit?: 'reject' | 'evict' } = {},
  ) {
    this.keyed = options.order !== 'accept' || options.missing === 'fill-previous';
    this.evict = settings.keyLimit === 'evict';
  }

  /** Opens an input whose records pass it as `origin.input`. */
  openInput(defaultKey: string): AssemblerInput {
    return { defaultKey, keys: new Map(), ended: false };
  }

  /**
   * End of one input (idempotent): every key it fed that no other open input feeds emits its
   * held events, and its default key's state is freed (no other input can use that key).
   * Keys named by a key field keep their state: the sensor may come back on a new input.
   */
  endInput(input: AssemblerInput): void {
    if (input.ended) return;
    input.ended = true;
    for (const [key, state] of input.keys) {
      state.feeders -= 1;
      if (state.feeders > 0) continue;
      this.drain(state);
      if (key === input.defaultKey && this.keys.get(key) === state) this.keys.delete(key);
    }
    input.keys.clear();
  }

  /** Bad input: ends the stream (`invalidInput: 'error'`) or goes to the side channel. */
  problem(error: SeqstreamError): void {
    if (this.closed) return;
    if (this.options.invalidInput === 'error') {
      this.closed = true;
      this.fail(error);
    } else this.report(error);
  }

  /** Sends a non-fatal problem to `onError`; a throwing callback ends the stream. */
  report(error: SeqstreamError): void {
    if (this.closed || !this.options.onError) return;
    try {
      this.options.onError(error, undefined);
    } catch (thrown) {
      this.closed = true;
      this.fail(thrown);
    }
  }

  /** Fatal: the stream ends with `error` (once). */
  abort(error: unknown): void {
    if (this.closed) return;
    this.closed = true;
    this.fail(error);
  }

  /** Teardown: nothing is emitted or reported any more. */
  close(): void {
    this.closed = true;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Maps one record; `arrival` is used when timestamps come from the clock. */
  accept(record: Record<string, unknown>, origin: RecordOrigin): void {
    if (this.closed) return;
    const o = this.options;
    const where = { source: origin.source, line: origin.line, byteOffset: origin.byteOffset };
    let key = origin.defaultKey;
    if (o.key !== undefined) {
      const k = fieldOf(record, o.key);
      if (k === undefined || k === null || k === '') {
        return this.problem(new InvalidInputError('SEQ_SENSOR_MISSING_KEY', `Record at ${origin.source} line ${origin.line} has no key field '${o.key}'`, { ...where, field: o.key }));
      }
      if (typeof k !== 'string' && typeof k !== 'number') {
        return this.problem(new InvalidInputError('SEQ_SENSOR_BAD_KEY', `Key field '${o.key}' at ${origin.source} line ${origin.line} must be a string or number, received ${describe(k)}`, { ...where, field: o.key }));
      }
      key = String(k);
    }
    let timestamp: number;
    if (o.timestamp === null) timestamp = Date.now();
    else {
      const t = fieldOf(record, o.timestamp);
      if (t === undefined || t === null || t === '') {
        return this.problem(new InvalidInputError('SEQ_SENSOR_MISSING_TIMESTAMP', `Record at ${origin.source} line ${origin.line} has no timestamp field '${o.timestamp}'`, { ...where, key, field: o.timestamp }));
      }
      timestamp = parseTimestamp(t);
      if (Number.isNaN(timestamp)) {
        return this.problem(new InvalidInputError('SEQ_SENSOR_BAD_TIMESTAMP', `Timestamp field '${o.timestamp}' at ${origin.source} line ${origin.line} is neither a number nor a date: ${describe(t)}`, { ...where, key, field: o.timestamp }));
      }
    }

    let state: KeyState | undefined;
    if (this.keyed) {
      state = this.keys.get(key);
      if (state && this.evict) {
        // Move to the end: the Map's first entry is then always the least recently used key.
        this.keys.delete(key);
        this.keys.set(key, state);
      }
      if (!state) {
        if (this.keys.size >= o.maxKeys) {
          if (!this.evict) {
            return this.problem(new InvalidInputError('SEQ_SENSOR_TOO_MANY_KEYS', `Key ${describe(key)} at ${origin.source} line ${origin.line} is over the limit of ${o.maxKeys} keys (option maxKeys)`, { ...where, key, maxKeys: o.maxKeys }));
          }
          const [oldest, oldState] = this.keys.entries().next().value as [string, KeyState];
          this.keys.delete(oldest);
          this.drain(oldState);
          if (this.closed) return;
        }
        state = { previous: null, lastEmitted: -Infinity, maxSeen: -Infinity, heap: [], feeders: 0 };
        this.keys.set(key, state);
      }
      const input = origin.input;
      if (input && !input.ended && input.keys.get(key) !== state) {
        input.keys.set(key, state);
        state.feeders += 1;
      }
    }

    // Values: either one field per feature, or one field holding a JSON array.
    let raws: unknown[];
    let arrayField = false;
    if (o.value.length === 1) {
      const v = fieldOf(record, o.value[0]);
      arrayField = Array.isArray(v);
      raws = arrayField ? (v as unknown[]) : [v];
      if (arrayField && raws.length === 0) raws = [undefined];
    } else raws = o.value.map((f) => fieldOf(record, f));
    const x = new Array<number>(raws.length);
    for (let i = 0; i < raws.length; i++) {
      const raw = raws[i];
      const field = arrayField ? `${o.value[0]}[${i}]` : o.value[i];
      let n: number;
      if (raw === undefined || raw === null || (typeof raw === 'string' && raw.trim() === '')) {
        if (o.missing === 'skip') return;
        if (o.missing === 'fill-zero') n = 0;
        else if (o.missing === 'fill-previous' && state?.previous && i < state.previous.length) n = state.previous[i];
        else {
          const noPrevious = o.missing === 'fill-previous';
          return this.problem(new InvalidInputError('SEQ_SENSOR_MISSING_VALUE', `Value field '${field}' is missing at ${origin.source} line ${origin.line}${noPrevious ? ` and key ${describe(key)} has no previous value to fill in` : ''}`, { ...where, key, field, noPrevious }));
        }
      } else if (typeof raw === 'number' && Number.isFinite(raw)) n = raw;
      else if (typeof raw === 'string' && DECIMAL.test(raw.trim()) && Number.isFinite(Number(raw))) n = Number(raw);
      else {
        // A decimal too large for a double ('1e999') parses to Infinity: name it, it looks like a number.
        const overflow = (typeof raw === 'number' && !Number.isNaN(raw)) || (typeof raw === 'string' && DECIMAL.test(raw.trim()));
        if (overflow) {
          return this.problem(new InvalidInputError('SEQ_SENSOR_NOT_FINITE', `Value field '${field}' at ${origin.source} line ${origin.line} must be a finite number, received ${describe(raw)}, which is ${Number(raw) > 0 ? '' : '-'}Infinity as a double`, { ...where, key, field, received: describe(raw) }));
        }
        return this.problem(new InvalidInputError('SEQ_SENSOR_NOT_NUMERIC', `Value field '${field}' at ${origin.source} line ${origin.line} must be a finite number, received ${describe(raw)}`, { ...where, key, field, received: describe(raw) }));
      }
      x[i] = n;
    }
    if (state && o.missing === 'fill-previous') state.previous = x.slice();

    const event: SensorEvent = { key, timestamp, x, source: origin.source, line: origin.line, byteOffset: origin.byteOffset };
    if (o.keepRecord) {
      event.record = record;
      if (origin.text !== undefined) event.text = origin.text;
    }
    if (!state || o.order === 'accept') return this.emit(event);
    if (timestamp < state.lastEmitted) {
      return this.report(new InvalidInputError('SEQ_SENSOR_LATE', `Event for key ${describe(key)} at ${origin.source} line ${origin.line} has timestamp ${timestamp}, older than ${state.lastEmitted} already emitted; dropped (option order)`, { ...where, key, timestamp, lastEmitted: state.lastEmitted }));
    }
    if (o.order === 'drop') {
      state.lastEmitted = timestamp;
      return this.emit(event);
    }
    heapPush(state.heap, { event, seq: this.seq++ });
    if (timestamp > state.maxSeen) state.maxSeen = timestamp;
    const watermark = state.maxSeen - o.reorderWindow;
    while (!this.closed && state.heap.length > 0 && (state.heap[0].event.timestamp <= watermark || state.heap.length > o.maxReorderBuffer)) {
      const next = heapPop(state.heap);
      state.lastEmitted = next.event.timestamp;
      this.emit(next.event);
    }
  }

  /** End of input: emits every event still held by `reorder`, per key in timestamp order. */
  flush(): void {
    for (const state of this.keys.values()) this.drain(state);
  }

  /** Emits the events one key holds, in timestamp order. */
  private drain(state: KeyState): void {
    while (!this.closed && state.heap.length > 0) {
      const next = heapPop(state.heap);
      state.lastEmitted = next.event.timestamp;
      this.emit(next.event);
    }
  }
}

type Entry = { event: SensorEvent; seq: number };
const before = (a: Entry, b: Entry) => a.event.timestamp < b.event.timestamp || (a.event.timestamp === b.event.timestamp && a.seq < b.seq);

function heapPush(heap: Entry[], e: Entry): void {
  heap.push(e);
  let i = heap.length - 1;
  while (i > 0) {
    const p = (i - 1) >> 1;
    if (!before(heap[i], heap[p])) break;
    [heap[i], heap[p]] = [heap[p], heap[i]];
    i = p;
  }
}

function heapPop(heap: Entry[]): Entry {
  const top = heap[0];
  const last = heap.pop()!;
  if (heap.length > 0) {
    heap[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && before(heap[l], heap[m])) m = l;
      if (r < heap.length && before(heap[r], heap[m])) m = r;
      if (m === i) break;
      [heap[i], heap[m]] = [heap[m], heap[i]];
      i = m;
    }
  }
  return top;
}
