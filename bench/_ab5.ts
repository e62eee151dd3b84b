import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Subject } from 'rxjs';
import { RecurrentModel } from '../src/cells/index.js';
import { createOnnxStepper } from '../src/kernels/onnxEngine.js';
import { recurrentByKeyBatch } from '../src/streams/index.js';
const I = 40, KEYS = 1024;
const H = Number(process.env.H ?? 128), T = process.env.T ?? '1', N = Number(process.env.N ?? 300);
const EMIT = process.env.EMIT ?? 'hidden';
process.env.SEQSTREAM_THREADS = T; process.env.SEQSTREAM_ENGINE = 'auto';
const old = await import(pathToFileURL(resolve(process.argv[2] ?? '/tmp/old5/src', 'streams/index.ts')).href);
const oldCells = await import(pathToFileURL(resolve(process.argv[2] ?? '/tmp/old5/src', 'cells/index.ts')).href);
const config: any = { cell: 'lstm' as const, inputSize: I, hiddenSize: H, seed: 1, ...(process.env.HEAD ? { head: { outputSize: Number(process.env.HEAD) } } : {}) };
function batch(op: any, model: any, sum: { v: number }) {
  const ids = Array.from({ length: KEYS }, (_, k) => k);
  const blocks = Array.from({ length: 8 }, (_, r) => ({ keys: ids, x: Float32Array.from({ length: KEYS * I }, (_, i) => Math.sin(i + r)) }));
  const input = new Subject<any>();
  input.pipe(op(model, { maxBatch: KEYS, emit: EMIT })).subscribe((o: any) => { sum.v += o.y[5] + o.y[o.y.length - 1] + (o.h ? o.h[7] : 0); });
  let r = 0;
  return () => input.next(blocks[r++ & 7]);
}
const sn = { v: 0 }, so = { v: 0 };
const now = batch(recurrentByKeyBatch, RecurrentModel.create(config), sn);
const then = batch(old.recurrentByKeyBatch, oldCells.RecurrentModel.create(config), so);
const model = RecurrentModel.create(config);
const st = createOnnxStepper(model, { threads: Number(T) })!;
const state = model.createState(KEYS);
const x = Float32Array.from({ length: KEYS * I }, (_, i) => Math.sin(i));
const alone = () => st.stepInPlace(state, x);
const cs = [now, then, alone]; const names = ['new', 'old', 'alone'];
const t: number[][] = [[], [], []];
for (let i = 0; i < 20; i++) for (const c of cs) c();
for (let i = 0; i < N; i++) for (let k = 0; k < 3; k++) { const j = (i + k) % 3; const t0 = performance.now(); cs[j](); t[j].push(performance.now() - t0); }
const q = (v: number[], p: number) => v.slice().sort((a, b) => a - b)[Math.floor(v.length * p)];
for (let k = 0; k < 3; k++) console.log(names[k].padEnd(6), 'p10', (q(t[k], 0.1) * 1000 / KEYS).toFixed(3), 'p50', (q(t[k], 0.5) * 1000 / KEYS).toFixed(3), 'µs/event');
const r = t[1].map((v, i) => v / t[0][i]);
console.log(`H=${H} T=${T} emit=${EMIT} old/new per-step ratio median ${q(r, 0.5).toFixed(3)}; alone/new p10 ${(q(t[2], 0.1) / q(t[0], 0.1)).toFixed(3)} p50 ${(q(t[2], 0.5) / q(t[0], 0.5)).toFixed(3)}; same ${sn.v === so.v}`);
