import { readFile, rename } from 'node:fs/promises';
import { SeqstreamError } from '../errors.js';
import { trainingCheckpointFromJSON, trainingCheckpointToJSON, type TrainingCheckpoint } from '../training/trainingCheckpoint.js';
import { writeFileDurably } from './internal/writeFileDurably.js';

/**
 * Saves a training checkpoint (model, optimizer, optional stream state and meta) to a JSON file,
 * durably: a temporary file next to `path` is written and fsynced, the previous checkpoint is
 * moved to `<path>.prev`, the new one renamed over `path`, and the directory fsynced. A crash at
 * any point leaves a complete checkpoint at `path` or `<path>.prev`, and {@link loadCheckpoint}
 * falls back to `.prev` when `path` is missing or unreadable. A failed write rejects with
 * `SEQ_CHECKPOINT_WRITE`. Lives in adapters (not cells or streams) because it is file I/O:
 * `seqstream/cells` and `seqstream/streams` stay free of `node:fs` and run in browsers.
 *
 * @example
 * ```ts
 * import { saveCheckpoint, loadCheckpoint } from 'seqstream/adapters/checkpointFile';
 * await saveCheckpoint('run.ckpt.json', { model, optimizer });
 * const { model: m, optimizer: o } = await loadCheckpoint('run.ckpt.json'); // resume with trainOnline(m, { optimizer: o })
 * ```
 */
export async function saveCheckpoint(path: string, checkpoint: TrainingCheckpoint): Promise<void> {
  const text = JSON.stringify(trainingCheckpointToJSON(checkpoint));
  const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
  try {
    // Keep the last good checkpoint until the new one is in place.
    await rename(path, `${path}.prev`).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
    await writeFileDurably(path, tmp, text);
  } catch (err) {
    throw new SeqstreamError('SEQ_CHECKPOINT_WRITE', `Cannot write checkpoint '${path}': ${(err as Error).message}`, { path, cause: err });
  }
}

/**
 * Loads a checkpoint written by {@link saveCheckpoint}, or its `<path>.prev` when `path` is missing,
 * torn or not a checkpoint. When neither can be read it rejects with `path`'s error:
 * `SEQ_CHECKPOINT_READ` (missing, unreadable), `SEQ_CHECKPOINT_FORMAT` (not a checkpoint) or the
 * model's own format codes.
 *
 * @example
 * ```ts
 * const { model, optimizer, state } = await loadCheckpoint('run.ckpt.json');
 * ```
 */
export async function loadCheckpoint(path: string): Promise<TrainingCheckpoint> {
  try {
    return await readCheckpoint(path);
  } catch (err) {
    // A crash between moving the old file aside and renaming the new one leaves only `.prev`;
    // a torn or corrupt file also falls back to it.
    const prev = await readCheckpoint(`${path}.prev`).catch(() => null);
    if (prev) return prev;
    throw err;
  }
}

async function readCheckpoint(path: string): Promise<TrainingCheckpoint> {
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
