import { InvalidOptionError, ModelFormatError } from '../errors.js';
import { createTbpttEngine } from '../training/createTbpttEngine.js';
import { learnWindow } from '../training/learnWindow.js';
import type { LossKind } from '../training/losses.js';
import type { RecurrentModel, NestedNumbers } from '../cells/model.js';
import { loadStateDict, type StateDict } from '../cells/stateDict.js';
import { createOptimizer, type OptimizerSpec } from '../training/optimizers/optimizerFromJSON.js';
import type { CellKind, HeadActivation } from '../cells/types.js';

/** Result of {@link verifyTbpttFixture}. */
export interface TbpttVerifyResult {
  /** The fixture's `case`. */
  case: string;
  /** Largest |ours - reference| over everything checked. */
  maxAbsError: number;
  /** Every value within `atol + rtol * |reference|`. */
  passed: boolean;
  /** What was compared, e.g. `'loss (3 windows)'`. */
  checked: string[];
  /** The first few values out of tolerance (empty when passed). */
  failures: string[];
}

/** Options of {@link verifyTbpttFixture}. */
export interface TbpttVerifyOptions {
  /** Which TBPTT engine to check. For `'tfjs'`, initialise the backend first. */
  engine: 'fused' | 'tfjs';
  /** Absolute tolerance. Default 1e-5. */
  atol?: number;
  /** Relative tolerance. Default 1e-4. */
  rtol?: number;
  /** Fused engine's kernel: `'auto'` (WebAssembly SIMD where it loads) or `'js'`. Default `'auto'`. */
  kernel?: 'auto' | 'js';
}

interface TbpttFixture {
  case: string;
  config: {
    cell: CellKind;
    input_size: number;
    hidden_size: number;
    num_layers: number;
    batch_size: number;
    seq_len: number;
    head_out_features?: number;
    head_activation?: HeadActivation;
    tbptt_k1: number;
    tbptt_k2: number;
    loss?: string;
    clip_grad_norm?: number | null;
    optimizer?: OptimizerSpec | null;
  };
  params: Record<string, NestedNumbers>;
  x: number[][][];
  target: number[][][];
  h0?: number[][][];
  c0?: number[][][];
  windows: Array<{
    start?: number;
    length?: number;
    loss: number;
    grads: Record<string, NestedNumbers>;
    grad_norm?: number;
    grads_after_clip?: Record<string, NestedNumbers>;
    params_after_step?: Record<string, NestedNumbers>;
  }>;
}

const LOSSES: Record<string, LossKind> = {
  mse_mean: 'mse',
  mse: 'mse',
  cross_entropy: 'cross_entropy',
  cross_entropy_mean: 'cross_entropy',
  bce: 'binary_cross_entropy',
  bce_with_logits_mean: 'binary_cross_entropy',
  binary_cross_entropy: 'binary_cross_entropy',
};

/**
 * Replays a PyTorch truncated-BPTT fixture (a file with `windows`, schema in the fixtures
 * README) through seqstream's TBPTT (k1 <= k2, clipping, SGD/Adam/RMSprop) and compares, window
 * by window: the loss, every parameter gradient, `grad_norm`, `grads_after_clip` and
 * `params_after_step` when present, with `|ours - ref| <= atol + rtol * |ref|`.
 *
 * @example
 * ```ts
 * const fixture = JSON.parse(readFileSync('lstm_tbptt_grads.json', 'utf8'));
 * verifyTbpttFixture(fixture, { engine: 'fused' }); // { case: 'lstm_tbptt_grads', maxAbsError: 1e-16, passed: true, ... }
 * ```
 */
export function verifyTbpttFixture(fixture: unknown, options: TbpttVerifyOptions): TbpttVerifyResult {
  const f = fixture as TbpttFixture;
  if (!f || typeof f !== 'object' || !Array.isArray(f.windows) || !f.config || !f.params) {
    throw new ModelFormatError('SEQ_FIXTURE_FORMAT', 'Not a TBPTT fixture: expected config, params and windows', {});
  }
  if (options.engine !== 'fused' && options.engine !== 'tfjs') throw new InvalidOptionError('engine', "'fused' or 'tfjs'", options.engine);
  const atol = options.atol ?? 1e-5;
  const rtol = options.rtol ?? 1e-4;
  const cfg = f.config;
  const loss = LOSSES[cfg.loss ?? 'mse_mean'];
  if (!loss) throw new ModelFormatError('SEQ_FIXTURE_FORMAT', `Unknown loss '${cfg.loss}'`, { loss: cfg.loss });
  // Sizes come from the parameters and data themselves (as for forward fixtures); config must agree.
  let model: RecurrentModel;
  try {
    model = loadStateDict(f.params as StateDict, {
      cell: cfg.cell,
      nonlinearity: cfg.cell === 'rnn_relu' ? 'relu' : 'tanh',
      headActivation: cfg.head_activation ?? 'identity',
    });
  } catch (e) {
    throw new ModelFormatError('SEQ_FIXTURE_FORMAT', `TBPTT fixture params do not describe a model: ${(e as Error).message}`, {});
  }
  const { inputSize: I, numLayers: L } = model.config;
  const outputSize = model.head ? model.head.outputSize : model.config.hiddenSize;
  if (!Array.isArray(f.x) || f.x.length === 0 || !Array.isArray(f.x[0])) throw new ModelFormatError('SEQ_FIXTURE_FORMAT', "TBPTT fixture 'x' must be [B, T, I]", {});
  const B = f.x.length;
  const T = f.x[0].length;
  const k1 = cfg.tbptt_k1;
  const k2 = cfg.tbptt_k2 ?? k1;
  if (!Number.isInteger(k1) || !Number.isInteger(k2) || k1 < 1 || k2 < k1) {
    throw new ModelFormatError('SEQ_FIXTURE_FORMAT', `TBPTT fixture needs integers 1 <= tbptt_k1 <= tbptt_k2, has k1=${String(k1)}, k2=${String(k2)}`, { k1, k2 });
  }
  const engine = createTbpttEngine(model, options.engine, { k1, k2, loss, batch: B, kernel: options.kernel });
  const optimizer = cfg.optimizer ? createOptimizer(cfg.optimizer) : null;
  const params = model.parameters();
  const grads = params.map((p) => new Float64Array(p.data.length));

  let maxAbs = 0;
  const failures: string[] = [];
  const counts = new Map<string, number>();
  const compare = (what: string, label: string, ours: ArrayLike<number>, ref: ArrayLike<number>) => {
    counts.set(what, (counts.get(what) ?? 0) + 1);
    if (ours.length !== ref.length) {
      failures.push(`${label}: length ${ours.length} vs reference ${ref.length}`);
      maxAbs = Infinity;
      return;
    }
    for (let i = 0; i < ref.length; i++) {
      const err = Math.abs(ours[i] - ref[i]);
      if (!(err <= maxAbs)) maxAbs = Number.isNaN(err) ? Infinity : Math.max(maxAbs, err);
      if (!(err <= atol + rtol * Math.abs(ref[i])) && failures.length < 10) failures.push(`${label}[${i}]: ${ours[i]} vs reference ${ref[i]}`);
    }
  };
  const flat = (v: NestedNumbers): number[] => (Array.isArray(v) ? ((v as unknown[]).flat(Infinity) as number[]) : [v]);
  const compareParams = (what: string, w: number, ref: Record<string, NestedNumbers>, ours: (i: number) => ArrayLike<number>) => {
    params.forEach((p, i) => {
      if (!(p.name in ref)) {
        failures.push(`windows[${w}].${what}: missing '${p.name}'`);
        return;
      }
      compare(what, `windows[${w}].${what}.${p.name}`, ours(i), flat(ref[p.name]));
    });
  };

  try {
    const h0 = f.h0 ? Array.from({ length: L }, (_, l) => f.h0![l].flat()) : null;
    const c0 = f.c0 ? Array.from({ length: L }, (_, l) => f.c0![l].flat()) : null;
    engine.reset(h0, c0);
    const x = new Float64Array(B * I);
    const target = new Float64Array(B * outputSize);
    const y = new Float32Array(B * outputSize);
    let w = 0;
    for (let t = 0; t < T; t++) {
      for (let b = 0; b < B; b++) {
        for (let k = 0; k < I; k++) x[b * I + k] = f.x[b][t][k];
        for (let k = 0; k < outputSize; k++) target[b * outputSize + k] = f.target[b][t][k];
      }
      engine.step(x, target, y);
      if (!engine.windowDue()) continue;
      const ref = f.windows[w];
      if (!ref) {
        failures.push(`window ${w} after step ${t} is missing from the fixture`);
        maxAbs = Infinity;
        break;
      }
      const wi = w;
      learnWindow(model, engine, grads, {
        optimizer,
        clipGradNorm: cfg.clip_grad_norm ?? null,
        afterBackward: (win, g) => {
          if ((ref.start !== undefined && ref.start !== win.start) || (ref.length !== undefined && ref.length !== win.length)) {
            failures.push(`windows[${wi}]: covers [${win.start}, +${win.length}), reference [${ref.start}, +${ref.length})`);
            maxAbs = Infinity;
          }
          compare('loss', `windows[${wi}].loss`, [win.loss], [ref.loss]);
          compareParams('grads', wi, ref.grads, (i) => g[i]);
        },
        afterClip: (g, norm) => {
          if (ref.grad_norm !== undefined) compare('grad_norm', `windows[${wi}].grad_norm`, [norm], [ref.grad_norm]);
          if (ref.grads_after_clip) compareParams('grads_after_clip', wi, ref.grads_after_clip, (i) => g[i]);
        },
      });
      if (ref.params_after_step && optimizer) compareParams('params_after_step', wi, ref.params_after_step, (i) => params[i].data);
      w++;
    }
    if (w !== f.windows.length) {
      failures.push(`ran ${w} windows, the fixture has ${f.windows.length}`);
      maxAbs = Infinity;
    }
  } finally {
    engine.dispose();
    model.dispose();
  }
  const windows = f.windows.length;
  const checked = [...counts.entries()].map(([what, n]) => (what === 'loss' || what === 'grad_norm' ? `${what} (${n} windows)` : `${what} (${n / params.length} windows x ${params.length} params)`));
  return { case: f.case, maxAbsError: maxAbs, passed: failures.length === 0 && counts.size > 0 && windows > 0, checked, failures };
}
