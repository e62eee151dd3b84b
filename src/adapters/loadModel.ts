import { readFileSync } from 'node:fs';
import { RecurrentModel } from '../cells/model.js';
import { loadSafetensors, loadStateDict, type LoadStateDictOptions, type StateDict } from '../cells/stateDict.js';
import { ModelFormatError } from '../errors.js';

export type { LoadStateDictOptions } from '../cells/stateDict.js';

/**
 * Loads a model file, the way `seqstream --model FILE` does:
 * 1. `.safetensors`: the weights, plus `cell` / `nonlinearity` / `head_activation` from its
 *    `__metadata__` (as `tools/export_torch.py` writes them), through `loadSafetensors`;
 * 2. otherwise JSON: a seqstream model (`RecurrentModel.toJSON()`), a PyTorch state dict, or the
 *    JSON `tools/export_torch.py` writes (its `params`, with `config` saying cell and activation).
 * `options` say what the file cannot (RNN nonlinearity, head activation); one that contradicts
 * what the file says throws `SEQ_MODEL_FORMAT`. Unreadable or unrecognised files throw
 * `ModelFormatError` (`SEQ_MODEL_FORMAT`, `SEQ_SAFETENSORS`, `SEQ_PARAM_*`).
 *
 * @example
 * ```ts
 * import { loadModel } from 'seqstream/adapters/loadModel';
 * const model = loadModel('model.safetensors');                      // head activation from the file
 * const dict = loadModel('weights.json', { headActivation: 'sigmoid' }); // a bare state dict cannot say it
 * ```
 */
export function loadModel(path: string, options: LoadStateDictOptions = {}): RecurrentModel {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new ModelFormatError('SEQ_MODEL_FORMAT', `Cannot read model file '${path}': ${(err as Error).message}`, { path });
  }
  if (path.endsWith('.safetensors')) return loadSafetensors(bytes, options);
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new ModelFormatError('SEQ_MODEL_FORMAT', `Model file '${path}' is neither JSON nor .safetensors: ${(err as Error).message}`, { path });
  }
  if (!json || typeof json !== 'object' || Array.isArray(json)) throw new ModelFormatError('SEQ_MODEL_FORMAT', `Model file '${path}' does not hold an object`, { path });
  const obj = json as Record<string, unknown>;
  if (obj.format === 'seqstream-model') return RecurrentModel.fromJSON(obj);
  return loadStateDict(obj as StateDict, options);
}
