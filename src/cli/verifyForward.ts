import { from, Subject } from 'rxjs';
import { loadStateDict } from '../cells/stateDict.js';
import type { RecurrentModel } from '../cells/model.js';
import { runSequence } from '../cells/runSequence.js';
import type { StateSnapshot } from '../cells/stateSnapshot.js';
import { ModelFormatError } from '../errors.js';
import { recurrent, type RecurrentStep } from '../streams/recurrent.js';
import type { ForwardFixture } from './forwardFixture.js';
import { checkStepKernels } from './verifyKernels.js';

export type { ForwardFixture } from './forwardFixture.js';

type N3 = number[][][];

/** Tolerance for float32 against PyTorch's float64 reference: `|a - ref| <= atol + rtol * |ref|`. */
export interface Tolerance {
  atol: number;
  rtol: number;
}

/** Default tolerance, from the fixtures' README: passes torch's own float32 results with margin. */
export const DEFAULT_TOLERANCE: Tolerance = { atol: 1e-5, rtol: 1e-4 };

/** Result of checking one fixture. */
export interface CheckResult {
  passed: boolean;
  maxAbsError: number;
  /** What was compared, e.g. `whole:fused`, `events:tfjs`, `chunks:fused`. */
  checked: string[];
  /** First comparisons that failed, for the report. */
  failures: string[];
}

/** Accumulates comparisons against reference values. */
export class Comparison {
  maxAbsError = 0;
  readonly failures: string[] = [];
  constructor(private readonly tol: Tolerance) {}

  /** Compares nested arrays (or numbers) element by element. */
  check(label: string, got: unknown, ref: unknown): void {
    const g = flatten(got);
    const r = flatten(ref);
    if (g.length !== r.length) {
      this.failures.push(`${label}: ${g.length} values, reference has ${r.length}`);
      this.maxAbsError = Infinity;
      return;
    }
    let worst = -1;
    let worstErr = 0;
    for (let i = 0; i < r.length; i++) {
      const err = Math.abs(g[i] - r[i]);
      if (!(err <= this.tol.atol + this.tol.rtol * Math.abs(r[i])) && (worst < 0 || err > worstErr)) {
        worst = i;
        worstErr = err;
      }
      if (!(err <= this.maxAbsError)) this.maxAbsError = Number.isNaN(err) ? Infinity : err;
    }
    if (worst >= 0) this.failures.push(`${label}[${worst}]: got ${g[worst]}, reference ${r[worst]} (|err| ${worstErr.toExponential(2)})`);
  }
}

function flatten(v: unknown): number[] {
  if (typeof v === 'number') return [v];
  if (ArrayBuffer.isView(v)) return Array.from(v as unknown as ArrayLike<number>);
  if (Array.isArray(v)) return v.flatMap(flatten);
  return [NaN];
}

/** Shape of a rectangular nested numeric array of `rank` dimensions; throws `SEQ_FIXTURE_FORMAT` otherwise. */
function shapeOf(name: string, value: unknown, rank: number): number[] {
  const fail = (why: string): never => {
    throw new ModelFormatError('SEQ_FIXTURE_FORMAT', `Fixture field '${name}' ${why}`, { field: name });
  };
  const dims: number[] = [];
  let v: unknown = value;
  for (let d = 0; d < rank; d++) {
    if (!Array.isArray(v)) fail(`must be a ${rank}-dimensional array of numbers`);
    dims.push((v as unknown[]).length);
    v = (v as unknown[])[0];
  }
  const check = (u: unknown, d: number): void => {
    if (d === rank) {
      if (typeof u !== 'number' || !Number.isFinite(u)) fail('holds a value that is not a finite number');
      return;
    }
    if (!Array.isArray(u) || u.length !== dims[d]) fail(`is not rectangular [${dims.join(', ')}]`);
    for (const w of u as unknown[]) check(w, d + 1);
  };
  check(value, 0);
  return dims;
}

/** Checks the fields every forward fixture has, and that their shapes agree with each other. */
function checkForwardFields(fx: ForwardFixture): void {
  const fail = (why: string): never => {
    throw new ModelFormatError('SEQ_FIXTURE_FORMAT', why, {});
  };
  if (!fx.config || typeof fx.config !== 'object' || typeof fx.config.cell !== 'string') fail("Fixture lacks 'config.cell'");
  if (!fx.params || typeof fx.params !== 'object') fail("Fixture lacks 'params'");
  for (const field of ['x', 'h0', 'output', 'h_n'] as const) if (fx[field] === undefined) fail(`Fixture lacks '${field}'`);
  const [B, T] = shapeOf('x', fx.x, 3);
  const [L, Bh, H] = shapeOf('h0', fx.h0, 3);
  const [Bo, To, Ho] = shapeOf('output', fx.output, 3);
  const hn = shapeOf('h_n', fx.h_n, 3);
  if (Bh !== B || Bo !== B || To !== T || Ho !== H || hn.join() !== [L, B, H].join()) {
    fail(`Fixture shapes disagree: x [${B}, ${T}, .], h0 [${L}, ${Bh}, ${H}], output [${Bo}, ${To}, ${Ho}], h_n [${hn}]`);
  }
  if (fx.c0 !== undefined && shapeOf('c0', fx.c0, 3).join() !== [L, B, H].join()) fail("Fixture 'c0' must have the shape of 'h0'");
}

/** Builds the model a fixture describes. */
export function modelFromFixture(fx: ForwardFixture): RecurrentModel {
  checkForwardFields(fx);
  return loadStateDict(fx.params as never, {
    nonlinearity: fx.config.cell === 'rnn_relu' ? 'relu' : 'tanh',
    headActivation: fx.config.head_activation,
    cell: fx.config.cell as never,
  });
}

/** Row b of a `[L, B, H]` state pair as a snapshot. */
function rowSnapshot(model: RecurrentModel, h: N3, c: N3 | undefined, b: number): StateSnapshot {
  const snap: StateSnapshot = {
    format: 'seqstream-state',
    version: 1,
    cell: model.config.cell,
    hiddenSize: model.config.hiddenSize,
    numLayers: model.config.numLayers,
    h: h.map((layer) => layer[b]),
  };
  if (c) snap.c = c.map((layer) => layer[b]);
  return snap;
}

/**
 * Checks a forward (or stream-chunk) fixture three ways on each engine: the whole sequence at once
 * (`runSequence`), event by event through `recurrent()` (one subscription per batch row), and,
 * when the file has `chunks`, chunk by chunk with the state carried across chunks; then the whole
 * batch through every step kernel here (`kernels:wasm-simd`, `kernels:onnxruntime`, see
 * `checkStepKernels`). `loaded` replaces the model the fixture's `params` describe (ONNX import).
 *
 * @example
 * ```ts
 * const r = checkForwardFixture(JSON.parse(text), ['fused', 'tfjs']);
 * r.passed; r.maxAbsError;
 * ```
 */
export function checkForwardFixture(
  fx: ForwardFixture,
  engines: ReadonlyArray<'fused' | 'tfjs'>,
  tol: Tolerance = DEFAULT_TOLERANCE,
  loaded?: RecurrentModel,
): CheckResult {
  // `loaded`: the model came from elsewhere (an ONNX file), the fixture has no `params`.
  const model = loaded ?? modelFromFixture(fx);
  const cmp = new Comparison(tol);
  const checked: string[] = [];
  const B = fx.x.length;
  try {
    for (const engine of engines) {
      // 1. Whole sequence at once.
      const whole = runSequence(model, fx.x, { h0: fx.h0, c0: fx.c0, engine });
      cmp.check(`whole:${engine} output`, whole.output, fx.output);
      cmp.check(`whole:${engine} h_n`, whole.hN, fx.h_n);
      if (fx.c_n) cmp.check(`whole:${engine} c_n`, whole.cN, fx.c_n);
      if (fx.y) cmp.check(`whole:${engine} y`, whole.y, fx.y);
      checked.push(`whole:${engine}`);

      // 2. Event by event, one stream per batch row.
      for (let b = 0; b < B; b++) {
        const steps: RecurrentStep[] = [];
        from(fx.x[b])
          .pipe(recurrent(model, { emit: 'all', engine, initialState: rowSnapshot(model, fx.h0, fx.c0, b) }))
          .subscribe((s) => steps.push(s));
        cmp.check(`events:${engine} output[${b}]`, steps.map((s) => s.h), fx.output[b]);
        if (fx.y) cmp.check(`events:${engine} y[${b}]`, steps.map((s) => s.y), fx.y[b]);
        if (fx.c_all) cmp.check(`events:${engine} c_all[${b}]`, steps.map((s) => s.state.c![model.config.numLayers - 1]), fx.c_all[b]);
        const last = steps[steps.length - 1]?.state;
        if (last) {
          cmp.check(`events:${engine} h_n[${b}]`, last.h, fx.h_n.map((l) => l[b]));
          if (fx.c_n) cmp.check(`events:${engine} c_n[${b}]`, last.c, fx.c_n.map((l) => l[b]));
        }
      }
      checked.push(`events:${engine}`);

      // 3. In the file's chunks: one long-lived stream per row, fed chunk after chunk.
      if (fx.chunks) {
        for (let b = 0; b < B; b++) {
          const input = new Subject<number[]>();
          const steps: RecurrentStep[] = [];
          const sub = input
            .pipe(recurrent(model, { emit: 'all', engine, initialState: rowSnapshot(model, fx.h0, fx.c0, b) }))
            .subscribe((s) => steps.push(s));
          for (const [j, chunk] of fx.chunks.entries()) {
            steps.length = 0;
            for (const xt of chunk.x[b]) input.next(xt);
            cmp.check(`chunks:${engine} chunk ${j} output[${b}]`, steps.map((s) => s.h), chunk.output[b]);
            const last = steps[steps.length - 1].state;
            cmp.check(`chunks:${engine} chunk ${j} h_n[${b}]`, last.h, chunk.h_n.map((l) => l[b]));
            if (chunk.c_n) cmp.check(`chunks:${engine} chunk ${j} c_n[${b}]`, last.c, chunk.c_n.map((l) => l[b]));
          }
          sub.unsubscribe();
        }
        checked.push(`chunks:${engine}`);
      }
    }
    checked.push(...checkStepKernels(model, fx, cmp));
  } finally {
    model.dispose();
  }
  return { passed: cmp.failures.length === 0, maxAbsError: cmp.maxAbsError, checked, failures: cmp.failures };
}
