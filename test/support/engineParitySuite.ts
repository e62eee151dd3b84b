import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend, type BackendName } from '../../src/tensors/backend.js';
import { RecurrentModel, runSequence, seededRandom, type CellKind } from '../../src/cells/index.js';
import { expectClose } from './fixtures.js';

/** The fused float path and the tfjs path agree on `backend` for every cell kind and depth. */
export function engineParitySuite(backend: BackendName): void {
  describe(`fused vs tfjs engine on ${backend}`, () => {
    beforeAll(async () => {
      expect(await initBackend(backend)).toBe(backend);
    });

    const cases: Array<[CellKind, number, number]> = [
      ['rnn_tanh', 1, 7],
      ['rnn_relu', 2, 5],
      ['lstm', 1, 8],
      ['lstm', 3, 6],
      ['gru', 1, 9],
      ['gru', 2, 4],
    ];
    it.each(cases)('%s with %i layer(s), H=%i', (cell, numLayers, H) => {
      const model = RecurrentModel.create({ cell, inputSize: 3, hiddenSize: H, numLayers, head: { outputSize: 2, activation: 'softmax' }, seed: H });
      const rand = seededRandom(numLayers * 100 + H);
      const x = Array.from({ length: 2 }, () => Array.from({ length: 9 }, () => Array.from({ length: 3 }, () => rand() * 4 - 2)));
      const h0 = Array.from({ length: numLayers }, () => Array.from({ length: 2 }, () => Array.from({ length: H }, () => rand() - 0.5)));
      const before = tf.memory().numTensors;
      const fused = runSequence(model, x, { h0, c0: h0 });
      const tensors = runSequence(model, x, { h0, c0: h0, engine: 'tfjs' });
      model.dispose();
      expect(tf.memory().numTensors).toBe(before);
      expectClose(tensors.output.flat(2), fused.output.flat(2));
      expectClose(tensors.y!.flat(2), fused.y!.flat(2));
      expectClose(tensors.hN.flat(2), fused.hN.flat(2));
      if (fused.cN) expectClose(tensors.cN!.flat(2), fused.cN.flat(2));
      // Outputs move with the input: not a constant.
      expect(new Set(fused.output.flat(2).map((v) => v.toFixed(4))).size).toBeGreaterThan(10);
    });
  });
}
