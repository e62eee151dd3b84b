import { ModelFormatError } from '../errors.js';
import type { RecurrentModel } from './model.js';
import type { ModelState } from './types.js';

/**
 * A plain, JSON-safe copy of one stream's hidden state: `h[layer]` (and `c[layer]` for LSTM),
 * each `hiddenSize` numbers.
 */
export interface StateSnapshot {
  format: 'seqstream-state';
  version: 1;
  cell: string;
  hiddenSize: number;
  numLayers: number;
  h: number[][];
  c?: number[][];
}

/**
 * Copies row `row` of a state into a {@link StateSnapshot}.
 *
 * @example
 * ```ts
 * const snap = snapshotState(model, state);
 * JSON.stringify(snap); // safe to persist
 * ```
 */
export function snapshotState(model: RecurrentModel, state: ModelState, row = 0): StateSnapshot {
  const H = model.config.hiddenSize;
  const take = (arrs: Float32Array[]) => arrs.map((a) => Array.from(a.subarray(row * H, (row + 1) * H)));
  const snap: StateSnapshot = {
    format: 'seqstream-state',
    version: 1,
    cell: model.config.cell,
    hiddenSize: H,
    numLayers: model.config.numLayers,
    h: take(state.h),
  };
  if (state.c) snap.c = take(state.c);
  return snap;
}

/**
 * Writes a {@link StateSnapshot} into row `row` of `state`, after checking it fits the model.
 * Throws `ModelFormatError` with code `SEQ_STATE_FORMAT` when it does not.
 *
 * @example
 * ```ts
 * const state = model.createState();
 * restoreState(model, state, JSON.parse(saved));
 * ```
 */
export function restoreState(model: RecurrentModel, state: ModelState, snapshot: unknown, row = 0): void {
  const s = snapshot as Partial<StateSnapshot> | null;
  const { hiddenSize: H, numLayers: L, cell } = model.config;
  const fail = (why: string): never => {
    throw new ModelFormatError('SEQ_STATE_FORMAT', `State snapshot does not fit this ${cell} model (L=${L}, H=${H}): ${why}`, { why });
  };
  if (!s || typeof s !== 'object' || s.format !== 'seqstream-state') fail("expected format 'seqstream-state'");
  if (s!.version !== 1) fail(`unsupported version ${String(s!.version)}`);
  if (s!.cell !== cell) fail(`snapshot is for cell '${String(s!.cell)}'`);
  const check = (name: 'h' | 'c', arrs: unknown): number[][] => {
    if (!Array.isArray(arrs) || arrs.length !== L) fail(`'${name}' must have ${L} layer(s)`);
    for (const a of arrs as unknown[]) {
      if (!Array.isArray(a) || a.length !== H) fail(`every '${name}' layer must have ${H} numbers`);
      for (const v of a as unknown[]) if (typeof v !== 'number' || !Number.isFinite(v)) fail(`'${name}' holds a non-finite value`);
    }
    return arrs as number[][];
  };
  const h = check('h', s!.h);
  const c = state.c ? check('c', s!.c) : null;
  for (let k = 0; k < L; k++) {
    state.h[k].set(h[k], row * H);
    if (c && state.c) state.c[k].set(c[k], row * H);
  }
}
