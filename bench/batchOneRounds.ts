/**
 * Batch-1 latency of seqstream's WebAssembly kernel, PyTorch and onnxruntime's own op, measured in
 * interleaved rounds in one run (used by bench/kernel.ts for issue 13's target: seqstream's p50 at
 * most 0.3x of each peer's). On a shared machine the load changes from second to second, so each
 * round measures all three back to back and the ratios are taken per round: a burst of load then
 * moves one round's three figures together instead of one peer's whole measurement.
 *
 * PyTorch runs in one kept `python3 bench/kernelTorch.py --serve` process (OpenBLAS, one thread,
 * `OPENBLAS_CORETYPE`/`OPENBLAS_L2_SIZE` removed from its environment); onnxruntime's op through
 * its public `run` (bench/ortBaseline.ts), one intra-op thread.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface, type Interface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { RecurrentModel } from '../src/cells/index.js';
import { createWasmStepper } from '../src/kernels/wasmStepper.js';
import { ortRawOp } from './ortBaseline.js';

/** p50 µs per engine in each round, and per-round ratios seqstream/peer. */
export interface BatchOneRounds {
  readonly wasm: number[];
  readonly torch: number[] | null;
  readonly ort: number[] | null;
  /** The BLAS PyTorch loaded (only an OpenBLAS PyTorch is measured), or why PyTorch was not measured. */
  readonly torchNote: string;
}

const TORCH_SCRIPT = fileURLToPath(new URL('./kernelTorch.py', import.meta.url));

interface TorchServer {
  p50(cell: string, H: number, n: number): Promise<number>;
  close(): void;
}

/** Starts the PyTorch serve process; `null` (with the reason) unless it runs on OpenBLAS. */
async function startTorch(): Promise<{ server: TorchServer | null; note: string }> {
  const env = { ...process.env };
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  let child: ChildProcessWithoutNullStreams;
  try {
    child = spawn('/usr/bin/python3', [TORCH_SCRIPT, '--serve'], { env });
  } catch {
    return { server: null, note: 'python3 with torch not available here' };
  }
  const lines: Interface = createInterface({ input: child.stdout });
  const pending: Array<(line: string | null) => void> = [];
  lines.on('line', (line) => pending.shift()?.(line));
  const ended = (): void => {
    while (pending.length) pending.shift()?.(null);
  };
  child.on('close', ended);
  child.on('error', ended);
  const next = (): Promise<string | null> => new Promise((resolve) => pending.push(resolve));
  const first = await next();
  const blas = first ? (JSON.parse(first) as { library: string; core: string | null }) : null;
  if (!blas || blas.library !== 'openblas') {
    child.kill();
    return { server: null, note: blas ? `not measured: torch runs on ${blas.library}, not OpenBLAS` : 'python3 with torch not available here' };
  }
  const server: TorchServer = {
    async p50(cell, H, n) {
      const reply = next();
      child.stdin.write(`${JSON.stringify({ cell, H, n })}\n`);
      const line = await reply;
      if (line === null) throw new Error('the PyTorch serve process ended');
      return (JSON.parse(line) as { p50: number }).p50;
    },
    close: () => child.stdin.end(),
  };
  return { server, note: `OpenBLAS, core ${blas.core ?? '-'}, 1 thread` };
}

function p50Of(times: number[]): number {
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

/**
 * `rounds` rounds of: the wasm stepper for `seconds`, PyTorch for as many steps, onnxruntime's op
 * for `seconds`; each engine keeps its model and state across rounds (warmed up once).
 */
export async function batchOneRounds(cell: 'lstm' | 'gru', I: number, H: number, rounds: number, seconds: number): Promise<BatchOneRounds> {
  const model = RecurrentModel.create({ cell, inputSize: I, hiddenSize: H, seed: 1 });
  const stepper = createWasmStepper(model);
  if (!stepper) throw new Error('WebAssembly SIMD unavailable');
  const state = model.createState(1);
  const xs = Array.from({ length: 64 }, () => Float32Array.from({ length: I }, () => Math.random() * 2 - 1));
  for (let i = 0; i < 2000; i++) stepper.stepInPlace(state, xs[i & 63]);
  const { server, note } = await startTorch();
  const op = await ortRawOp(cell, I, H, 1, 1);
  if (op) for (let i = 0; i < 50; i++) await op.step();
  const wasm: number[] = [];
  const torch: number[] | null = server ? [] : null;
  const ort: number[] | null = op ? [] : null;
  let sink = 0;
  try {
    for (let r = 0; r < rounds; r++) {
      const times: number[] = [];
      const end = performance.now() + seconds * 1000;
      for (let i = 0; times.length < 200 || performance.now() < end; i++) {
        const t0 = performance.now();
        sink += stepper.stepInPlace(state, xs[i & 63])[0];
        times.push((performance.now() - t0) * 1000);
      }
      wasm.push(p50Of(times));
      // About as many PyTorch steps as `seconds` holds at ~20 µs each.
      if (server && torch) torch.push(await server.p50(cell, H, Math.max(200, Math.round((seconds * 1e6) / 20))));
      if (op && ort) {
        const t: number[] = [];
        const stop = performance.now() + seconds * 1000;
        while (t.length < 200 || performance.now() < stop) {
          const t0 = performance.now();
          await op.step();
          t.push((performance.now() - t0) * 1000);
        }
        ort.push(p50Of(t));
      }
    }
  } finally {
    server?.close();
    await op?.release();
  }
  if (Number.isNaN(sink)) throw new Error('NaN state');
  return { wasm, torch, ort, torchNote: note };
}

/** "median x (min-max over n rounds)" of the per-round ratios a[i] / b[i]. */
export function ratioSummary(a: readonly number[], b: readonly number[]): string {
  const r = a.map((v, i) => v / b[i]).sort((x, y) => x - y);
  return `${r[Math.floor(r.length / 2)].toFixed(2)}x (${r[0].toFixed(2)}-${r[r.length - 1].toFixed(2)} over ${r.length} rounds)`;
}
