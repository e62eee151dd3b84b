import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { from, lastValueFrom, map, merge, NEVER, of, Subject, throwError, toArray, concat } from 'rxjs';
import { audioFeatures, type AudioFrame } from '../../src/adapters/audioFeatures.js';
import { RecurrentModel, runSequence } from '../../src/cells/index.js';
import { maxRelDiff, referenceFeatures, referenceFrames } from './helpers/referenceFeatures.js';
import { noise, tone } from './helpers/wav.js';
import { errorOf } from '../support/errors.js';

const Meyda = createRequire(import.meta.url)('meyda');

const collect = (o: import('rxjs').Observable<AudioFrame>) => lastValueFrom(o.pipe(toArray()), { defaultValue: [] as AudioFrame[] });
/** Splits a signal into blocks of the given sizes, cycling. */
function blocks(signal: Float64Array, sizes: number[]): Float32Array[] {
  const out: Float32Array[] = [];
  for (let p = 0, i = 0; p < signal.length; i++) {
    const n = sizes[i % sizes.length];
    out.push(Float32Array.from(signal.subarray(p, p + n)));
    p += n;
  }
  return out;
}

describe('audioFeatures (sample blocks)', () => {
  const rate = 16000;
  const signal = Float64Array.from(tone(1000, rate, 4000), (v) => Math.fround(v));

  it('gives the same frames whatever the block sizes, matching the reference', async () => {
    const op = () => audioFeatures({ sampleRate: rate, features: ['mfcc', 'rms', 'zcr', 'spectralCentroid'], hopSize: 200 });
    const whole = await collect(of(Float32Array.from(signal)).pipe(op()));
    const pieces = await collect(from(blocks(signal, [1, 7, 300, 1000, 3])).pipe(op()));
    expect(pieces.length).toBe(whole.length);
    pieces.forEach((f, k) => expect(Array.from(f.x)).toEqual(Array.from(whole[k].x)));
    const ref = referenceFrames(signal, 512, 200);
    expect(whole.length).toBe(ref.length);
    whole.forEach((f, k) => {
      const r = referenceFeatures(ref[k], rate);
      expect(maxRelDiff(f.x.subarray(0, 13), r.mfcc)).toBeLessThan(2e-4);
      expect(f.x[13]).toBeCloseTo(r.rms, 5);
      expect(f.x[14]).toBe(r.zcr);
      expect(f.time).toBeCloseTo((k * 200) / rate, 12);
    });
  });

  it('matches the reference melBands and other window/hop settings', async () => {
    const frames = await collect(of(Float32Array.from(signal)).pipe(
      audioFeatures({ sampleRate: rate, features: ['melBands', 'mfcc'], bufferSize: 1024, hopSize: 1500, melBands: 40, mfccCoefficients: 20 }),
    ));
    const ref = referenceFrames(signal, 1024, 1500);
    expect(frames.length).toBe(ref.length); // hop > bufferSize: samples in the gaps are skipped
    frames.forEach((f, k) => {
      const r = referenceFeatures(ref[k], rate, 40, 20);
      expect(maxRelDiff(f.x.subarray(0, 40), r.melBands)).toBeLessThan(2e-4);
      expect(maxRelDiff(f.x.subarray(40), r.mfcc)).toBeLessThan(2e-4);
    });
  });

  it('keeps settings per stream: two interleaved streams with different rates and MFCC counts do not disturb each other (nor the global Meyda)', async () => {
    const aOpts = { sampleRate: 16000, features: ['mfcc', 'chroma', 'loudness'], bufferSize: 512, mfccCoefficients: 13 } as const;
    const bOpts = { sampleRate: 44100, features: ['mfcc', 'chroma', 'loudness'], bufferSize: 1024, mfccCoefficients: 20, melBands: 40, chromaBands: 24, barkBands: 12 } as const;
    const aSignal = tone(440, 16000, 8192);
    const bSignal = noise(16384, 0.4, 99);
    const aAlone = await collect(from(blocks(aSignal, [512])).pipe(audioFeatures(aOpts)));
    const bAlone = await collect(from(blocks(bSignal, [1024])).pipe(audioFeatures(bOpts)));

    // Interleave block by block, and meddle with the global Meyda object in between.
    const globalsBefore = { bufferSize: Meyda.bufferSize, sampleRate: Meyda.sampleRate, n: Meyda.numberOfMFCCCoefficients };
    const aIn = new Subject<Float32Array>();
    const bIn = new Subject<Float32Array>();
    const got: { a: AudioFrame[]; b: AudioFrame[] } = { a: [], b: [] };
    const done = lastValueFrom(merge(
      aIn.pipe(audioFeatures(aOpts), map((f) => got.a.push(f))),
      bIn.pipe(audioFeatures(bOpts), map((f) => got.b.push(f))),
    ), { defaultValue: undefined });
    const aBlocks = blocks(aSignal, [512]);
    const bBlocks = blocks(bSignal, [1024]);
    for (let i = 0; i < Math.max(aBlocks.length, bBlocks.length); i++) {
      if (i < aBlocks.length) aIn.next(aBlocks[i]);
      Meyda.sampleRate = 8000; // a third party using Meyda directly
      Meyda.numberOfMFCCCoefficients = 5;
      if (i < bBlocks.length) bIn.next(bBlocks[i]);
      Meyda.sampleRate = globalsBefore.sampleRate;
      Meyda.numberOfMFCCCoefficients = globalsBefore.n;
    }
    aIn.complete();
    bIn.complete();
    await done;
    expect(got.a.length).toBe(aAlone.length);
    expect(got.b.length).toBe(bAlone.length);
    got.a.forEach((f, k) => expect(Array.from(f.x)).toEqual(Array.from(aAlone[k].x)));
    got.b.forEach((f, k) => expect(Array.from(f.x)).toEqual(Array.from(bAlone[k].x)));
    expect(got.a[0].x.length).toBe(13 + 12 + 25);
    expect(got.b[0].x.length).toBe(20 + 24 + 13);
    expect({ bufferSize: Meyda.bufferSize, sampleRate: Meyda.sampleRate, n: Meyda.numberOfMFCCCoefficients }).toEqual(globalsBefore);
    // and the global object holds none of our filter banks
    expect(Meyda.melFilterBank?.length).not.toBe(40);
  });

  it('mixes interleaved channels to mono and resamples a different input rate', async () => {
    const mono = noise(3000, 0.3);
    const stereo = new Float32Array(6000);
    for (let i = 0; i < 3000; i++) {
      stereo[2 * i] = mono[i] + 0.1;
      stereo[2 * i + 1] = mono[i] - 0.1;
    }
    const opts = { sampleRate: rate, features: ['rms', 'mfcc'] };
    const a = await collect(of(Float32Array.from(mono)).pipe(audioFeatures(opts)));
    const b = await collect(of(stereo).pipe(audioFeatures({ ...opts, channels: 2 })));
    b.forEach((f, k) => expect(maxRelDiff(f.x, a[k].x)).toBeLessThan(1e-5));

    const at48k = tone(1000, 48000, 12000);
    const frames = await collect(of(at48k).pipe(audioFeatures({ sampleRate: rate, inputSampleRate: 48000, features: ['spectralCentroid'] })));
    expect(frames).toHaveLength(Math.ceil(4000 / 512));
    for (const f of frames.slice(1, -1)) expect(f.x[0]).toBeCloseTo(32, 1);
    expect(() => audioFeatures({ sampleRate: rate, inputSampleRate: 48000, features: ['rms'], rateMismatch: 'error' })).toThrow(
      expect.objectContaining({ code: 'SEQ_AUDIO_RATE_MISMATCH' }),
    );
  });

  it('handles an empty source, a source error and a never-ending source with early unsubscribe', async () => {
    const op = audioFeatures({ sampleRate: rate, features: ['rms'] });
    expect(await collect(from([] as Float32Array[]).pipe(op))).toEqual([]);
    const boom = new Error('mic unplugged');
    const err = await errorOf(concat(of(new Float32Array(600)), throwError(() => boom)).pipe(op));
    expect(err).toBe(boom);

    const seen: AudioFrame[] = [];
    const sub = concat(of(new Float32Array(1100).fill(0.25)), NEVER).pipe(op).subscribe((f) => seen.push(f));
    expect(seen.map((f) => f.index)).toEqual([0, 1]); // 1100 samples: two full frames, third waits
    sub.unsubscribe();
    expect(sub.closed).toBe(true);
  });

  it('rejects bad blocks with stable codes, one stream at a time', async () => {
    const op = audioFeatures({ sampleRate: rate, features: ['rms'], channels: 2 });
    expect((await errorOf(of('not audio' as unknown as Float32Array).pipe(op))).code).toBe('SEQ_AUDIO_BLOCK_TYPE');
    expect((await errorOf(of(new Float32Array(3)).pipe(op))).code).toBe('SEQ_AUDIO_BLOCK_SHAPE');
    expect((await errorOf(of(Float32Array.from([0, 1, Infinity, 0])).pipe(op))).code).toBe('SEQ_AUDIO_NON_FINITE');
    // a healthy stream sharing the operator is unaffected
    expect(await collect(of(new Float32Array(1024)).pipe(op))).toHaveLength(1);
  });

  it('requires sampleRate and validates channels synchronously', () => {
    expect(() => audioFeatures({ features: ['rms'] } as never)).toThrow(expect.objectContaining({ code: 'SEQ_INVALID_OPTION' }));
    expect(() => audioFeatures({ sampleRate: rate, features: ['rms'], channels: 0 })).toThrow(expect.objectContaining({ code: 'SEQ_INVALID_OPTION' }));
  });

  it('feeds a RecurrentModel step by step, one output per frame, equal to the whole-sequence run', async () => {
    const op = audioFeatures({ sampleRate: rate, features: ['mfcc', 'rms'], hopSize: 256 });
    const model = RecurrentModel.create({ cell: 'lstm', inputSize: op.layout.length, hiddenSize: 8, head: { outputSize: 3, activation: 'softmax' }, seed: 7 });
    const state = model.createState();
    const signal2 = tone(700, rate, 5000);
    const outputs = await lastValueFrom(from(blocks(signal2, [333])).pipe(
      op,
      map((frame) => ({ time: frame.time, x: frame.x, y: model.step(state, frame.x) })),
      toArray(),
    ));
    expect(outputs).toHaveLength(referenceFrames(signal2, 512, 256).length);
    for (const o of outputs) {
      expect(o.y).toHaveLength(3);
      expect(o.y[0] + o.y[1] + o.y[2]).toBeCloseTo(1, 5);
    }
    // the same frames as one whole sequence give the same outputs
    const seq = runSequence(model, [outputs.map((o) => Array.from(o.x))], { engine: 'fused' });
    outputs.forEach((o, t) => expect(maxRelDiff(o.y, seq.y![0][t])).toBeLessThan(1e-6));
  });
});
