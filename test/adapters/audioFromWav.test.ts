import { afterAll, describe, expect, it } from 'vitest';
import { firstValueFrom, lastValueFrom, take, toArray } from 'rxjs';
import { audioFromWav } from '../../src/adapters/audioFromWav.js';
import type { AudioFrame } from '../../src/adapters/audioFeatures.js';
import { SeqstreamError } from '../../src/errors.js';
import { RecurrentModel } from '../../src/cells/index.js';
import { recurrent } from '../../src/streams/index.js';
import { encodeWav, noise, tempDir, tone, type WavFormat } from './helpers/wav.js';
import { maxRelDiff, referenceFeatures, referenceFrames } from './helpers/referenceFeatures.js';
import { errorOf } from '../support/errors.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

const FEATURES = ['mfcc', 'rms', 'zcr', 'spectralCentroid'];
const collect = (o: import('rxjs').Observable<AudioFrame>) => lastValueFrom(o.pipe(toArray()), { defaultValue: [] as AudioFrame[] });

/** Checks every frame of `frames` against the reference computed on `mono`. */
function expectMatchesReference(frames: AudioFrame[], mono: ArrayLike<number>, rate: number, N: number, hop: number, tol = 2e-4): void {
  const ref = referenceFrames(mono, N, hop);
  expect(frames.length).toBe(ref.length);
  frames.forEach((f, k) => {
    const r = referenceFeatures(ref[k], rate);
    expect(f.index).toBe(k);
    expect(f.time).toBeCloseTo((k * hop) / rate, 12);
    expect(f.x.length).toBe(16);
    expect(maxRelDiff(f.x.subarray(0, 13), r.mfcc)).toBeLessThan(tol);
    expect(f.x[13]).toBeCloseTo(r.rms, 5);
    expect(f.x[14]).toBe(r.zcr);
    expect(f.x[15]).toBeCloseTo(r.spectralCentroid, 3);
  });
}

describe('audioFromWav', () => {
  const rate = 16000;
  const signal = tone(1000, rate, 3000); // 1 kHz at 16 kHz sits exactly on bin 32 of a 512-point FFT

  it.each(['u8', 's16', 's24', 's32', 'f32', 'f64'] as WavFormat[])('reads %s mono and matches the reference MFCC, rms, zcr, centroid', async (format) => {
    const { bytes, mono } = encodeWav([signal], rate, format);
    const path = tmp.write(`tone-${format}.wav`, bytes);
    const frames = await collect(audioFromWav(path, { features: FEATURES, bufferSize: 512, hopSize: 256 }));
    expectMatchesReference(frames, mono, rate, 512, 256);
    // the tone's centroid, converted to Hz, is the tone
    // (8-bit quantisation noise spreads energy over the spectrum and pulls the centroid up)
    const slack = format === 'u8' ? 60 : 10;
    expect(Math.abs((frames[2].x[15] * rate) / 512 - 1000)).toBeLessThan(slack);
  });

  it('reads WAVE_FORMAT_EXTENSIBLE (16-bit PCM and 32-bit float)', async () => {
    for (const format of ['s16', 'f32'] as WavFormat[]) {
      const { bytes, mono } = encodeWav([signal], rate, format, { extensible: true });
      const frames = await collect(audioFromWav(bytes, { features: FEATURES }));
      expectMatchesReference(frames, mono, rate, 512, 512);
    }
  });

  it('mixes stereo down to the mean of the channels', async () => {
    const left = tone(440, rate, 2048);
    const right = noise(2048, 0.2);
    const { bytes, mono } = encodeWav([left, right], rate, 's24');
    const frames = await collect(audioFromWav(bytes, { features: FEATURES, hopSize: 384 }));
    expectMatchesReference(frames, mono, rate, 512, 384);
  });

  it('analyses noise and silence; silence gives zeros, not NaN, by default', async () => {
    const n = noise(1024, 0.3);
    const { bytes, mono } = encodeWav([n], rate, 'f32');
    expectMatchesReference(await collect(audioFromWav(bytes, { features: FEATURES })), mono, rate, 512, 512);

    const silence = encodeWav([new Float64Array(1024)], rate, 's16').bytes;
    const frames = await collect(audioFromWav(silence, { features: FEATURES }));
    expect(frames).toHaveLength(2);
    for (const f of frames) expect(Array.from(f.x)).toEqual(new Array(16).fill(0));
    const kept = await collect(audioFromWav(silence, { features: ['spectralCentroid'], nonFinite: 'keep' }));
    expect(kept[0].x[0]).toBeNaN();
    const err = await errorOf(audioFromWav(silence, { features: ['rms', 'spectralCentroid'], nonFinite: 'error' }));
    expect(err.code).toBe('SEQ_AUDIO_FEATURE_NON_FINITE');
    expect(err.message).toContain('spectralCentroid');
  });

  it('zero-pads the last partial frame, or drops it', async () => {
    const { bytes, mono } = encodeWav([signal.subarray(0, 1000)], rate, 'f64');
    // frames at 0 and 256 are full (end 768); 512 is partial and covers 768..1000
    const padded = await collect(audioFromWav(bytes, { features: FEATURES, hopSize: 256 }));
    expect(padded.map((f) => f.index)).toEqual([0, 1, 2]);
    expectMatchesReference(padded, mono, rate, 512, 256);
    const dropped = await collect(audioFromWav(bytes, { features: FEATURES, hopSize: 256, lastFrame: 'drop' }));
    expect(dropped).toHaveLength(2);
    // a file shorter than one frame still gives one (padded) frame; an empty one gives none
    expect(await collect(audioFromWav(encodeWav([signal.subarray(0, 10)], rate, 's16').bytes, { features: ['rms'] }))).toHaveLength(1);
    expect(await collect(audioFromWav(encodeWav([new Float64Array(0)], rate, 's16').bytes, { features: ['rms'] }))).toHaveLength(0);
  });

  it('resamples a 44.1 kHz file to the requested 16 kHz (the tone stays at 1 kHz)', async () => {
    const n = 44100; // one second
    const { bytes } = encodeWav([tone(1000, 44100, n)], 44100, 's16');
    const frames = await collect(audioFromWav(bytes, { features: ['spectralCentroid', 'mfcc'], sampleRate: 16000, bufferSize: 512 }));
    expect(frames).toHaveLength(Math.ceil(16000 / 512));
    // the same tone generated at 16 kHz directly gives the same features (interior frames)
    const direct = await collect(audioFromWav(encodeWav([tone(1000, 16000, 16000)], 16000, 'f32').bytes, { features: ['spectralCentroid', 'mfcc'] }));
    for (let k = 2; k < 28; k++) {
      expect(frames[k].x[0]).toBeCloseTo(32, 1);
      expect(maxRelDiff(frames[k].x.subarray(1), direct[k].x.subarray(1))).toBeLessThan(0.02);
    }
    const err = await errorOf(audioFromWav(bytes, { features: ['rms'], sampleRate: 16000, rateMismatch: 'error' }));
    expect(err.code).toBe('SEQ_AUDIO_RATE_MISMATCH');
    expect(err.details).toMatchObject({ inputRate: 44100, sampleRate: 16000 });
  });

  it('is cold: each subscription reads the file again with its own state', async () => {
    const path = tmp.write('cold.wav', encodeWav([signal], rate, 's16').bytes);
    const src = audioFromWav(path, { features: ['rms'] });
    const [a, b] = await Promise.all([collect(src), collect(src)]);
    expect(a.map((f) => f.x[0])).toEqual(b.map((f) => f.x[0]));
    expect(a).toHaveLength(6);
  });

  it('stops on early unsubscribe', async () => {
    const long = encodeWav([noise(16000 * 20)], rate, 's16').bytes; // 20 s, many fast blocks
    const first = await lastValueFrom(audioFromWav(long, { features: ['rms'] }).pipe(take(3), toArray()));
    expect(first.map((f) => f.index)).toEqual([0, 1, 2]);
  });

  it('replays at real-time pace when asked (never earlier than the audio duration / speed)', async () => {
    const { bytes } = encodeWav([tone(500, 8000, 4000)], 8000, 's16'); // 0.5 s
    const src = audioFromWav(bytes, { features: ['rms'], bufferSize: 256, pace: 'realtime', speed: 2 });
    let syncFrames = 0;
    const t0 = performance.now();
    const sub = src.subscribe(() => syncFrames++);
    expect(syncFrames).toBe(0);
    sub.unsubscribe();
    const frames = await collect(src);
    const elapsed = performance.now() - t0;
    expect(frames).toHaveLength(16);
    expect(elapsed).toBeGreaterThanOrEqual(0.9 * 250);
  });

  describe('bad input', () => {
    const good = encodeWav([signal.subarray(0, 600)], rate, 's16').bytes;

    it.each([
      ['empty file', 'SEQ_AUDIO_WAV_HEADER', Buffer.alloc(0)],
      ['header cut inside RIFF', 'SEQ_AUDIO_WAV_HEADER', good.subarray(0, 8)],
      ['header cut inside fmt', 'SEQ_AUDIO_WAV_HEADER', good.subarray(0, 30)],
      ['not a WAV', 'SEQ_AUDIO_WAV_HEADER', Buffer.from('this is not audio at all, just text that is long enough')],
      ['data chunk cut mid-sample', 'SEQ_AUDIO_WAV_TRUNCATED', good.subarray(0, 44 + 301)],
      ['data cut at a sample boundary', 'SEQ_AUDIO_WAV_TRUNCATED', good.subarray(0, 44 + 300)],
      ['mu-law', 'SEQ_AUDIO_WAV_FORMAT', encodeWav([signal.subarray(0, 64)], rate, 'u8', { formatCode: 7 }).bytes],
    ] as const)('%s -> %s', async (_name, code, bytes) => {
      const err = await errorOf(audioFromWav(bytes, { features: ['rms'] }));
      expect(err).toBeInstanceOf(SeqstreamError);
      expect(err.code).toBe(code);
    });

    it('rejects odd bit depths, big-endian RIFX, inconsistent block align and absurd rates', async () => {
      const odd = Buffer.from(good); odd.writeUInt16LE(12, 34);
      expect((await errorOf(audioFromWav(odd, { features: ['rms'] }))).code).toBe('SEQ_AUDIO_WAV_FORMAT');
      const rifx = Buffer.from(good); rifx.write('RIFX', 0);
      expect((await errorOf(audioFromWav(rifx, { features: ['rms'] }))).code).toMatch(/SEQ_AUDIO_WAV_(FORMAT|HEADER)/);
      const align = Buffer.from(good); align.writeUInt16LE(3, 32);
      expect((await errorOf(audioFromWav(align, { features: ['rms'] }))).code).toBe('SEQ_AUDIO_WAV_HEADER');
      const fast = Buffer.from(good); fast.writeUInt32LE(50_000_000, 24);
      expect((await errorOf(audioFromWav(fast, { features: ['rms'] }))).code).toBe('SEQ_AUDIO_WAV_FORMAT');
    });

    it('reads a truncated recording when allowTruncated is set', async () => {
      const frames = await collect(audioFromWav(good.subarray(0, 44 + 301), { features: ['rms'], allowTruncated: true, bufferSize: 64 }));
      expect(frames).toHaveLength(Math.ceil(150 / 64));
    });

    it('rejects a NaN float sample, a missing file and a file over maxFileBytes', async () => {
      const nan = encodeWav([Float64Array.from([0, 0.1, NaN, 0.2])], rate, 'f32').bytes;
      expect((await errorOf(audioFromWav(nan, { features: ['rms'] }))).code).toBe('SEQ_AUDIO_NON_FINITE');
      expect((await errorOf(audioFromWav(tmp.dir + '/missing.wav', { features: ['rms'] }))).code).toBe('SEQ_AUDIO_FILE_READ');
      const path = tmp.write('big.wav', good);
      expect((await errorOf(audioFromWav(path, { features: ['rms'], maxFileBytes: 100 }))).code).toBe('SEQ_AUDIO_FILE_TOO_LARGE');
      expect((await errorOf(audioFromWav(good, { features: ['rms'], maxFileBytes: 100 }))).code).toBe('SEQ_AUDIO_FILE_TOO_LARGE');
    });

    it('throws SEQ_INVALID_OPTION synchronously for bad options', () => {
      const bad: [string, object][] = [
        ['bufferSize', { features: ['rms'], bufferSize: 500 }],
        ['features', { features: [] }],
        ['features', { features: ['mfcc', 'mfcc'] }],
        ['features', { features: ['loudest'] }],
        ['features', { features: ['spectralFlux'] }],
        ['mfccCoefficients', { features: ['mfcc'], mfccCoefficients: 30, melBands: 26 }],
        ['hopSize', { features: ['rms'], hopSize: 0 }],
        ['windowingFunction', { features: ['rms'], windowingFunction: 'kaiser' }],
        ['sampleRate', { features: ['rms'], sampleRate: 10 }],
        ['pace', { features: ['rms'], pace: 'slow' }],
        ['maxFileBytes', { features: ['rms'], maxFileBytes: Infinity }],
      ];
      for (const [option, opts] of bad) {
        let err: SeqstreamError | undefined;
        try {
          audioFromWav(good, opts as never);
        } catch (e) {
          err = e as SeqstreamError;
        }
        expect(err?.code, option).toBe('SEQ_INVALID_OPTION');
        expect(err?.details.option, option).toBe(option);
      }
    });
  });

  it('exposes the layout of its vectors', async () => {
    const src = audioFromWav(good16(), { features: ['rms', 'mfcc', 'zcr'], mfccCoefficients: 8, melBands: 20 });
    expect(src.layout.length).toBe(10);
    expect(src.layout.entries).toEqual([
      { feature: 'rms', offset: 0, length: 1 },
      { feature: 'mfcc', offset: 1, length: 8 },
      { feature: 'zcr', offset: 9, length: 1 },
    ]);
    const frame = await firstValueFrom(src);
    expect(frame.x.length).toBe(10);
  });

  it('pipes straight into recurrent(): one output per frame, the same as stepping by hand', async () => {
    const src = audioFromWav(good16(), { features: ['mfcc', 'rms', 'zcr'], hopSize: 128 });
    const model = RecurrentModel.create({ cell: 'gru', inputSize: src.layout.length, hiddenSize: 6, head: { outputSize: 2, activation: 'sigmoid' }, seed: 3 });
    const [frames, outputs] = await Promise.all([collect(src), lastValueFrom(src.pipe(recurrent(model), toArray()))]);
    expect(outputs).toHaveLength(frames.length);
    const state = model.createState();
    frames.forEach((f, k) => expect(Array.from(outputs[k] as Float32Array)).toEqual(Array.from(model.step(state, f.x))));
  });

  function good16(): Buffer {
    return encodeWav([signal], rate, 's16').bytes;
  }
});
