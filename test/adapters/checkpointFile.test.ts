import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCheckpoint, saveCheckpoint } from '../../src/adapters/checkpointFile.js';
import { adam, rmsprop } from '../../src/training/index.js';
import { RecurrentModel } from '../../src/cells/index.js';

describe('checkpointFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'seqstream-ckpt-'));
  it('round-trips model, optimizer buffers and meta, and leaves no temporary file', async () => {
    const model = RecurrentModel.create({ cell: 'rnn_tanh', inputSize: 2, hiddenSize: 3, numLayers: 2, head: { outputSize: 1, activation: 'sigmoid' }, seed: 2 });
    const opt = rmsprop({ lr: 0.01, centered: true });
    opt.step(model.parameters(), model.parameters().map((p) => Float64Array.from(p.data, (v) => v * 0.1)));
    const file = join(dir, 'a.json');
    await saveCheckpoint(file, { model, optimizer: opt, meta: { epoch: 3 } });
    await saveCheckpoint(file, { model, optimizer: opt, meta: { epoch: 3 } }); // overwrite
    const back = await loadCheckpoint(file);
    expect(back.model.toJSON()).toEqual(model.toJSON());
    expect(back.optimizer.toJSON()).toEqual(opt.toJSON());
    expect(back.meta).toEqual({ epoch: 3 });
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('rejects missing, non-JSON and foreign files with stable codes', async () => {
    await expect(loadCheckpoint(join(dir, 'missing.json'))).rejects.toMatchObject({ code: 'SEQ_CHECKPOINT_READ' });
    writeFileSync(join(dir, 'bad.json'), '{oops');
    await expect(loadCheckpoint(join(dir, 'bad.json'))).rejects.toMatchObject({ code: 'SEQ_CHECKPOINT_FORMAT' });
    writeFileSync(join(dir, 'other.json'), JSON.stringify({ format: 'seqstream-model' }));
    await expect(loadCheckpoint(join(dir, 'other.json'))).rejects.toMatchObject({ code: 'SEQ_CHECKPOINT_FORMAT' });
    const model = RecurrentModel.create({ cell: 'gru', inputSize: 1, hiddenSize: 2, seed: 1 });
    const opt = adam();
    opt.step([{ name: 'weight_ih_l9', shape: [1], data: Float32Array.of(0) }], [Float64Array.of(1)]);
    writeFileSync(join(dir, 'mismatch.json'), JSON.stringify({ format: 'seqstream-training', version: 1, model: model.toJSON(), optimizer: opt.toJSON() }));
    await expect(loadCheckpoint(join(dir, 'mismatch.json'))).rejects.toMatchObject({ code: 'SEQ_CHECKPOINT_FORMAT' });
  });

  it('falls back to the previous checkpoint when the newest is torn or was never renamed into place', async () => {
    const model = RecurrentModel.create({ cell: 'gru', inputSize: 1, hiddenSize: 2, seed: 1 });
    const file = join(dir, 'run.json');
    await saveCheckpoint(file, { model, optimizer: adam(), meta: { n: 1 } });
    await saveCheckpoint(file, { model, optimizer: adam(), meta: { n: 2 } });
    expect(existsSync(`${file}.prev`)).toBe(true);
    expect((await loadCheckpoint(file)).meta).toEqual({ n: 2 });
    // Torn newest file: the previous one is used.
    writeFileSync(file, readFileSync(file, 'utf8').slice(0, 40));
    expect((await loadCheckpoint(file)).meta).toEqual({ n: 1 });
    // Crash between moving the old file aside and renaming the new one: only .prev exists.
    rmSync(file);
    expect((await loadCheckpoint(file)).meta).toEqual({ n: 1 });
  });

  it('rejects a write into a missing folder with SEQ_CHECKPOINT_WRITE and leaves no temporary file', async () => {
    const model = RecurrentModel.create({ cell: 'gru', inputSize: 1, hiddenSize: 2, seed: 1 });
    await expect(saveCheckpoint(join(dir, 'no-such-folder', 'x.json'), { model, optimizer: adam() })).rejects.toMatchObject({ code: 'SEQ_CHECKPOINT_WRITE' });
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});
