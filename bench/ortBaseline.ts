/**
 * onnxruntime-node's own LSTM/GRU operator as a Node user would call it: the public
 * `InferenceSession` API on a one-node graph (one ONNX `LSTM` or `GRU` node, one time step per
 * `run`, the new `Y_h`/`Y_c` fed back as the next state), `await session.run(feeds)` per step.
 * Shared by bench/kernel.ts and bench/keyed.ts; `null` when onnxruntime-node is not installed.
 */
import { RecurrentModel } from '../src/cells/index.js';
import { stepGraph, stepGraphNames } from '../src/kernels/onnxGraph.js';
import { onnxRuntimeStatus } from '../src/kernels/onnxRuntime.js';

interface OrtTensorLike {
  readonly data: Float32Array;
}
interface OrtSessionLike {
  run(feeds: Record<string, unknown>): Promise<Record<string, OrtTensorLike>>;
  release(): Promise<void>;
}
interface OrtModule {
  InferenceSession: { create(bytes: Uint8Array, options: Record<string, unknown>): Promise<OrtSessionLike> };
  Tensor: new (type: string, data: Float32Array, dims: number[]) => unknown;
}

let ortModule: OrtModule | null | undefined;

async function ort(): Promise<OrtModule | null> {
  if (ortModule !== undefined) return ortModule;
  if (!onnxRuntimeStatus().available) return (ortModule = null);
  const name = 'onnxruntime-node';
  const m = (await import(/* @vite-ignore */ name)) as OrtModule & { default?: OrtModule };
  ortModule = m.InferenceSession ? m : (m.default ?? null);
  return ortModule;
}

/** onnxruntime-node's version line for bench headers. */
export function ortLabel(): string {
  const s = onnxRuntimeStatus();
  return s.available ? `onnxruntime-node ${s.version}` : `onnxruntime-node not measured: ${s.reason}`;
}

/** A stepping loop over the raw op: `step()` advances the batch one time step. */
export interface OrtRawOp {
  step(): Promise<void>;
  release(): Promise<void>;
}

/** Builds the raw op for `cell` (one layer, I inputs, H hidden), batch `B`, `threads` intra-op threads. */
export async function ortRawOp(cell: 'lstm' | 'gru', I: number, H: number, B: number, threads: number): Promise<OrtRawOp | null> {
  const m = await ort();
  if (!m) return null;
  const model = RecurrentModel.create({ cell, inputSize: I, hiddenSize: H, seed: 1 });
  const session = await m.InferenceSession.create(stepGraph(model), { intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all', executionProviders: ['cpu'] });
  const n = stepGraphNames;
  const x = new m.Tensor('float32', Float32Array.from({ length: B * I }, (_, i) => Math.sin(i)), [1, B, I]);
  let h = new m.Tensor('float32', new Float32Array(B * H), [1, B, H]);
  let c = cell === 'lstm' ? new m.Tensor('float32', new Float32Array(B * H), [1, B, H]) : null;
  return {
    async step() {
      const feeds: Record<string, unknown> = { [n.x]: x, [n.h(0)]: h };
      if (c) feeds[n.c(0)] = c;
      const out = await session.run(feeds);
      h = out[n.hOut(0)];
      if (c) c = out[n.cOut(0)];
    },
    release: () => session.release(),
  };
}

/** Events/s of the raw op at batch `B`: best ~100 ms slice over `seconds`. */
export async function ortThroughput(cell: 'lstm' | 'gru', I: number, H: number, B: number, threads: number, seconds: number): Promise<number | null> {
  const op = await ortRawOp(cell, I, H, B, threads);
  if (!op) return null;
  for (let i = 0; i < 3; i++) await op.step();
  let best = 0;
  const end = performance.now() + seconds * 1000;
  do {
    let steps = 0;
    const t0 = performance.now();
    let t = t0;
    while (steps < 1 || t - t0 < 100) {
      await op.step();
      steps++;
      t = performance.now();
    }
    best = Math.max(best, (steps * B) / ((t - t0) / 1000));
  } while (performance.now() < end);
  await op.release();
  return best;
}

/** p50 µs of one batch-1 step of the raw op (output read back, as `run` returns it). */
export async function ortLatencyP50(cell: 'lstm' | 'gru', I: number, H: number, threads: number, seconds: number): Promise<number | null> {
  const op = await ortRawOp(cell, I, H, 1, threads);
  if (!op) return null;
  for (let i = 0; i < 50; i++) await op.step();
  const times: number[] = [];
  const end = performance.now() + seconds * 1000;
  while (times.length < 200 || performance.now() < end) {
    const t0 = performance.now();
    await op.step();
    times.push((performance.now() - t0) * 1000);
  }
  await op.release();
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}
