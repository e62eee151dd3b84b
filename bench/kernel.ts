/**
 * Fused step kernel benchmark: the WebAssembly SIMD128 kernel against the JavaScript float loops,
 * in the same run, plus PyTorch 1.13 CPU (one thread) measured live when `python3 -c 'import torch'`
 * works here, else its reference figures for this machine.
 *
 *   npx tsx bench/kernel.ts           full run
 *   npx tsx bench/kernel.ts --quick   short run (< 60 s)
 *   npx tsx bench/kernel.ts --latency the batch-1 latency table alone (add --quick for a short one)
 *
 * Latency: one stream (batch 1), LSTM and GRU, 40 inputs, H = 32/128/512, per-step p50/p99 in µs,
 * the new `h` read back into a JS Float32Array each step (what `stepInPlace` returns).
 * Throughput: batches of 64 and 1,024 streams, events/s (one event = one row stepped), best ~100 ms
 * slice (PyTorch measured the same way). "wasm 2t" = the same kernel with one worker thread stepping
 * half of each large batch (createWasmStepper(model, { threads: 2 }), bit-identical), same run.
 * When onnxruntime-node is installed: "ORT op" = its own LSTM/GRU operator through the public
 * `InferenceSession.run` (one step per run, see bench/ortBaseline.ts) at 1 and 2 threads, and
 * "native 2t" = seqstream's onnxruntime engine (createOnnxStepper, 2 threads), same run.
 * After the latency table: issue 13's batch-1 target (LSTM I=40 H=128, seqstream at most 0.3x of
 * PyTorch's and onnxruntime's p50) from interleaved rounds, see bench/batchOneRounds.ts.
 * PyTorch runs with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE removed from its environment, prints the
 * BLAS library it loaded and the core OpenBLAS picked; only an OpenBLAS run fills "PyTorch now".
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { RecurrentModel } from '../src/cells/index.js';
import { createJsStepper, type FusedStepper } from '../src/kernels/index.js';
import { startStepPool } from '../src/kernels/index.js';
import { createWasmStepper } from '../src/kernels/wasmStepper.js';
import { createOnnxStepper } from '../src/kernels/onnxEngine.js';
import { ortLabel, ortLatencyP50, ortThroughput } from './ortBaseline.js';
import { bestSliceRate } from './stats.js';
import { batchOneRounds, ratioSummary } from './batchOneRounds.js';

type Cell = 'lstm' | 'gru';

/** PyTorch 1.13 CPU (OpenBLAS, 1 thread) on this machine, from the issues; used when torch is absent. */
const TORCH_REFERENCE = {
  latency: { lstm: { 32: 17, 128: 23, 512: 366 } as Record<number, number> },
  throughput: { lstm: { '1024x128': 274_000, '1024x32': 1_700_000 } as Record<string, number> },
};

interface TorchFigures {
  latency: Record<string, number>; // `${cell}:${H}` -> p50 µs
  throughput: Record<string, number>; // `${cell}:${B}x${H}` -> events/s (best of 1 and 2 threads)
  blas: { library: string; path: string; core: string | null; threads: number | null };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

function latency(stepper: FusedStepper, model: RecurrentModel, seconds: number): { p50: number; p99: number } {
  const I = model.config.inputSize;
  const state = model.createState(1);
  const xs = Array.from({ length: 64 }, () => Float32Array.from({ length: I }, () => Math.random() * 2 - 1));
  const warmUntil = performance.now() + seconds * 200;
  for (let i = 0; i < 50 || performance.now() < warmUntil; i++) stepper.stepInPlace(state, xs[i & 63]);
  const times: number[] = [];
  let sink = 0;
  const end = performance.now() + seconds * 1000;
  for (let i = 0; times.length < 200 || performance.now() < end; i++) {
    const t0 = performance.now();
    const h = stepper.stepInPlace(state, xs[i & 63]);
    sink += h[0];
    times.push((performance.now() - t0) * 1000);
  }
  if (Number.isNaN(sink)) throw new Error('NaN state');
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 0.5), p99: percentile(times, 0.99) };
}

/** Events/s of `batch` rows stepped in place: the best ~100 ms slice (see `bestSliceRate`). */
function throughput(stepper: FusedStepper, model: RecurrentModel, batch: number, seconds: number): number {
  const I = model.config.inputSize;
  const state = model.createState(batch);
  const x = Float32Array.from({ length: batch * I }, () => Math.random() * 2 - 1);
  return bestSliceRate(seconds, () => {
    stepper.stepInPlace(state, x);
    return batch;
  });
}

const TORCH_SCRIPT = fileURLToPath(new URL('./kernelTorch.py', import.meta.url));

function measureTorch(quick: boolean, cases: { latency: Array<[Cell, number]>; throughput: Array<[Cell, number, number]> }): TorchFigures | null {
  // Debian's python3-torch lives under /usr/bin/python3, which a pyenv `python3` on PATH may hide.
  for (const python of ['/usr/bin/python3', 'python3']) {
    // OpenBLAS picks its kernels from the CPU unless these force a core or a cache size: unset them
    // for this process alone (the machine's shell may set them for other tools).
    const env = { ...process.env };
    delete env.OPENBLAS_CORETYPE;
    delete env.OPENBLAS_L2_SIZE;
    const r = spawnSync(python, [TORCH_SCRIPT, JSON.stringify({ quick, ...cases })], { encoding: 'utf8', timeout: 300_000, env });
    if (r.status !== 0) continue;
    try {
      return JSON.parse(r.stdout.trim().split('\n').pop() as string) as TorchFigures;
    } catch {
      continue;
    }
  }
  return null;
}

const fmt = (v: number, d = 1): string => v.toFixed(d);

/** Issue 13's target: seqstream's batch-1 p50 at most 0.3x of PyTorch's and onnxruntime's, LSTM I=40 H=128, interleaved rounds. */
async function printBatchOneTarget(quick: boolean): Promise<void> {
  const r = await batchOneRounds('lstm', 40, 128, quick ? 5 : 9, quick ? 0.3 : 0.5);
  const med = (v: number[]): string => fmt([...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]);
  console.log(`\nBatch-1 target, LSTM I=40 H=128, ${r.wasm.length} interleaved rounds (wasm, PyTorch, ORT op back to back; goal <= 0.3x of each):`);
  console.log(`  p50 µs, median of rounds: wasm ${med(r.wasm)}, PyTorch ${r.torch ? med(r.torch) : '-'} (${r.torchNote}), ORT op 1t ${r.ort ? med(r.ort) : '-'}`);
  console.log(`  wasm/PyTorch ${r.torch ? ratioSummary(r.wasm, r.torch) : '-'}; wasm/ORT op ${r.ort ? ratioSummary(r.wasm, r.ort) : '-'}`);
}
const fmtRate = (v: number): string => (v >= 1e6 ? `${(v / 1e6).toFixed(2)}M` : `${(v / 1e3).toFixed(0)}k`);

/** Prints the kernel benchmark tables. */
export async function run(options: { quick?: boolean; latencyOnly?: boolean } = {}): Promise<void> {
  const quick = options.quick ?? false;
  const latencyOnly = options.latencyOnly ?? false;
  const cells: Cell[] = ['lstm', 'gru'];
  const sizes = [32, 128, 512];
  const latCases: Array<[Cell, number]> = cells.flatMap((c) => sizes.map((H) => [c, H] as [Cell, number]));
  const thrCases: Array<[Cell, number, number]> = latencyOnly
    ? []
    : cells.flatMap((c) => [64, 1024].flatMap((B) => [32, 128].map((H) => [c, B, H] as [Cell, number, number])));
  const measured = measureTorch(quick, { latency: latCases, throughput: thrCases });
  console.log('PyTorch ref = figures quoted in the issues for this machine (LSTM only); PyTorch now = measured in this run');
  if (measured) console.log(`(PyTorch BLAS: ${measured.blas.library} ${measured.blas.path}; OpenBLAS core ${measured.blas.core ?? '-'}, ${measured.blas.threads ?? '-'} thread(s) max)`);
  // Only OpenBLAS is a fair PyTorch: Debian's torch on the netlib reference BLAS is ~10x slower.
  const torch = measured && measured.blas.library === 'openblas' ? measured : null;
  console.log(torch ? '(python3 + torch, no_grad, LSTMCell/GRUCell; latency 1 thread, throughput best of 1 and 2 threads)' : `(PyTorch now: ${measured ? `not shown, torch runs on ${measured.blas.library}, not OpenBLAS` : 'python3 with torch not available here'})`);
  console.log(`(ORT op: ${ortLabel()})`);
  const probe = createWasmStepper(RecurrentModel.create({ cell: 'lstm', inputSize: 1, hiddenSize: 1, seed: 1 }));
  if (!probe) console.log('WebAssembly SIMD unavailable: only the JS loops can run.');

  console.log('\nLatency, batch 1, I=40 (µs per step, p50 / p99)');
  console.log('| cell | H | JS loops p50/p99 | wasm-simd p50/p99 | JS/wasm (p50) | PyTorch ref | ref/wasm | PyTorch now | now/wasm | ORT op 1t | ORT/wasm |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|');
  for (const [cell, H] of latCases) {
    const model = RecurrentModel.create({ cell, inputSize: 40, hiddenSize: H, seed: 1 });
    const secs = quick ? 0.4 : 1.5;
    const js = latency(createJsStepper(model), model, secs);
    const wasmStepper = createWasmStepper(model);
    const wa = wasmStepper ? latency(wasmStepper, model, secs) : null;
    const ref = cell === 'lstm' ? TORCH_REFERENCE.latency.lstm[H] : undefined;
    const now = torch?.latency[`${cell}:${H}`];
    const ortP50 = (await ortLatencyP50(cell, 40, H, 1, secs)) ?? undefined;
    const col = (t: number | undefined): string => `${t !== undefined ? fmt(t) : '-'} | ${wa && t !== undefined ? fmt(t / wa.p50) + 'x' : '-'}`;
    console.log(
      `| ${cell} | ${H} | ${fmt(js.p50)} / ${fmt(js.p99)} | ${wa ? `${fmt(wa.p50)} / ${fmt(wa.p99)}` : '-'} | ${wa ? fmt(js.p50 / wa.p50) + 'x' : '-'} | ${col(ref)} | ${col(now)} | ${col(ortP50)} |`,
    );
  }
  if (probe) await printBatchOneTarget(quick);
  if (latencyOnly) return;

  console.log('\nThroughput, I=40 (events/s; one event = one stream stepped once)');
  const pool = probe ? await startStepPool(2) : false;
  console.log(`(wasm 2t: ${pool ? 'one worker thread running' : 'no worker thread could start, same as 1 thread'})`);
  console.log('| cell | batch | H | JS loops | wasm-simd | wasm/JS | wasm 2t | 2t/1t | PyTorch ref | wasm/ref | PyTorch now | wasm/now | 2t/now | ORT op 1t | ORT op 2t | native 2t | native/ORT 2t |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  const secs = quick ? 0.6 : 2;
  for (const [cell, B, H] of thrCases) {
    const model = RecurrentModel.create({ cell, inputSize: 40, hiddenSize: H, seed: 1 });
    const js = throughput(createJsStepper(model), model, B, secs / 2);
    const wasmStepper = createWasmStepper(model, { threads: 1 });
    const wa = wasmStepper ? throughput(wasmStepper, model, B, secs) : null;
    const twoStepper = createWasmStepper(model, { threads: 2 });
    const two = twoStepper ? throughput(twoStepper, model, B, secs) : null;
    const ref = cell === 'lstm' && B === 1024 ? TORCH_REFERENCE.throughput.lstm[`${B}x${H}`] : undefined;
    const now = torch?.throughput[`${cell}:${B}x${H}`];
    const ort1 = await ortThroughput(cell, 40, H, B, 1, secs);
    const ort2 = await ortThroughput(cell, 40, H, B, 2, secs);
    const nativeStepper = createOnnxStepper(model, { threads: 2 });
    const nat = nativeStepper ? throughput(nativeStepper, model, B, secs) : null;
    const col = (t: number | undefined): string => `${t !== undefined ? fmtRate(t) : '-'} | ${wa && t !== undefined ? fmt(wa / t, 2) + 'x' : '-'}`;
    const rate = (v: number | null): string => (v === null ? '-' : fmtRate(v));
    console.log(
      `| ${cell} | ${B} | ${H} | ${fmtRate(js)} | ${wa ? fmtRate(wa) : '-'} | ${wa ? fmt(wa / js) + 'x' : '-'} | ${two ? fmtRate(two) : '-'} | ${wa && two ? fmt(two / wa, 2) + 'x' : '-'} | ${col(ref)} | ${col(now)} | ${two && now ? fmt(two / now, 2) + 'x' : '-'} | ${rate(ort1)} | ${rate(ort2)} | ${rate(nat)} | ${nat && ort2 ? fmt(nat / ort2, 2) + 'x' : '-'} |`,
    );
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await run({ quick: process.argv.includes('--quick'), latencyOnly: process.argv.includes('--latency') });
}
