import type { CellKind } from './types.js';

/**
 * The gate math of one cell kind, given the two pre-activation vectors PyTorch computes:
 * `gi = W_ih x + b_ih` and `gh = W_hh h + b_hh`, each `G*H` long in gate-block order.
 * The matrix products are shared by every kind (see `stepLayer`); only this part differs.
 */
export interface CellDefinition {
  /** Which cell this is. */
  readonly kind: CellKind;
  /** Number of gate blocks G (1 RNN, 4 LSTM, 3 GRU). */
  readonly gates: number;
  /** Whether the cell carries a cell state `c` beside `h` (LSTM). */
  readonly hasCellState: boolean;
  /**
   * Float path: update one row's `h` (and `c`) in place from its pre-activations.
   * `gi`/`gh` hold `G*H` values starting at 0; `h`/`c` rows start at `off`.
   */
  combine(gi: Float64Array, gh: Float64Array, h: Float32Array, c: Float32Array | null, off: number, H: number): void;
}

/** Logistic function, computed so that it never overflows. */
export function sigmoid(v: number): number {
  return v >= 0 ? 1 / (1 + Math.exp(-v)) : Math.exp(v) / (1 + Math.exp(v));
}
