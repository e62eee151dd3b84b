import { readFileSync } from 'node:fs';
import { RecurrentModel } from '../cells/model.js';
import { parseSafetensors } from '../cells/safetensors.js';
import { loadStateDict, type LoadStateDictOptions, type StateDict } from '../cells/stateDict.js';
import { ModelFormatError } from '../errors.js';

/**
 * Loads a model file for the CLI: a seqstream model JSON (`RecurrentModel.toJSON`), a PyTorch
 * state dict as JSON, a fixture file of the PyTorch schema (its `params`), or a `.safetensors`
 * file. `options` say what the weights cannot (RNN nonlinearity, head activation).
 * Unreadable or unrecognised files throw `ModelFormatError` (`SEQ_MODEL_FORMAT`, ...).
 *
 * @example
 * ```ts
 * const model = loadModelFile('model.safetensors', { headActivation: 'sigmoid' });
 * ```
 */
export function loadModelFile(path: string, options: LoadStateDictOptions = {}): RecurrentModel {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new ModelFormatError('SEQ_MODEL_FORMAT', `Cannot read model file '${path}': ${(err as Error).message}`, { path });
  }
  if (path.endsWith('.safetensors')) return loadStateDict(parseSafetensors(bytes), options);
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new ModelFormatError('SEQ_MODEL_FORMAT', `Model file '${path}' is neither JSON nor .safetensors: ${(err as Error).message}`, { path });
  }
  if (!json || typeof json !== 'object' || Array.isArray(json)) throw new ModelFormatError('SEQ_MODEL_FORMAT', `Model file '${path}' does not hold an object`, { path });
  const obj = json as Record<string, unknown>;
  if (obj.format === 'seqstream-model') return RecurrentModel.fromJSON(obj);
  if (obj.params && typeof obj.params === 'object') {
    // A fixture (tools/export_torch.py output): its config names the cell and head activation.
    const config = (obj.config ?? {}) as { cell?: string; head_activation?: LoadStateDictOptions['headActivation'] };
    return loadStateDict(obj.params as StateDict, {
      nonlinearity: config.cell === 'rnn_relu' ? 'relu' : options.nonlinearity,
      headActivation: config.head_activation ?? options.headActivation,
    });
  }
  return loadStateDict(obj as StateDict, options);
}
