import { Subject } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { RecurrentModel } from '../../src/cells/index.js';
import { KeyedRecurrentControl, recurrentByKey, type KeyedEvent } from '../../src/streams/index.js';

describe('recurrentByKey: knownKeys (a closed key set)', () => {
  const model = RecurrentModel.create({ cell: 'gru', inputSize: 2, hiddenSize: 4, seed: 3 });

  it('an event for a new key outside knownKeys is SEQ_KEYED_UNKNOWN_KEY and creates no state; known and restored keys step', async () => {
    const errors: Array<[string, unknown]> = [];
    const control = new KeyedRecurrentControl<string>();
    const subject = new Subject<KeyedEvent<string>>();
    const outs: string[] = [];
    subject.pipe(recurrentByKey<string>(model, { knownKeys: new Set(['a', 'b']), control, onError: (e, input) => errors.push([e.code, input]) })).subscribe((o) => outs.push(o.key));
    const stray = { key: 'zz', x: [1, 2] };
    subject.next({ key: 'a', x: [0, 1] });
    subject.next(stray);
    await Promise.resolve();
    control.restore('c', control.snapshot('a')!); // put in by the control: held, so it steps
    subject.next({ key: 'c', x: [1, 1] });
    subject.next({ key: 'b', x: [1, 0] });
    await Promise.resolve();
    expect(outs).toEqual(['a', 'c', 'b']);
    expect(errors).toEqual([['SEQ_KEYED_UNKNOWN_KEY', stray]]);
    expect(control.has('zz')).toBe(false);
    expect(control.stats().rejected).toBe(1);
    subject.complete();
  });
});
