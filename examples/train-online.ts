/**
 * Online learning inside a stream: an LSTM learns to recall the value it saw 5 events ago while
 * it serves predictions, with truncated BPTT (k1 = 8, k2 = 16) and Adam; the run is checkpointed
 * to a file and resumed where it stopped.
 *   npx tsx examples/train-online.ts
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { from, lastValueFrom, tap, toArray } from 'rxjs';
import { loadCheckpoint, saveCheckpoint } from 'seqstream/adapters/checkpointFile';
import { adam } from 'seqstream/training';
import { RecurrentModel, seededRandom } from 'seqstream/cells';
import { trainOnline, type TrainUpdate } from 'seqstream/streams';

const rand = seededRandom(7);
const xs = Array.from({ length: 10_000 }, () => rand() * 2 - 1);
const events = xs.map((x, t) => ({ x: [x], target: t >= 5 ? [xs[t - 5]] : null })); // no target for the first 5

const model = RecurrentModel.create({ cell: 'lstm', inputSize: 1, hiddenSize: 16, head: { outputSize: 1 }, seed: 3 });
const optimizer = adam({ lr: 0.01 });
let last: TrainUpdate | null = null;
let window: number[] = [];

await lastValueFrom(
  from(events.slice(0, 8000)).pipe(
    trainOnline(model, { k1: 8, k2: 16, optimizer, clipGradNorm: 5 }),
    tap((e) => {
      if (e.kind === 'prediction' && e.loss !== null) window.push(e.loss); // prequential: predicted before learning
      if (e.kind === 'update') {
        last = e;
        if (e.update % 200 === 0) {
          const mean = window.reduce((a, b) => a + b, 0) / window.length;
          console.log(`event ${e.step + 1}: prequential MSE ${mean.toFixed(4)} (memoryless best ~0.333), grad norm ${e.gradNorm.toFixed(3)}${e.clipped ? ' clipped' : ''}`);
          window = [];
        }
      }
    }),
    toArray(),
  ),
);

// Save model + optimizer + the stream's state, then resume from the file.
const file = join(mkdtempSync(join(tmpdir(), 'seqstream-')), 'recall5.json');
await saveCheckpoint(file, { model, optimizer, state: last!.snapshot(), meta: { events: 8000 } });
const resumed = await loadCheckpoint(file);
console.log(`checkpoint ${file} (after ${String(resumed.meta?.events)} events)`);

const rest = await lastValueFrom(
  from(events.slice(8000)).pipe(trainOnline(resumed.model, { k1: 8, k2: 16, optimizer: resumed.optimizer, initialState: resumed.state }), toArray()),
);
const losses = rest.flatMap((e) => (e.kind === 'prediction' && e.loss !== null ? [e.loss] : []));
console.log(`resumed: prequential MSE over the last ${losses.length} events ${(losses.reduce((a, b) => a + b, 0) / losses.length).toFixed(4)}`);
