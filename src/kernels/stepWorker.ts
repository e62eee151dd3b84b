/**
 * The step worker: a thread of the process-wide step pool (see `stepPool.ts`, which starts it from
 * this file, compiled next to it, and `stepWorkerProtocol.ts`). It steps its share of a batch with
 * its own instance of the same kernel wrapper the calling thread uses (`gatesKernel.ts`), so every
 * row it steps is bit-identical to the calling thread's (the kernel is batch-invariant).
 */
import { receiveMessageOnPort, workerData } from 'node:worker_threads';
import { GatesKernel } from './gatesKernel.js';
import { DONE, ERROR, MODEL, READY, ROWS, SEQ, type StepWorkerData, type StepWorkerMessage } from './stepWorkerProtocol.js';

interface Model {
  readonly kernel: GatesKernel;
  readonly I: number;
  readonly H: number;
  readonly L: number;
  readonly hasC: boolean;
}

const { module, ctl: ctlBuffer, port } = workerData as StepWorkerData;
const ctl = new Int32Array(ctlBuffer);
const models = new Map<number, Model>();
let data: Float32Array = new Float32Array(0);

function handle(msg: StepWorkerMessage): void {
  if (msg.type === 'model') {
    let model = models.get(msg.id);
    if (!model) {
      const { shape } = msg;
      model = { kernel: new GatesKernel(module, shape), I: shape.inputSize, H: shape.hiddenSize, L: shape.layerInputs.length, hasC: shape.hasCellState };
      models.set(msg.id, model);
    }
    model.kernel.setWeights(msg.layers);
  } else if (msg.type === 'drop') {
    models.delete(msg.id);
  } else {
    data = new Float32Array(msg.buffer);
  }
}

/** Steps the `rows` rows laid out in the data buffer, in place. */
function step(model: Model, rows: number): void {
  const { I, H, L, hasC } = model;
  const stride = hasC ? 2 : 1;
  const h: Float32Array[] = [];
  const c: Float32Array[] = [];
  for (let i = 0; i < L; i++) {
    const at = rows * I + i * stride * rows * H;
    h.push(data.subarray(at, at + rows * H));
    if (hasC) c.push(data.subarray(at + rows * H, at + 2 * rows * H));
  }
  model.kernel.stepRows(data.subarray(0, rows * I), h, hasC ? c : null, 0, rows);
}

Atomics.store(ctl, READY, 1);
Atomics.notify(ctl, READY);
let seen = Atomics.load(ctl, SEQ);
for (;;) {
  Atomics.wait(ctl, SEQ, seen);
  const seq = Atomics.load(ctl, SEQ);
  if (seq === seen) continue;
  seen = seq;
  let error = 0;
  try {
    for (let m = receiveMessageOnPort(port); m; m = receiveMessageOnPort(port)) handle(m.message as StepWorkerMessage);
    const rows = Atomics.load(ctl, ROWS);
    if (rows < 0) break;
    const model = models.get(Atomics.load(ctl, MODEL));
    if (!model) throw new Error('unknown model');
    step(model, rows);
  } catch {
    error = 1;
  }
  Atomics.store(ctl, ERROR, error);
  Atomics.store(ctl, DONE, seen);
  Atomics.notify(ctl, DONE);
}
Atomics.store(ctl, DONE, seen);
Atomics.notify(ctl, DONE);
port.close();
