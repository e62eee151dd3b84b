import { Subject } from 'rxjs';
import { RecurrentModel } from '../src/cells/index.js';
import { createOnnxStepper } from '../src/kernels/onnxEngine.js';
import { createResidentRows } from '../src/kernels/residentRows.js';
import { recurrentByKeyBatch } from '../src/streams/index.js';
const I = 40, KEYS = 1024;
const H = Number(process.env.H ?? 128), T = process.env.T ?? '1', N = Number(process.env.N ?? 300);
process.env.SEQSTREAM_THREADS = T; process.env.SEQSTREAM_ENGINE = 'auto';
const config = { cell: 'lstm' as const, inputSize: I, hiddenSize: H, seed: 1 };
const xs = Array.from({ length: 8 }, (_, r) => Float32Array.from({ length: KEYS * I }, (_, i) => Math.sin(i + r)));
let sum = 0;
function op() {
  const ids = Array.from({ length: KEYS }, (_, k) => k);
  const blocks = xs.map((x) => ({ keys: ids, x }));
  const input = new Subject<any>();
  input.pipe(recurrentByKeyBatch(RecurrentModel.create(config), { maxBatch: KEYS, emit: 'hidden' })).subscribe((o: any) => { sum += o.y[5]; });
  let r = 0;
  return () => input.next(blocks[r++ & 7]);
}
function rows(stage: boolean) {
  const slab = createResidentRows(RecurrentModel.create(config), { maxBatch: KEYS, engine: 'auto', threads: Number(T) })!;
  slab.grow(KEYS);
  const idx = Int32Array.from({ length: KEYS }, (_, k) => k);
  let r = 0;
  return () => { const x = xs[r++ & 7]; const y = slab.stepFresh(idx, KEYS, stage ? slab.stage(x, KEYS)! : x); sum += y[5]; };
}
const model = RecurrentModel.create(config);
const st = createOnnxStepper(model, { threads: Number(T) })!;
const state = model.createState(KEYS);
let ra = 0;
const alone = () => { st.stepInPlace(state, xs[process.env.ONEX ? 0 : ra++ & 7]); };
const cs = [op(), rows(true), rows(false), alone]; const names = ['operator', 'rows+stage', 'rows', 'alone'];
const t: number[][] = cs.map(() => []);
for (let i = 0; i < 20; i++) for (const c of cs) c();
for (let i = 0; i < N; i++) for (let k = 0; k < cs.length; k++) { const j = (i + k) % cs.length; const t0 = performance.now(); cs[j](); t[j].push(performance.now() - t0); }
const q = (v: number[], p: number) => v.slice().sort((a, b) => a - b)[Math.floor(v.length * p)];
for (let k = 0; k < cs.length; k++) console.log(names[k].padEnd(11), 'p10', (q(t[k], 0.1) * 1000 / KEYS).toFixed(3), 'p50', (q(t[k], 0.5) * 1000 / KEYS).toFixed(3), 'µs/event', ' alone/this p10', (q(t[3], 0.1) / q(t[k], 0.1)).toFixed(3), 'p50', (q(t[3], 0.5) / q(t[k], 0.5)).toFixed(3));
