import { from } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { RecurrentModel } from '../../src/cells/index.js';
import { KeyedRecurrentControl, MemoryStateStore, recurrentByKey } from '../../src/streams/index.js';
import { codeOf } from '../support/errors.js';

describe('KeyedRecurrentControl after the stream completes (as the README documents)', () => {
  it('reads the last states inside complete, throws SEQ_KEYED_NOT_RUNNING after, and an onComplete checkpoint keeps them', async () => {
    const model = RecurrentModel.create({ cell: 'gru', inputSize: 1, hiddenSize: 2, seed: 1 });
    const control = new KeyedRecurrentControl<string>();
    const store = new MemoryStateStore<string>();
    let last: unknown;
    const events = [{ key: 'a', x: [1] }, { key: 'b', x: [2] }, { key: 'a', x: [3] }];
    await new Promise<void>((resolve, reject) =>
      from(events)
        .pipe(recurrentByKey<string>(model, { control, checkpoint: { store, onComplete: true } }))
        .subscribe({ error: reject, complete: () => ((last = control.snapshot('a')), resolve()) }),
    );
    const alone = model.createState();
    model.step(alone, [1]);
    model.step(alone, [3]);
    const close = (got: ArrayLike<number>) => Array.from(got).forEach((v, i) => expect(v).toBeCloseTo(alone.h[0][i], 6));
    close((last as { h: number[][] }).h[0]);
    expect(codeOf(() => control.snapshot('a'))).toBe('SEQ_KEYED_NOT_RUNNING');
    const cp = (await store.load())!;
    expect([...cp.keys].sort()).toEqual(['a', 'b']);
    close(cp.state.subarray(cp.keys.indexOf('a') * 2, cp.keys.indexOf('a') * 2 + 2));
  });
});
