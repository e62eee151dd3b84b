import { Subject } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { RecurrentModel } from '../../src/cells/index.js';
import { KeyedRecurrentControl, recurrentByKey, type Eviction, type KeyedEvent, type KeyedOutput } from '../../src/streams/index.js';

const I = 3;
const model = RecurrentModel.create({ cell: 'lstm', inputSize: I, hiddenSize: 5, head: { outputSize: 2 }, seed: 7 });
const x = (t: number): number[] => [Math.sin(t), Math.cos(t), 0.5 - t / 10];

/** The kernel accumulates in float32, `model.step` in float64. */
function expectClose(got: ArrayLike<number>, want: ArrayLike<number>): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < got.length; i++) expect(Math.abs(got[i] - want[i])).toBeLessThanOrEqual(1e-5);
}

/** What `key` outputs when stepped alone from zeros through the events at `offsets`. */
function alone(offsets: number[]): Float32Array[] {
  const state = model.createState();
  return offsets.map((t) => model.step(state, x(t)));
}

describe('recurrentByKey: control.delete(k) while k still has queued events', () => {
  // In the emission of a@1, the consumer queues a@2, deletes 'a' and queues c@3 (a new key, which
  // takes the first free row). The delete waits for a@2, as a reset from the reset stream does.
  function run(): { outs: KeyedOutput<string>[]; evicted: Eviction<string>[]; control: KeyedRecurrentControl<string>; subject: Subject<KeyedEvent<string>>; clock: { now: number } } {
    const clock = { now: 0 };
    const control = new KeyedRecurrentControl<string>();
    const subject = new Subject<KeyedEvent<string>>();
    const outs: KeyedOutput<string>[] = [];
    const evicted: Eviction<string>[] = [];
    subject
      .pipe(recurrentByKey<string>(model, { control, maxBatch: 1, idleTtlMs: 100, clock: () => clock.now, onEvict: (e) => evicted.push(e) }))
      .subscribe((o) => {
        outs.push(o);
        if (o.key === 'a' && o.offset === 1) {
          subject.next({ key: 'a', x: x(2), offset: 2 });
          expect(control.delete('a')).toBe(true);
          subject.next({ key: 'c', x: x(3), offset: 3 });
        }
      });
    subject.next({ key: 'a', x: x(1), offset: 1 });
    return { outs, evicted, control, subject, clock };
  }

  it("steps the queued event under its own key and state, then deletes the key; the row's next key starts clean", () => {
    const { outs, evicted, control } = run();
    expect(outs.map((o) => `${o.key}@${o.offset}`)).toEqual(['a@1', 'a@2', 'c@3']);
    const [a1, a2] = alone([1, 2]);
    expectClose(outs[0].y, a1);
    expectClose(outs[1].y, a2);
    expectClose(outs[2].y, alone([3])[0]);
    // Reported once, after its last event, with the state that event left.
    expect(evicted.map((e) => [e.key, e.reason, e.offset])).toEqual([['a', 'deleted', 2]]);
    const after = model.createState();
    model.step(after, x(1));
    model.step(after, x(2));
    expectClose(evicted[0].snapshot.h[0], after.h[0]);
    expect(control.keys()).toEqual(['c']);
    expect(control.has('a')).toBe(false);
    expect(control.stats().evicted).toEqual({ lru: 0, idle: 0, deleted: 1 });
  });

  it('keeps idle eviction working for the whole table afterwards', () => {
    const { evicted, control, subject, clock } = run();
    subject.next({ key: 'b', x: x(4), offset: 4 });
    clock.now = 1000;
    subject.next({ key: 'd', x: x(5), offset: 5 });
    expect(evicted.map((e) => `${e.key}:${e.reason}`)).toEqual(['a:deleted', 'c:idle', 'b:idle']);
    expect(control.keys()).toEqual(['d']);
  });

  it('a key deleted with queued events and sent again starts from its initial state', () => {
    const control = new KeyedRecurrentControl<string>();
    const subject = new Subject<KeyedEvent<string>>();
    const outs: KeyedOutput<string>[] = [];
    subject.pipe(recurrentByKey<string>(model, { control, maxBatch: 1 })).subscribe((o) => {
      outs.push(o);
      if (o.offset === 1) {
        subject.next({ key: 'a', x: x(2), offset: 2 });
        control.delete('a');
        subject.next({ key: 'a', x: x(3), offset: 3 });
      }
    });
    subject.next({ key: 'a', x: x(1), offset: 1 });
    expect(outs.map((o) => `${o.key}@${o.offset}`)).toEqual(['a@1', 'a@2', 'a@3']);
    expectClose(outs[1].y, alone([1, 2])[1]);
    expectClose(outs[2].y, alone([3])[0]);
    expect(control.keys()).toEqual(['a']);
  });
});
