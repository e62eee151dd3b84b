import type { Parameter } from '../../cells/model.js';

/** Serialised optimizer (see {@link Optimizer.toJSON}): options, step count and per-parameter buffers by name. */
export interface OptimizerJSON {
  format: 'seqstream-optimizer';
  version: 1;
  type: 'sgd' | 'adam' | 'rmsprop';
  options: Record<string, unknown>;
  /** Number of steps taken. */
  steps: number;
  /** Per parameter name, named buffers (e.g. `{ exp_avg: [...], exp_avg_sq: [...] }`), flat. */
  state: Record<string, Record<string, number[]>>;
}

/**
 * A first-order optimizer with PyTorch's update rule, holding its per-parameter state in float64
 * (keyed by parameter name, created on the first step). `step` changes `params[i].data` in place
 * from `grads[i]`: call it inside `model.updateParameters` so other operators see the new weights
 * as one version.
 */
export interface Optimizer {
  readonly type: 'sgd' | 'adam' | 'rmsprop';
  /** Learning rate; may be changed between steps (a schedule). */
  lr: number;
  /** Steps taken so far. */
  readonly steps: number;
  /** One update of every parameter from its gradient (same order, same lengths). */
  step(params: readonly Parameter[], grads: readonly Float64Array[]): void;
  /** Options, step count and buffers as plain JSON; load with `optimizerFromJSON`. */
  toJSON(): OptimizerJSON;
}

/**
 * The named float64 buffers of one parameter, created (zeroed) on first use. Shared by the optimizers.
 *
 * @example
 * ```ts
 * const [m, v] = paramBuffers(state, 'weight_ih_l0', ['exp_avg', 'exp_avg_sq'], 160);
 * ```
 */
export function paramBuffers(state: Map<string, Record<string, Float64Array>>, name: string, keys: readonly string[], n: number): Float64Array[] {
  let rec = state.get(name);
  if (!rec) {
    rec = {};
    state.set(name, rec);
  }
  // The missing buffers of one parameter share one backing store (fewer, larger allocations).
  let missing = 0;
  for (const k of keys) if (!rec[k] || rec[k].length !== n) missing++;
  const fresh = missing > 0 ? new Float64Array(missing * n) : null;
  let next = 0;
  return keys.map((k) => {
    let b = rec![k];
    if (!b || b.length !== n) {
      b = (fresh as Float64Array).subarray(next, (next += n));
      rec![k] = b;
    }
    return b;
  });
}

/**
 * Creates (zeroed) the named buffers that `params` do not have yet, all views into one
 * Float64Array: one backing store per optimizer instead of one per buffer (thousands of small
 * models). {@link paramBuffers} then finds them.
 *
 * @example
 * ```ts
 * reserveParamBuffers(state, model.parameters(), ['exp_avg', 'exp_avg_sq']);
 * ```
 */
export function reserveParamBuffers(state: Map<string, Record<string, Float64Array>>, params: readonly { name: string; data: { length: number } }[], keys: readonly string[]): void {
  let total = 0;
  for (const p of params) for (const k of keys) if (state.get(p.name)?.[k]?.length !== p.data.length) total += p.data.length;
  if (total === 0) return;
  const slab = new Float64Array(total);
  let next = 0;
  for (const p of params) {
    let rec = state.get(p.name);
    if (!rec) {
      rec = {};
      state.set(p.name, rec);
    }
    for (const k of keys) if (rec[k]?.length !== p.data.length) rec[k] = slab.subarray(next, (next += p.data.length));
  }
}

/**
 * Serialises per-parameter float64 buffers to plain arrays.
 *
 * @example
 * ```ts
 * stateToJSON(new Map([['w', { m: Float64Array.of(1) }]])); // { w: { m: [1] } }
 * ```
 */
export function stateToJSON(state: Map<string, Record<string, Float64Array>>): Record<string, Record<string, number[]>> {
  const out: Record<string, Record<string, number[]>> = {};
  for (const [name, bufs] of state) {
    out[name] = {};
    for (const [k, v] of Object.entries(bufs)) out[name][k] = Array.from(v);
  }
  return out;
}

/**
 * Reads buffers written by {@link stateToJSON}.
 *
 * @example
 * ```ts
 * stateFromJSON({ w: { m: [1] } }).get('w')!.m; // Float64Array [1]
 * ```
 */
export function stateFromJSON(json: Record<string, Record<string, number[]>> | undefined): Map<string, Record<string, Float64Array>> {
  const state = new Map<string, Record<string, Float64Array>>();
  for (const [name, bufs] of Object.entries(json ?? {})) {
    const rec: Record<string, Float64Array> = {};
    for (const [k, v] of Object.entries(bufs)) rec[k] = Float64Array.from(v);
    state.set(name, rec);
  }
  return state;
}

/** An optimizer's per-step update: every parameter from its gradient at learning rate `lr`; `step` counts from 1. */
export type OptimizerUpdate = (
  params: readonly Parameter[],
  grads: readonly Float64Array[],
  lr: number,
  state: Map<string, Record<string, Float64Array>>,
  step: number,
) => void;

/**
 * The part every optimizer shares: the step count, the named buffers restored from `restored`,
 * a changeable `lr`, and `toJSON` writing `hyper` (with the current `lr` first) beside them.
 *
 * @example
 * ```ts
 * const sign = defineOptimizer('sgd', { lr: 0.1 }, undefined, (params, grads, lr) => {
 *   params.forEach((p, i) => p.data.forEach((_, j) => (p.data[j] -= lr * Math.sign(grads[i][j]))));
 * });
 * ```
 */
export function defineOptimizer(
  type: Optimizer['type'],
  hyper: { lr: number } & Record<string, unknown>,
  restored: OptimizerJSON | undefined,
  update: OptimizerUpdate,
): Optimizer {
  const { lr, ...rest } = hyper;
  const state = stateFromJSON(restored?.state);
  let steps = restored?.steps ?? 0;
  return {
    type,
    lr,
    get steps() {
      return steps;
    },
    step(params, grads) {
      steps++;
      update(params, grads, this.lr, state, steps);
    },
    toJSON(): OptimizerJSON {
      return { format: 'seqstream-optimizer', version: 1, type, options: { lr: this.lr, ...rest }, steps, state: stateToJSON(state) };
    },
  };
}
