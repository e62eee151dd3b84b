/**
 * The native engine's two LSTM graphs, raw, at 1,024 rows (LSTM I=40): onnxruntime's `LSTM` op
 * (`stepGraph`) on 1 and 2 intra-op threads against the gate-math graph (`lstmGateGraph`) on one
 * thread (the engine's choice), and with `--gates2` also on two (to show why not: a second
 * 2-thread session's pool spinning in the process moves every other figure too), each a session of its own fed through the binding with preallocated ping-pong outputs
 * (as the engine does), after unmeasured warm-up steps. Interleaved rounds: every round calls the
 * contenders once, in an order that rotates; per-call wall clock (and process CPU, which also counts
 * the 2-thread session's pool spinning through the other calls); the speed columns are medians of
 * the per-round wall-clock ratios. This is what `GATE_GRAPH_MAX_HIDDEN` is set from.
 *
 *   npx tsx bench/nativeGraphs.ts [--quick] [--h=32,48,64,128] [--gates2]
 */
import { RecurrentModel } from '../src/cells/index.js';
import { lstmGateGraph } from '../src/kernels/onnxGateGraph.js';
import { stepGraph } from '../src/kernels/onnxGraph.js';
import { loadOnnxRuntime, onnxRuntimeStatus } from '../src/kernels/onnxRuntime.js';
import { ortLabel } from './ortBaseline.js';
import { interleavedRounds, medianRatio, printTable } from './stats.js';

const I = 40;
const B = 1024;

/** One step of a raw session over the graph `bytes`: ping-pong state tensors, the same input. */
function rawStep(bytes: Uint8Array, threads: number, H: number, lead: number[]): () => void {
  const ort = loadOnnxRuntime();
  if (!ort) throw new Error(`onnxruntime-node: ${onnxRuntimeStatus().reason}`);
  const session = ort.createSession();
  session.loadModel(bytes.buffer, bytes.byteOffset, bytes.byteLength, { graphOptimizationLevel: 'all', executionProviders: ['cpu'], intraOpNumThreads: threads, interOpNumThreads: 1 });
  const x = ort.tensor(Float32Array.from({ length: B * I }, (_, i) => Math.sin(i)), [...lead, B, I]);
  const sets = [0, 1].map(() => ({ h: ort.tensor(new Float32Array(B * H), [...lead, B, H]), c: ort.tensor(new Float32Array(B * H), [...lead, B, H]) }));
  let p = 0;
  return () => {
    const a = sets[p];
    const o = sets[p ^ 1];
    session.run({ x, h0: a.h, c0: a.c }, { h0_next: o.h, c0_next: o.c }, {});
    p ^= 1;
  };
}

/** Runs the comparison (bench/run.ts entry). */
export async function run(o: { quick?: boolean; hs?: number[]; gates2?: boolean } = {}): Promise<void> {
  if (!onnxRuntimeStatus().available) {
    console.log(`native graphs: ${ortLabel()}`);
    return;
  }
  const rows: string[][] = [];
  for (const H of o.hs ?? [32, 48, 64, 128]) {
    const model = RecurrentModel.create({ cell: 'lstm', inputSize: I, hiddenSize: H, seed: 1 });
    const steps = [rawStep(stepGraph(model), 1, H, [1]), rawStep(stepGraph(model), 2, H, [1]), rawStep(lstmGateGraph(model), 1, H, [])];
    if (o.gates2) steps.push(rawStep(lstmGateGraph(model), 2, H, []));
    const warm = Math.round(600 * (32 / H));
    for (const step of steps) for (let i = 0; i < warm; i++) step();
    const { cpu, wall } = await interleavedRounds(steps, Math.round((o.quick ? 300 : 1000) * (32 / H)));
    const med = (v: number[]): number => v.slice().sort((a, b) => a - b)[v.length >> 1];
    const times = cpu.map((c, k) => `${(med(wall[k]) * 1000).toFixed(0)} (${med(c).toFixed(0)})`);
    const speeds = [medianRatio(wall[0], wall[2]), medianRatio(wall[1], wall[2]), ...(o.gates2 ? [medianRatio(wall[3], wall[2])] : [])];
    rows.push([String(H), ...times, ...speeds.map((v) => v.toFixed(3))]);
  }
  console.log(`\nnative LSTM graphs, ${B} rows, I=${I} (${ortLabel()}): per-call medians, wall µs (process CPU µs); speeds of the gate graph on one thread, medians of per-call wall-clock ratios (>1: faster)`);
  const times = ['LSTM op, 1 thread', 'LSTM op, 2 threads', 'gate graph, 1 thread', ...(o.gates2 ? ['gate graph, 2 threads'] : [])];
  const speeds = ['gate / op 1 thread', 'gate / op 2 threads', ...(o.gates2 ? ['gate 1 thread / gate 2 threads'] : [])];
  printTable(['H', ...times, ...speeds], rows);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const h = process.argv.find((s) => s.startsWith('--h='));
  await run({ quick: process.argv.includes('--quick'), hs: h ? h.slice(4).split(',').map(Number) : undefined, gates2: process.argv.includes('--gates2') });
}
