import type { ModelJSON, RecurrentModel } from '../../cells/model.js';
import { ModelFormatError } from '../../errors.js';
import type { KeyTable } from './keyTable.js';

/**
 * Every key's hidden state at one moment, plus what is needed to resume exactly there: the
 * source offset of the last event included and (optionally) the model's weights.
 * Made by `recurrentByKey` (see its `checkpoint` option and `KeyedRecurrentControl.capture`).
 *
 * @example
 * ```ts
 * const cp: KeyedCheckpoint<string> = control.capture();
 * source.pipe(recurrentByKey(model, { resumeFrom: cp })); // replay from cp.offset + 1
 * ```
 */
export interface KeyedCheckpoint<K = string | number> {
  format: 'seqstream-keyed-checkpoint';
  version: 1;
  /** Source offset of the last event whose step is included; `null` if events carry no offsets. Replay from the next one. */
  offset: number | null;
  /** Events stepped since the very first run (carried across restarts). */
  events: number;
  cell: string;
  hiddenSize: number;
  numLayers: number;
  /** Keys, least recently used first (restoring in this order keeps the LRU order). */
  keys: K[];
  /**
   * States, one row of `(c ? 2 : 1) * numLayers * hiddenSize` floats per key in `keys` order:
   * `h` of layers 0..L-1, then `c` of layers 0..L-1 (LSTM).
   */
  state: Float32Array;
  /** `model.version` when captured. */
  modelVersion: number;
  /** `model.toJSON()` when captured, or null if the checkpoint was taken without the model. */
  model: ModelJSON | null;
  /** JSON-safe value from `checkpoint.extra()` (e.g. a trainer's optimizer state), saved in the same atomic write; null without. */
  extra?: unknown;
}

/** Where a checkpoint's stream stood: the offset of the last event stepped (NaN: none) and the events stepped so far. */
export interface KeyedProgress {
  offset: number;
  events: number;
}

/**
 * Copies every held key's state (least recently used first), the model and the progress into a
 * checkpoint. Queued events are not included: they come after `offset` and are replayed. A key
 * deleted while its queued events finish is not included either.
 *
 * @example
 * ```ts
 * const cp = captureKeyed(table, model, { offset: 41, events: 42 }, true);
 * ```
 */
export function captureKeyed<K>(table: KeyTable<K>, model: RecurrentModel, progress: KeyedProgress, includeModel: boolean): KeyedCheckpoint<K> {
  const { rows } = table;
  const order = table.lruRows();
  const state = new Float32Array(order.length * rows.rowFloats);
  order.forEach((row, n) => rows.read(row, state, n * rows.rowFloats));
  const { cell, hiddenSize, numLayers } = model.config;
  return {
    format: 'seqstream-keyed-checkpoint',
    version: 1,
    offset: progress.offset === progress.offset ? progress.offset : null,
    events: progress.events,
    cell,
    hiddenSize,
    numLayers,
    keys: order.map((row) => table.keyOf(row)),
    state,
    modelVersion: model.version,
    model: includeModel ? model.toJSON() : null,
  };
}

/**
 * Loads a {@link captureKeyed} result into the table (keys in LRU order) and returns its
 * progress. Throws `SEQ_STATE_FORMAT`, having changed nothing, if it does not fit the model.
 *
 * @example
 * ```ts
 * const { offset, events } = loadKeyed(table, model, cp);
 * ```
 */
export function loadKeyed<K>(table: KeyTable<K>, model: RecurrentModel, cp: KeyedCheckpoint<K>): { offset: number | null; events: number } {
  checkCheckpointFits(model, cp);
  const { rows } = table;
  cp.keys.forEach((key, n) => {
    let row = table.rowOf(key);
    if (row === undefined) row = table.insert(key);
    table.touch(row);
    rows.load(row, cp.state, n * rows.rowFloats);
  });
  return { offset: cp.offset ?? null, events: cp.events };
}

/**
 * Throws `ModelFormatError` `SEQ_STATE_FORMAT` unless `cp` is a keyed checkpoint of a model shaped
 * like `model` (cell, H, layers) whose keys and state lengths agree.
 *
 * @example
 * ```ts
 * checkCheckpointFits(model, await store.load()); // before resuming from it
 * ```
 */
export function checkCheckpointFits<K>(model: RecurrentModel, cp: KeyedCheckpoint<K>): void {
  const { cell, hiddenSize: H, numLayers: L } = model.config;
  const rowFloats = (model.cellDefinition.hasCellState ? 2 : 1) * L * H;
  const fail = (why: string): never => {
    throw new ModelFormatError('SEQ_STATE_FORMAT', `Keyed checkpoint does not fit this ${cell} model (L=${L}, H=${H}): ${why}`, { why });
  };
  if (!cp || cp.format !== 'seqstream-keyed-checkpoint' || cp.version !== 1) fail("expected format 'seqstream-keyed-checkpoint' version 1");
  if (cp.cell !== cell || cp.hiddenSize !== H || cp.numLayers !== L) fail(`checkpoint is for ${cp.cell} L=${cp.numLayers} H=${cp.hiddenSize}`);
  if (!Array.isArray(cp.keys) || !(cp.state instanceof Float32Array) || cp.state.length !== cp.keys.length * rowFloats) fail('keys and state lengths disagree');
}
