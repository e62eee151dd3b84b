import { from, lastValueFrom, Subject, toArray } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { RecurrentModel, seededRandom, type CellKind } from '../../src/cells/index.js';
import type { StepEngine } from '../../src/kernels/autoStepper.js';
import { onnxRuntimeStatus } from '../../src/kernels/onnxRuntime.js';
import { recurrentByKey, type KeyedEvent, type KeyedOutput } from '../../src/streams/index.js';

// The same keyed run on every step engine (chosen with SEQSTREAM_ENGINE, read when the operator
// subscribes): outputs equal stepping each key alone, and on one engine two different batchings of
// the same events give bit-identical outputs (what crash replay relies on).
const I = 5;
const native = onnxRuntimeStatus().available;
if (!native && process.env.CI === 'true') throw new Error(`CI must have onnxruntime-node: ${onnxRuntimeStatus().reason}`);
const engines: StepEngine[] = native ? ['js', 'wasm', 'native', 'auto'] : ['js', 'wasm', 'auto'];

function events(n: number, keys: number, seed: number): KeyedEvent<string>[] {
  const rnd = seededRandom(seed);
  return Array.from({ length: n }, (_, i) => ({
    key: `k${Math.floor(rnd() * keys)}`,
    x: Array.from({ length: I }, () => rnd() * 2 - 1),
    reset: rnd() < 0.02 ? true : undefined,
    offset: i,
  }));
}

function reference(model: RecurrentModel, evs: KeyedEvent<string>[]): Map<number, Float32Array> {
  const states = new Map<string, ReturnType<RecurrentModel['createState']>>();
  const out = new Map<number, Float32Array>();
  for (const e of evs) {
    let s = states.get(e.key);
    if (!s || e.reset) states.set(e.key, (s = model.createState()));
    out.set(e.offset as number, model.step(s, e.x));
  }
  return out;
}

/** All at once (flushes of maxBatch rows). */
function runAtOnce(model: RecurrentModel, evs: KeyedEvent<string>[], maxBatch: number): Promise<KeyedOutput<string>[]> {
  return lastValueFrom(from(evs).pipe(recurrentByKey(model, { maxBatch }), toArray()));
}

/** In small bursts separated by microtasks (many small flushes). */
async function runInBursts(model: RecurrentModel, evs: KeyedEvent<string>[], seed: number): Promise<KeyedOutput<string>[]> {
  const rnd = seededRandom(seed);
  const subject = new Subject<KeyedEvent<string>>();
  const done = lastValueFrom(subject.pipe(recurrentByKey(model, { maxBatch: 7 }), toArray()));
  for (let i = 0; i < evs.length; ) {
    const n = 1 + Math.floor(rnd() * 12);
    for (let j = 0; j < n && i < evs.length; j++) subject.next(evs[i++]);
    await Promise.resolve();
  }
  subject.complete();
  return done;
}

describe('recurrentByKey on every step engine', () => {
  afterEach(() => {
    delete process.env.SEQSTREAM_ENGINE;
  });

  it('the engine option wins over SEQSTREAM_ENGINE; a bad name is SEQ_INVALID_OPTION at creation', async () => {
    const model = RecurrentModel.create({ cell: 'gru', inputSize: I, hiddenSize: 16, head: { outputSize: 2 }, seed: 3 });
    const evs = events(300, 40, 5);
    const pinned = native ? 'native' : 'wasm';
    process.env.SEQSTREAM_ENGINE = pinned;
    const byEnv = await runAtOnce(model, evs, 64);
    process.env.SEQSTREAM_ENGINE = 'js';
    const byOption = await lastValueFrom(from(evs).pipe(recurrentByKey(model, { maxBatch: 64, engine: pinned }), toArray()));
    byOption.forEach((o, i) => expect(Array.from(o.y)).toEqual(Array.from(byEnv[i].y)));
    expect(() => recurrentByKey(model, { engine: 'gpu' as never })).toThrow(expect.objectContaining({ code: 'SEQ_INVALID_OPTION' }));
  });

  it('a bad SEQSTREAM_NATIVE_GRAPH is SEQ_INVALID_OPTION when the operator is made, not at its first large batch', () => {
    const saved = process.env.SEQSTREAM_NATIVE_GRAPH;
    process.env.SEQSTREAM_NATIVE_GRAPH = 'fused';
    try {
      const model = RecurrentModel.create({ cell: 'lstm', inputSize: I, hiddenSize: 8, seed: 3 });
      expect(() => recurrentByKey(model)).toThrow(expect.objectContaining({ code: 'SEQ_INVALID_OPTION', message: expect.stringContaining('SEQSTREAM_NATIVE_GRAPH') }));
    } finally {
      if (saved === undefined) delete process.env.SEQSTREAM_NATIVE_GRAPH;
      else process.env.SEQSTREAM_NATIVE_GRAPH = saved;
    }
  });
  const cases: Array<[CellKind, number]> = [['lstm', 2], ['gru', 1], ['rnn_relu', 2]];
  for (const engine of engines) {
    for (const [cell, layers] of cases) {
      it(`${engine}: ${cell}, ${layers} layer(s)`, async () => {
        process.env.SEQSTREAM_ENGINE = engine;
        // H=48 and 300 keys: 'auto' steps the big flushes natively (from 35-140 rows, by cell) and the bursts on wasm.
        const model = RecurrentModel.create({ cell, inputSize: I, hiddenSize: 48, numLayers: layers, head: { outputSize: 3 }, seed: 21 });
        const evs = events(1500, 300, 7 + layers);
        const ref = reference(model, evs);
        const big = await runAtOnce(model, evs, 512);
        const small = await runInBursts(model, evs, 3);
        for (const outs of [big, small]) {
          expect(outs.map((o) => o.offset)).toEqual(evs.map((e) => e.offset));
          for (const o of outs) {
            const r = ref.get(o.offset as number) as Float32Array;
            for (let i = 0; i < r.length; i++) expect(Math.abs(o.y[i] - r[i]), `${engine} offset ${o.offset}`).toBeLessThanOrEqual(1e-5 + 1e-4 * Math.abs(r[i]));
          }
        }
        if (engine !== 'auto') {
          // One engine, two batchings: every row rounds the same.
          big.forEach((o, i) => expect(Array.from(o.y), `${engine} offset ${o.offset}`).toEqual(Array.from(small[i].y)));
        }
      }, 30_000);
    }
  }
});
