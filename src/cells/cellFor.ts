import type { CellDefinition } from './cellDefinition.js';
import { gru } from './gru.js';
import { lstm } from './lstm.js';
import { rnn } from './rnn.js';
import type { CellKind } from './types.js';

/**
 * The cell definition for a kind name.
 *
 * @example
 * ```ts
 * cellFor('gru').gates; // 3
 * ```
 */
export function cellFor(kind: CellKind): CellDefinition {
  switch (kind) {
    case 'rnn_tanh':
      return rnn('tanh');
    case 'rnn_relu':
      return rnn('relu');
    case 'lstm':
      return lstm;
    case 'gru':
      return gru;
  }
}
