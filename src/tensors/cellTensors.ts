import type * as tf from '@tensorflow/tfjs';
import type { CellKind } from '../cells/types.js';
import { tfjs } from './tfjsRuntime.js';

/**
 * The gate math of one cell kind on tensors (the float path is `CellDefinition.combine`): the new
 * `[h, c?]` from the pre-activations `gi = x W_ih^T + b_ih`, `gh = h W_hh^T + b_hh` (`[B, G*H]`,
 * gate blocks in PyTorch order) and the old state (`[B, H]`). Call inside `tf.tidy`.
 *
 * @example
 * ```ts
 * const next = tf.tidy(() => combineTensors('gru', gi, gh, h, null)); // { h: [B, H], c: null }
 * ```
 */
export function combineTensors(kind: CellKind, gi: tf.Tensor2D, gh: tf.Tensor2D, h: tf.Tensor2D, c: tf.Tensor2D | null): { h: tf.Tensor2D; c: tf.Tensor2D | null } {
  const t = tfjs(`The ${kind} tensor step`);
  switch (kind) {
    case 'rnn_tanh':
      return { h: t.tanh(t.add(gi, gh)) as tf.Tensor2D, c: null };
    case 'rnn_relu':
      return { h: t.relu(t.add(gi, gh)) as tf.Tensor2D, c: null };
    case 'lstm': {
      // PyTorch nn.LSTM, gates i, f, g, o: c' = f*c + i*g, h' = o*tanh(c').
      const [i, f, g, o] = t.split(t.add(gi, gh), 4, 1) as tf.Tensor2D[];
      const cNew = t.add(t.mul(t.sigmoid(f), c as tf.Tensor2D), t.mul(t.sigmoid(i), t.tanh(g))) as tf.Tensor2D;
      return { h: t.mul(t.sigmoid(o), t.tanh(cNew)), c: cNew };
    }
    case 'gru': {
      // PyTorch nn.GRU, gates r, z, n; r multiplies (W_hn h + b_hn), as PyTorch does.
      const [ir, iz, inn] = t.split(gi, 3, 1) as tf.Tensor2D[];
      const [hr, hz, hn] = t.split(gh, 3, 1) as tf.Tensor2D[];
      const r = t.sigmoid(t.add(ir, hr));
      const z = t.sigmoid(t.add(iz, hz));
      const n = t.tanh(t.add(inn, t.mul(r, hn)));
      // (1 - z) * n + z * h  ==  n + z * (h - n)
      return { h: t.add(n, t.mul(z, t.sub(h, n))) as tf.Tensor2D, c: null };
    }
  }
}
