/**
 * A model exported from PyTorch with torch.onnx.export (nn.LSTM, 2 layers, + nn.Linear head), loaded
 * with loadOnnx and run over 1,024 keyed streams on the native engine (onnxruntime-node) and on the
 * WebAssembly kernel: same outputs within float32 rounding, and the events/s of each. Without
 * onnxruntime-node (an optional peer dependency: npm install onnxruntime-node) the native part is
 * skipped with the reason. Then the same rounds as blocks through recurrentByKeyBatch (one block of
 * 1,024 rows per round instead of 1,024 event objects): the same outputs, bit for bit, and the
 * events/s of each form.
 *   npx tsx examples/native-engine.ts [model.onnx]
 */
import { readFileSync } from 'node:fs';
import { lastValueFrom, Subject, toArray } from 'rxjs';
import { loadOnnx, RecurrentModel } from 'seqstream/cells';
import { describeStepEngine, gatesKernelModule, NATIVE_MIN_WORK, nativeGraphOf, onnxRuntimeStatus, rowWork, type StepEngine } from 'seqstream/kernels';
import { KeyedRecurrentControl, recurrentByKey, recurrentByKeyBatch, type KeyedBlock, type KeyedEvent, type KeyedOutput, type KeyedOutputBlock } from 'seqstream/streams';

const file = process.argv[2] ?? new URL('../test/fixtures/onnx/lstm_l2_head.onnx', import.meta.url).pathname;
const model = loadOnnx(readFileSync(file));
const { cell, inputSize, hiddenSize, numLayers } = model.config;
console.log(`loaded ${file.split('/').pop()}: ${cell}, ${inputSize} inputs, H=${hiddenSize}, ${numLayers} layer(s), head ${model.head ? model.head.outputSize : 'none'}`);
console.log(describeStepEngine(gatesKernelModule() !== null));

const KEYS = 1024;
const ROUNDS = 20;

/** Every key sends one event per round (a burst, stepped as one batch); returns the outputs and events/s. */
async function run(m: RecurrentModel, engine: StepEngine, rounds = ROUNDS): Promise<{ outs: KeyedOutput<number>[]; perSec: number; stepped: string }> {
  const control = new KeyedRecurrentControl<number>();
  const input = new Subject<KeyedEvent<number>>();
  const done = lastValueFrom(input.pipe(recurrentByKey<number>(m, { engine, control, maxBatch: KEYS }), toArray()));
  const I = m.config.inputSize;
  const x = new Float32Array(I);
  const t0 = performance.now();
  let stepped = '';
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < KEYS; k++) {
      for (let i = 0; i < I; i++) x[i] = Math.sin(0.1 * r + 0.37 * k + i);
      input.next({ key: k, x });
    }
    await Promise.resolve(); // the burst is stepped as one batch here
    stepped = control.stats().engine;
  }
  input.complete();
  const outs = await done;
  return { outs, perSec: (outs.length / (performance.now() - t0)) * 1000, stepped };
}

const wasm = await run(model, 'wasm');
console.log(`wasm:   ${wasm.outs.length} outputs, ${Math.round(wasm.perSec).toLocaleString('en')} events/s (stepped on ${wasm.stepped})`);
const ort = onnxRuntimeStatus();
if (!ort.available) {
  console.log(`native: skipped (${ort.reason})`);
} else {
  const native = await run(model, 'native');
  let worst = 0;
  native.outs.forEach((o, i) => o.y.forEach((v, j) => (worst = Math.max(worst, Math.abs(v - wasm.outs[i].y[j])))));
  console.log(`native: ${native.outs.length} outputs, ${Math.round(native.perSec).toLocaleString('en')} events/s (stepped on ${native.stepped}, onnxruntime-node ${ort.version}, ${nativeGraphOf(model)} graph)`);
  console.log(`max |native - wasm| = ${worst.toExponential(2)}`);
}
const work = rowWork(model) * KEYS;
console.log(`a ${KEYS}-row batch of this model is ${work.toLocaleString('en')} multiply-adds: engine 'auto' steps it on ${work >= NATIVE_MIN_WORK && ort.available ? 'onnxruntime' : 'WebAssembly'} (native from ${NATIVE_MIN_WORK.toLocaleString('en')})`);

// Where the native engine pays: a model whose 1,024-row batches are far past the switch-over.
const big = RecurrentModel.create({ cell: 'lstm', inputSize: 40, hiddenSize: 128, seed: 1 });
const bigWasm = await run(big, 'wasm', 5);
const bigAuto = await run(big, 'auto', 5);
console.log(`LSTM I=40 H=128, ${KEYS} keys: wasm ${Math.round(bigWasm.perSec).toLocaleString('en')} events/s, auto ${Math.round(bigAuto.perSec).toLocaleString('en')} events/s (stepped on ${bigAuto.stepped})`);

/** The same rounds as blocks: row k of round r is key k's event of that round. */
async function runBlocks(m: RecurrentModel, engine: StepEngine, rounds = ROUNDS): Promise<{ outs: KeyedOutputBlock<number>[]; perSec: number }> {
  const input = new Subject<KeyedBlock<number>>();
  const done = lastValueFrom(input.pipe(recurrentByKeyBatch<number>(m, { engine, maxBatch: KEYS, onError: (e) => console.warn(e.code, e.message) }), toArray()));
  const I = m.config.inputSize;
  const keys = Array.from({ length: KEYS }, (_, k) => k);
  const t0 = performance.now();
  for (let r = 0; r < rounds; r++) {
    const x = new Float32Array(KEYS * I);
    for (let k = 0; k < KEYS; k++) for (let i = 0; i < I; i++) x[k * I + i] = Math.sin(0.1 * r + 0.37 * k + i);
    input.next({ keys, x }); // stepped and emitted right here, as one output block
  }
  input.complete();
  const outs = await done;
  return { outs, perSec: ((rounds * KEYS) / (performance.now() - t0)) * 1000 };
}

const pinned: StepEngine = ort.available ? 'native' : 'wasm';
const perEvent = await run(model, pinned);
const blocks = await runBlocks(model, pinned);
const rowsOut = blocks.outs.flatMap((b) => Array.from({ length: b.rows }, (_, j) => b.y.subarray(j * b.yLen, (j + 1) * b.yLen)));
const same = rowsOut.length === perEvent.outs.length && rowsOut.every((y, i) => y.every((v, j) => Object.is(v, perEvent.outs[i].y[j])));
console.log(`recurrentByKeyBatch on ${pinned}: ${blocks.outs.length} blocks of ${KEYS} rows, ${Math.round(blocks.perSec).toLocaleString('en')} events/s (per-event: ${Math.round(perEvent.perSec).toLocaleString('en')}); outputs ${same ? 'bit-identical to' : 'DIFFER from'} per-event recurrentByKey`);
if (!same) process.exitCode = 1;
