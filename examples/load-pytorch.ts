/**
 * Load weights exported from PyTorch (tools/export_torch.py writes this JSON schema) and check
 * that seqstream reproduces PyTorch's outputs event by event.
 *   npx tsx examples/load-pytorch.ts [fixture.json]
 */
import { readFileSync } from 'node:fs';
import { from } from 'rxjs';
import { loadStateDict } from 'seqstream/cells';
import { recurrent } from 'seqstream/streams';

const file = process.argv[2] ?? new URL('../test/fixtures/pytorch/lstm_l1_forward.json', import.meta.url).pathname;
const fx = JSON.parse(readFileSync(file, 'utf8'));
const model = loadStateDict(fx.params, { nonlinearity: fx.config.cell === 'rnn_relu' ? 'relu' : 'tanh' });
console.log(`loaded ${model.config.cell}: ${model.config.inputSize} inputs, H=${model.config.hiddenSize}, ${model.config.numLayers} layer(s)`);

// Stream batch row 0 event by event, starting from PyTorch's h0/c0.
const initialState = {
  format: 'seqstream-state' as const,
  version: 1 as const,
  cell: model.config.cell,
  hiddenSize: model.config.hiddenSize,
  numLayers: model.config.numLayers,
  h: fx.h0.map((layer: number[][]) => layer[0]),
  ...(fx.c0 ? { c: fx.c0.map((layer: number[][]) => layer[0]) } : {}),
};
let t = 0;
let worst = 0;
from(fx.x[0] as number[][])
  .pipe(recurrent(model, { emit: 'hidden', initialState }))
  .subscribe((h) => {
    const ref: number[] = fx.output[0][t++];
    worst = Math.max(worst, ...ref.map((v, j) => Math.abs(v - h[j])));
  });
console.log(`${t} events, max |seqstream - PyTorch| = ${worst.toExponential(2)}`);
