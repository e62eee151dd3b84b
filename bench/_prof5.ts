import { Subject } from 'rxjs';
import { RecurrentModel } from '../src/cells/index.js';
import { recurrentByKeyBatch, type KeyedBlock } from '../src/streams/index.js';
import { createOnnxStepper } from '../src/kernels/onnxEngine.js';
const H = Number(process.env.H ?? 32), I = 40, KEYS = 1024;
process.env.SEQSTREAM_THREADS = '1'; process.env.SEQSTREAM_ENGINE = 'auto';
const model = RecurrentModel.create({ cell: 'lstm', inputSize: I, hiddenSize: H, seed: 1 });
const ids = Array.from({ length: KEYS }, (_, k) => k);
const blocks: KeyedBlock<number>[] = Array.from({ length: 8 }, (_, r) => ({ keys: ids, x: Float32Array.from({ length: KEYS * I }, (_, i) => Math.sin(i + r)) }));
const input = new Subject<KeyedBlock<number>>();
let rows = 0;
input.pipe(recurrentByKeyBatch<number>(model, { maxBatch: KEYS, emit: (process.env.EMIT ?? 'hidden') as any })).subscribe((o) => (rows += o.rows));
const st = createOnnxStepper(model, { threads: 1 })!; const state = model.createState(KEYS); const x = blocks[0].x as Float32Array;
const N = Number(process.env.N ?? 2000);
const mode = process.env.MODE ?? 'batch';
const c0 = process.cpuUsage();
for (let i = 0; i < N; i++) { if (mode === 'batch') input.next(blocks[i & 7]); else st.stepInPlace(state, x); }
const c = process.cpuUsage(c0);
console.log(mode, ((c.user + c.system) / (N * KEYS)).toFixed(3), 'us/event', rows);
