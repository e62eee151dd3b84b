import { expect } from 'vitest';
import { Subject } from 'rxjs';
import { RecurrentModel, seededRandom, type CellKind } from '../../src/cells/index.js';
import { recurrentByKey, type KeyedEvent, type KeyedOutput, type RecurrentByKeyOptions } from '../../src/streams/index.js';

/** Shared by the recurrentByKey test files: a small model, random keyed events and the per-key reference. */
export const I = 5;

export function makeModel(cell: CellKind = 'lstm', opts: { layers?: number; head?: boolean; H?: number } = {}): RecurrentModel {
  return RecurrentModel.create({ cell, inputSize: I, hiddenSize: opts.H ?? 6, numLayers: opts.layers ?? 1, head: opts.head === false ? null : { outputSize: 2 }, seed: 11 });
}

/** Random events over `keys` keys, some with reset flags. */
export function randomEvents(n: number, keys: number, seed: number, resetRate = 0.03): KeyedEvent<string>[] {
  const rnd = seededRandom(seed);
  return Array.from({ length: n }, (_, i) => ({
    key: `k${Math.floor(rnd() * keys)}`,
    x: Array.from({ length: I }, () => rnd() * 2 - 1),
    reset: rnd() < resetRate ? true : undefined,
    offset: i,
  }));
}

/** Reference: each key stepped alone with `model.step`, in event order. */
export function reference(model: RecurrentModel, events: KeyedEvent<string>[], emitHidden = false): Map<number, Float32Array> {
  const states = new Map<string, ReturnType<RecurrentModel['createState']>>();
  const out = new Map<number, Float32Array>();
  for (const e of events) {
    let s = states.get(e.key);
    if (!s || e.reset) {
      s = model.createState();
      states.set(e.key, s);
    }
    const y = model.step(s, e.x);
    out.set(e.offset as number, emitHidden ? s.h[s.h.length - 1].slice() : y);
  }
  return out;
}

export function expectClose(a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-6): void {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i])).toBeLessThanOrEqual(tol);
}

/** Pushes events through a Subject in random bursts with random async gaps; resolves with all outputs. */
export async function runBursty<K>(events: KeyedEvent<K>[], options: RecurrentByKeyOptions<K>, model: RecurrentModel, seed: number): Promise<KeyedOutput<K>[]> {
  const rnd = seededRandom(seed);
  const subject = new Subject<KeyedEvent<K>>();
  const outs: KeyedOutput<K>[] = [];
  const done = new Promise<void>((resolve, reject) => {
    subject.pipe(recurrentByKey(model, options)).subscribe({ next: (o) => outs.push(o), error: reject, complete: resolve });
  });
  let i = 0;
  while (i < events.length) {
    const burst = 1 + Math.floor(rnd() * 40);
    for (let j = 0; j < burst && i < events.length; j++) subject.next(events[i++]);
    const gap = rnd();
    if (gap < 0.4) await Promise.resolve();
    else if (gap < 0.7) await new Promise((r) => setTimeout(r, 0));
    else if (gap < 0.8) await new Promise((r) => setTimeout(r, 3));
  }
  subject.complete();
  await done;
  return outs;
}
