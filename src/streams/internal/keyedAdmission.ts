import type { RecurrentModel } from '../../cells/model.js';
import { restoreState, type StateSnapshot } from '../../cells/stateSnapshot.js';
import type { ModelState } from '../../cells/types.js';
import { validateInput } from '../../cells/validateInput.js';
import { InvalidInputError } from '../../errors.js';
import type { KeyTable } from './keyTable.js';
import type { PendingQueue } from './pendingQueue.js';
import type { KeyedRowStore } from './stateRows.js';

/**
 * What {@link KeyedAdmission} needs of the keyed operator's options (already validated).
 *
 * @example
 * ```ts
 * const options: KeyedAdmissionOptions<string> = { maxBatch: 64, onInvalid: (error) => console.error(error.code) };
 * ```
 */
export interface KeyedAdmissionOptions<K> {
  maxBatch: number;
  initialState?: (key: K) => StateSnapshot | undefined;
  /** Closed key set: a new key outside it is rejected (`SEQ_KEYED_UNKNOWN_KEY`). */
  knownKeys?: ReadonlySet<K>;
  onInvalid: (error: InvalidInputError, event: unknown) => void;
}

/**
 * The way into a keyed state table: checks each input (key, offset, the vector as it is copied
 * into the {@link PendingQueue}), finds or creates its key's row in the {@link KeyTable} (a new key
 * checked against `knownKeys` and given its `initialState`), and reports a bad input on
 * `onInvalid` (counted in {@link rejected}) with nothing else changed.
 *
 * @example
 * ```ts
 * const admission = new KeyedAdmission(model, table, queue, rows, { maxBatch: 64, onInvalid: report });
 * if (admission.add({ key: 'a', x: [0.1, 0.2] })) stepTheQueue();
 * ```
 */
export class KeyedAdmission<K> {
  /** Inputs rejected so far. */
  rejected = 0;
  private readonly I: number;

  constructor(
    private readonly model: RecurrentModel,
    private readonly table: KeyTable<K>,
    private readonly queue: PendingQueue,
    private readonly rows: KeyedRowStore,
    private readonly o: KeyedAdmissionOptions<K>,
  ) {
    this.I = model.config.inputSize;
  }

  /**
   * Validates and queues one event; returns true when the queue reached `maxBatch` (the caller
   * should flush). Bad input goes to `onInvalid` and nothing else changes.
   */
  add(event: unknown): boolean {
    const ev = event as { key?: K; x?: unknown; reset?: unknown; offset?: unknown } | null;
    if (ev === null || typeof ev !== 'object') {
      return this.rejectInput(new InvalidInputError('SEQ_INPUT_TYPE', `Keyed event must be an object { key, x }, received ${ev === null ? 'null' : typeof ev}`, { received: typeof ev }), event);
    }
    const key = ev.key as K;
    const off = ev.offset as number | undefined;
    if (!this.checkKeyAndOffset(key, off, event, -1)) return false;
    const x = ev.x as ArrayLike<number> | undefined;
    const vector = x !== undefined && x !== null && x.length === this.I && (ArrayBuffer.isView(x) || Array.isArray(x));
    if (!this.queueInput(vector ? (x as ArrayLike<number>) : null, 0, ArrayBuffer.isView(x), x, key, event, -1)) return false;
    return this.admit(key, ev.reset === true, off, event, -1) && this.queue.length >= this.o.maxBatch;
  }

  /**
   * Checks an input's key (not null/undefined: `SEQ_KEYED_MISSING_KEY`) and offset (a finite number
   * or undefined: `SEQ_KEYED_OFFSET`); a bad one is rejected. `blockRow` >= 0 names the row of a block.
   */
  checkKeyAndOffset(key: K | undefined | null, off: unknown, input: unknown, blockRow: number): boolean {
    if (key === undefined || key === null) {
      return this.rejectInput(new InvalidInputError('SEQ_KEYED_MISSING_KEY', `Keyed event has no 'key' (received ${String(key)})${rowNote(blockRow)}`, blockRow >= 0 ? { row: blockRow } : {}), input, blockRow);
    }
    if (off !== undefined && (typeof off !== 'number' || !Number.isFinite(off))) {
      return this.rejectInput(new InvalidInputError('SEQ_KEYED_OFFSET', `Keyed event 'offset' must be a finite number, received ${String(off)}${rowNote(blockRow)}`, rowDetails(key, blockRow)), input, blockRow);
    }
    return true;
  }

  /**
   * Copies `inputSize` values of `src` from `from` into the next queue slot while checking them
   * (one pass, no allocation); `src` null, or a value that is not a finite number, rejects the
   * input with the code `validateInput` gives `original` (`SEQ_INPUT_SHAPE`, `SEQ_INPUT_NON_FINITE`,
   * `SEQ_INPUT_TYPE`; undefined: the `inputSize` values of `src` from `from`), naming the key. The
   * slot is used only once {@link admit} commits it.
   */
  queueInput(src: ArrayLike<number> | null, from: number, typed: boolean, original: unknown, key: K, input: unknown, blockRow: number): boolean {
    if (src !== null) {
      const base = this.queue.reserve() * this.I; // may grow the queue: take its x after
      // Separate loops per source kind keep each one's element access monomorphic.
      const ok = src instanceof Float32Array ? copyFiniteF32(src, from, this.queue.x, base, this.I) : copyFinite(src, from, typed, this.queue.x, base, this.I);
      if (ok) return true;
    }
    return this.rejectVector(src, from, original, key, input, blockRow);
  }

  /** Rejects a vector {@link queueInput} could not take, with the code `validateInput` gives it. */
  private rejectVector(src: ArrayLike<number> | null, from: number, original: unknown, key: K, input: unknown, blockRow: number): false {
    try {
      validateInput(original === undefined && src !== null ? Array.prototype.slice.call(src, from, from + this.I) : original, this.I, 'x');
    } catch (e) {
      if (e instanceof InvalidInputError) {
        // Name the key: the side channel is per key.
        return this.rejectInput(new InvalidInputError(e.code, `${e.message} (key ${String(key)}${blockRow >= 0 ? `, block row ${blockRow}` : ''})`, { ...e.details, ...rowDetails(key, blockRow) }), input, blockRow);
      }
      throw e;
    }
    return this.rejectInput(new InvalidInputError('SEQ_INPUT_TYPE', `Input 'x' is not a numeric vector (key ${String(key)}${blockRow >= 0 ? `, block row ${blockRow}` : ''})`, rowDetails(key, blockRow)), input, blockRow);
  }

  /**
   * Queues the input {@link queueInput} wrote for `key`: finds or creates its row (a new key gets
   * `initialState`, or is rejected with `SEQ_KEYED_INITIAL_STATE`), marks it most recently used.
   * Returns whether it was queued.
   */
  admit(key: K, reset: boolean, off: number | undefined, input: unknown, blockRow: number): boolean {
    let row = this.table.rowOf(key);
    if (row === undefined) {
      row = this.newRow(key, input, blockRow);
      if (row < 0) return false;
    }
    this.table.touch(row);
    const waitingReset = this.table.queued(row);
    this.queue.commit(row, reset || waitingReset, off);
    return true;
  }

  /** A row for a key not held (its initial state written), or -1 when the key is rejected (reported). Kept out of {@link admit}, the hot path. */
  private newRow(key: K, input: unknown, blockRow: number): number {
    const known = this.o.knownKeys;
    if (known !== undefined && !known.has(key)) {
      this.rejectInput(new InvalidInputError('SEQ_KEYED_UNKNOWN_KEY', `Key ${String(key)} is not one of the ${known.size} knownKeys${rowNote(blockRow)}`, rowDetails(key, blockRow)), input, blockRow);
      return -1;
    }
    // Resolve the new key's initial state before touching the table: a bad one is this key's
    // problem only, reported on the side channel; the table and every other key are untouched.
    let init: ModelState | null;
    try {
      init = this.initialStateOf(key);
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      this.rejectInput(new InvalidInputError('SEQ_KEYED_INITIAL_STATE', `initialState(${String(key)}) failed: ${why}${rowNote(blockRow)}`, { ...rowDetails(key, blockRow), cause: e }), input, blockRow);
      return -1;
    }
    const row = this.table.insert(key);
    if (init) this.rows.write(row, init, 0);
    return row;
  }

  /** Reports a rejected input (counted in `stats().rejected`); with `blockRow` >= 0 the input is a block and `onInvalid` gets that row of it ({ block, row, key }). */
  rejectInput(error: InvalidInputError, input: unknown, blockRow = -1): false {
    this.rejected++;
    this.o.onInvalid(error, blockRow >= 0 ? { block: input, row: blockRow, key: (error.details as { key?: unknown }).key } : input);
    return false;
  }

  /** The validated initial state of a new key (null: zeros). Throws if `initialState` throws or does not fit. */
  private initialStateOf(key: K): ModelState | null {
    const init = this.o.initialState ? this.o.initialState(key) : undefined;
    if (init === undefined) return null;
    const probe = this.model.createState(1);
    restoreState(this.model, probe, init);
    return probe;
  }
}

function rowNote(blockRow: number): string {
  return blockRow >= 0 ? ` (block row ${blockRow})` : '';
}

function rowDetails(key: unknown, blockRow: number): Record<string, unknown> {
  return blockRow >= 0 ? { key, row: blockRow } : { key };
}

/** Copies `n` values of `src` from `from` to `dst` at `at`; false at the first that is not finite. */
function copyFiniteF32(src: Float32Array, from: number, dst: Float32Array, at: number, n: number): boolean {
  for (let i = 0; i < n; i++) {
    const v = src[from + i];
    if (v - v !== 0) return false;
    dst[at + i] = v;
  }
  return true;
}

/** {@link copyFiniteF32} for any array-like (`typed`: its elements are numbers by construction). */
function copyFinite(src: ArrayLike<number>, from: number, typed: boolean, dst: Float32Array, at: number, n: number): boolean {
  for (let i = 0; i < n; i++) {
    const v = src[from + i];
    if ((!typed && typeof v !== 'number') || v - v !== 0) return false;
    dst[at + i] = v;
  }
  return true;
}
