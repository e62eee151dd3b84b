import { readFile, rename, writeFile } from 'node:fs/promises';
import { SeqstreamError } from '../errors.js';
import { trainingCheckpointFromJSON, trainingCheckpointToJSON, type TrainingCheckpoint } from '../cells/trainingCheckpoint.js';

/**
 * Saves a training checkpoint (model, optimizer, optional stream state and meta) to a JSON file.
 * It writes a temporary file next to `path` and renames it over `path`, so a crash mid-write
 * leaves the previous checkpoint intact. Lives in adapters (not cells or streams) because it is
 * file I/O: `seqstream/cells` and `seqstream/streams` stay free of `node:fs` and run in browsers.
 *
 * @example
 * ```ts
 * import { saveCheckpoint, loadCheckpoint } from 'seqstream/adapters/checkpointFile';
 * await saveCheckpoint('run.ckpt.json', { model, optimizer });
 * const { model: m, optimizer: o } = await loadCheckpoint('run.ckpt.json'); // resume with trainOnline(m, { optimizer: o })
 * ```
 */
export async function saveCheckpoint(path: string, checkpoint: TrainingCheckpoint): Promise<void> {
  const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
  await writeFile(tmp, JSON.stringify(trainingCheckpointToJSON(checkpoint)));
  await rename(tmp, path);
}

/**
 * Loads a checkpoint written by {@link saveCheckpoint}. A missing or unreadable file rejects with
 * `SEQ_CHECKPOINT_READ`; a file that is not a checkpoint with `SEQ_CHECKPOINT_FORMAT` (or the
 * model's own format codes).
 *
 * @example
 * ```ts
 * const { model, optimizer, state } = await loadCheckpoint('run.ckpt.json');
 * ```
 */
export async function loadCheckpoint(path: string): Promise<TrainingCheckpoint> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new SeqstreamError('SEQ_CHECKPOINT_READ', `Cannot read checkpoint '${path}': ${(err as Error).message}`, { path });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new SeqstreamError('SEQ_CHECKPOINT_FORMAT', `Checkpoint '${path}' is not JSON: ${(err as Error).message}`, { path });
  }
  return trainingCheckpointFromJSON(json);
}
