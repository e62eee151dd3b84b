import { spawn } from 'node:child_process';
import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { lastValueFrom, of, toArray } from 'rxjs';
import { audioFromPcm } from '../../src/adapters/audioFromPcm.js';
import { audioFeatures, type AudioFrame } from '../../src/adapters/audioFeatures.js';
import { maxRelDiff } from './helpers/referenceFeatures.js';
import { encodeWav, noise, tone } from './helpers/wav.js';
import { errorOf } from '../support/errors.js';

const collect = (o: import('rxjs').Observable<AudioFrame>) => lastValueFrom(o.pipe(toArray()), { defaultValue: [] as AudioFrame[] });
/** The raw sample bytes of a WAV made by the hand-written encoder (44-byte header). */
const rawOf = (channels: Float64Array[], rate: number, format: Parameters<typeof encodeWav>[2]) => {
  const { bytes, mono } = encodeWav(channels, rate, format);
  return { raw: bytes.subarray(44), mono };
};
/** A stream delivering `bytes` in chunks of the given sizes (cycling), so samples straddle chunks. */
const chunked = (bytes: Uint8Array, sizes: number[]) => {
  const parts: Buffer[] = [];
  for (let p = 0, i = 0; p < bytes.length; i++) {
    parts.push(Buffer.from(bytes.subarray(p, p + sizes[i % sizes.length])));
    p += sizes[i % sizes.length];
  }
  return Readable.from(parts, { objectMode: false });
};
const expected = (mono: Float64Array, opts: object) =>
  collect(of(Float32Array.from(mono)).pipe(audioFeatures({ sampleRate: 16000, features: ['mfcc', 'rms'], ...opts })));

describe('audioFromPcm', () => {
  const rate = 16000;

  it('reads s16le from a real child process stdout (like sox/arecord piping into stdin)', async () => {
    const { raw, mono } = rawOf([tone(440, rate, 8000)], rate, 's16');
    const child = spawn(process.execPath, ['-e', `
      const data = Buffer.from(process.argv[1], 'base64');
      let p = 0;
      const sizes = [1, 333, 4096, 7];
      (function write(i) {
        if (p >= data.length) return process.stdout.end();
        const n = sizes[i % sizes.length];
        process.stdout.write(data.subarray(p, p + n), () => write(i + 1));
        p += n;
      })(0);
    `, Buffer.from(raw).toString('base64')], { stdio: ['ignore', 'pipe', 'inherit'] });
    const frames = await collect(audioFromPcm(child.stdout, { sampleRate: rate, features: ['mfcc', 'rms'], hopSize: 256 }));
    const want = await expected(mono, { hopSize: 256 });
    expect(frames.length).toBe(want.length);
    frames.forEach((f, k) => expect(Array.from(f.x)).toEqual(Array.from(want[k].x)));
  });

  it.each([
    ['u8', 'u8', 1],
    ['s24le', 's24', 2],
    ['s32le', 's32', 1],
    ['f32le', 'f32', 2],
    ['f64le', 'f64', 1],
  ] as const)('decodes %s (%s) with %s channel(s) split across odd chunks', async (encoding, format, channels) => {
    const chans = [noise(3000, 0.4, 1), tone(300, rate, 3000)].slice(0, channels);
    const { raw, mono } = rawOf(chans, rate, format);
    const frames = await collect(audioFromPcm(chunked(raw, [5, 1, 77, 1024]), { sampleRate: rate, features: ['mfcc', 'rms'], encoding, channels }));
    const want = await expected(mono, {});
    expect(frames.length).toBe(want.length);
    frames.forEach((f, k) => expect(maxRelDiff(f.x, want[k].x)).toBeLessThan(1e-5));
  });

  it('decodes s8 and big-endian s16be', async () => {
    const bytes8 = Buffer.from([0, 64, 192, 127, 128]);
    const want8 = [0, 0.5, -0.5, 127 / 128, -1];
    const be = Buffer.alloc(10);
    [0, 16384, -16384, 32767, -32768].forEach((v, i) => be.writeInt16BE(v, 2 * i));
    const want16 = [0, 0.5, -0.5, 32767 / 32768, -1];
    for (const [encoding, bytes, want] of [['s8', bytes8, want8], ['s16be', be, want16]] as const) {
      const [f] = await collect(audioFromPcm(Readable.from([bytes]), { sampleRate: rate, encoding, features: ['buffer'], bufferSize: 32, windowingFunction: 'rect' }));
      expect(Array.from(f.x.subarray(0, 5))).toEqual(want.map((v) => Math.fround(v)));
    }
  });

  it('resamples a 48 kHz stream to 16 kHz features', async () => {
    const { raw } = rawOf([tone(1000, 48000, 48000)], 48000, 's16');
    const frames = await collect(audioFromPcm(chunked(raw, [4096]), { sampleRate: rate, inputSampleRate: 48000, features: ['spectralCentroid'] }));
    expect(frames).toHaveLength(Math.ceil(16000 / 512));
    for (const f of frames.slice(1, -1)) expect(f.x[0]).toBeCloseTo(32, 1);
  });

  it('fails on an odd byte count at the end (or drops it when asked)', async () => {
    const { raw } = rawOf([tone(440, rate, 700)], rate, 's16');
    const odd = raw.subarray(0, raw.length - 1);
    const err = await errorOf(audioFromPcm(chunked(odd, [100]), { sampleRate: rate, features: ['rms'] }));
    expect(err.code).toBe('SEQ_AUDIO_PCM_TRUNCATED');
    expect(err.details).toMatchObject({ pendingBytes: 1, bytesPerFrame: 2 });
    const frames = await collect(audioFromPcm(chunked(odd, [100]), { sampleRate: rate, features: ['rms'], partialSample: 'drop' }));
    expect(frames).toHaveLength(2);
  });

  it('fails with stable codes on text chunks, NaN floats, stream errors and early close', async () => {
    const text = new PassThrough({ encoding: 'utf8' });
    const p1 = errorOf(audioFromPcm(text, { sampleRate: rate, features: ['rms'] }));
    text.end('hello');
    expect((await p1).code).toBe('SEQ_AUDIO_PCM_CHUNK');

    const nan = Buffer.alloc(8);
    nan.writeFloatLE(0.5, 0);
    nan.writeFloatLE(NaN, 4);
    expect((await errorOf(audioFromPcm(Readable.from([nan]), { sampleRate: rate, features: ['rms'], encoding: 'f32le' }))).code).toBe('SEQ_AUDIO_NON_FINITE');

    const broken = new PassThrough();
    const p2 = errorOf(audioFromPcm(broken, { sampleRate: rate, features: ['rms'] }));
    broken.destroy(new Error('EPIPE'));
    const e2 = await p2;
    expect(e2.code).toBe('SEQ_AUDIO_SOURCE');
    expect(e2.message).toContain('EPIPE');

    const closed = new PassThrough();
    const p3 = errorOf(audioFromPcm(closed, { sampleRate: rate, features: ['rms'] }));
    closed.destroy();
    expect((await p3).code).toBe('SEQ_AUDIO_SOURCE');
  });

  it('handles an empty stream, an already ended one, and a never-ending one with early unsubscribe', async () => {
    const empty = Readable.from([], { objectMode: false });
    expect(await collect(audioFromPcm(empty, { sampleRate: rate, features: ['rms'] }))).toEqual([]);
    expect(empty.readableEnded).toBe(true);
    expect(await collect(audioFromPcm(empty, { sampleRate: rate, features: ['rms'] }))).toEqual([]);

    const live = new PassThrough();
    const seen: AudioFrame[] = [];
    const sub = audioFromPcm(live, { sampleRate: rate, features: ['rms'] }).subscribe((f) => seen.push(f));
    live.write(Buffer.alloc(2048 + 3));
    await new Promise((r) => setImmediate(r));
    expect(seen.map((f) => f.index)).toEqual([0, 1]);
    sub.unsubscribe();
    expect(live.listenerCount('data')).toBe(0);
    expect(live.isPaused()).toBe(true);
    expect(live.destroyed).toBe(false); // the caller owns the stream
  });

  it('validates options synchronously', () => {
    const s = new PassThrough();
    for (const opts of [
      { features: ['rms'] },
      { sampleRate: rate, features: ['rms'], encoding: 's12le' },
      { sampleRate: rate, features: ['rms'], channels: 100 },
      { sampleRate: rate, features: ['rms'], partialSample: 'pad' },
    ]) expect(() => audioFromPcm(s, opts as never)).toThrow(expect.objectContaining({ code: 'SEQ_INVALID_OPTION' }));
    expect(() => audioFromPcm({} as never, { sampleRate: rate, features: ['rms'] })).toThrow(expect.objectContaining({ code: 'SEQ_INVALID_OPTION' }));
  });
});
