/**
 * Per-event latency of one stream (p50/p99, µs), outputs read back to JS every event:
 * seqstream recurrent() on the fused and tfjs engines vs TensorFlow.js `tf.layers.lstm`/`gru`
 * with `stateful: true` called with `predict` per event, in the same process.
 *
 *   npx tsx bench/latency.ts [--quick]
 */
import * as tf from '@tensorflow/tfjs';
import { Subject } from 'rxjs';
import { currentBackend, initBackend } from '../src/tensors/backend.js';
import { createFusedStepper } from '../src/kernels/index.js';
import { RecurrentModel, seededRandom } from '../src/cells/index.js';
import { recurrent } from '../src/streams/index.js';
import { percentile, printTable, timeEach } from './stats.js';

/** PyTorch 1.13 CPU (OpenBLAS, one thread) cell with batch 1, measured on these machines (µs). */
const PYTORCH_LSTM_US: Record<number, number> = { 32: 17, 128: 23, 512: 366 };

function streamLatency(model: RecurrentModel, engine: 'fused' | 'tfjs', inputs: Float32Array[], count: number, warmup: number): number[] {
  const input = new Subject<Float32Array>();
  let sink = 0;
  const sub = input.pipe(recurrent(model, { engine, emit: 'hidden' })).subscribe((h) => (sink += h[0]));
  const us = timeEach((i) => input.next(inputs[i % inputs.length]), count, warmup);
  sub.unsubscribe();
  if (Number.isNaN(sink)) throw new Error('NaN output');
  return us;
}

function layersLatency(cell: 'lstm' | 'gru', I: number, H: number, inputs: Float32Array[], count: number, warmup: number): number[] {
  const net = tf.sequential();
  const opts = { units: H, stateful: true, batchInputShape: [1, 1, I] as [number, number, number], returnSequences: false, recurrentInitializer: 'glorotUniform' as const };
  // tfjs-layers' GRU lacks PyTorch's reset-after variant; the cost per event is what is compared here.
  net.add(cell === 'lstm' ? tf.layers.lstm(opts) : tf.layers.gru(opts));
  let sink = 0;
  const us = timeEach(
    (i) => {
      const x = tf.tensor3d(inputs[i % inputs.length], [1, 1, I]);
      const y = net.predict(x) as tf.Tensor;
      sink += (y.dataSync() as Float32Array)[0];
      tf.dispose([x, y]);
    },
    count,
    warmup,
  );
  net.dispose();
  if (Number.isNaN(sink)) throw new Error('NaN output');
  return us;
}

/** Runs the latency benchmark and prints its table. */
export async function run(options: { quick?: boolean } = {}): Promise<void> {
  const backend = await initBackend(process.env.SEQSTREAM_BACKEND as never ?? 'wasm');
  const I = 40;
  const rand = seededRandom(1);
  const inputs = Array.from({ length: 64 }, () => Float32Array.from({ length: I }, () => rand() * 2 - 1));
  const rows: Array<Array<string | number>> = [];
  console.log(`bench/latency: one stream, I=${I}, outputs read back every event; tfjs backend ${currentBackend()}`);
  for (const cell of ['lstm', 'gru'] as const) {
    for (const H of [32, 128, 512]) {
      const scale = H === 512 ? 0.25 : 1;
      const n = Math.round((options.quick ? 400 : 3000) * scale);
      const warm = Math.round(200 * scale);
      const model = RecurrentModel.create({ cell, inputSize: I, hiddenSize: H, seed: H });
      const fused = streamLatency(model, 'fused', inputs, n, warm);
      const ours = streamLatency(model, 'tfjs', inputs, Math.max(100, Math.round(n / 4)), warm);
      const layers = layersLatency(cell, I, H, inputs, Math.max(100, Math.round(n / 4)), warm);
      model.dispose();
      const p50 = percentile(fused, 0.5);
      const layers50 = percentile(layers, 0.5);
      rows.push([
        `${cell} H=${H}`,
        p50.toFixed(1),
        percentile(fused, 0.99).toFixed(1),
        percentile(ours, 0.5).toFixed(1),
        layers50.toFixed(1),
        percentile(layers, 0.99).toFixed(1),
        `${(layers50 / p50).toFixed(1)}x`,
        cell === 'lstm' ? `${PYTORCH_LSTM_US[H]}` : '-',
        cell === 'lstm' ? `${(PYTORCH_LSTM_US[H] / p50).toFixed(2)}x` : '-',
      ]);
    }
  }
  printTable(
    ['model', 'fused p50', 'fused p99', 'tfjs-engine p50', 'tf.layers p50', 'tf.layers p99', 'speed-up vs layers', 'PyTorch µs*', 'vs PyTorch'],
    rows,
  );
  console.log(`kernel behind the fused path: ${createFusedStepper(RecurrentModel.create({ cell: 'lstm', inputSize: 1, hiddenSize: 1 })).kind}; backend ${backend}`);
  console.log('* PyTorch 1.13 LSTMCell, batch 1, OpenBLAS one thread, measured earlier on this kind of machine (not in this run); "vs PyTorch" > 1 means faster.');
}

if (import.meta.url === `file://${process.argv[1]}`) await run({ quick: process.argv.includes('--quick') });
