/**
 * Audio feature throughput: seconds of audio analysed per wall-clock second (x real time) for
 * the audio adapters, against a bare loop over Meyda's global `extract` on the same pre-cut
 * frames in the same process (the baseline; what the adapter adds is framing, per-stream
 * isolation, decoding and resampling).
 *
 *   npx tsx bench/audio.ts [--quick]
 */
import { createRequire } from 'node:module';
import { from, lastValueFrom, count } from 'rxjs';
import { audioFeatures } from '../src/adapters/audioFeatures.js';
import { audioFromWav } from '../src/adapters/audioFromWav.js';
import { printTable } from './stats.js';

const Meyda = createRequire(import.meta.url)('meyda');

function wav16(samples: Float32Array, rate: number): Buffer {
  const buf = Buffer.alloc(44 + samples.length * 2);
  buf.write('RIFF', 0); buf.writeUInt32LE(buf.length - 8, 4); buf.write('WAVEfmt ', 8);
  buf.writeUInt32LE(16, 16); buf.writeUInt16LE(1, 20); buf.writeUInt16LE(1, 22);
  buf.writeUInt32LE(rate, 24); buf.writeUInt32LE(rate * 2, 28); buf.writeUInt16LE(2, 32); buf.writeUInt16LE(16, 34);
  buf.write('data', 36); buf.writeUInt32LE(samples.length * 2, 40);
  for (let i = 0; i < samples.length; i++) buf.writeInt16LE(Math.round(samples[i] * 32767), 44 + 2 * i);
  return buf;
}

function signal(rate: number, seconds: number): Float32Array {
  const x = new Float32Array(Math.round(rate * seconds));
  let s = 1;
  for (let i = 0; i < x.length; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    x[i] = 0.4 * Math.sin((2 * Math.PI * 440 * i) / rate) + 0.1 * (s / 2 ** 32 - 0.5);
  }
  return x;
}

async function time(fn: () => Promise<number> | number): Promise<{ ms: number; frames: number }> {
  const t0 = performance.now();
  const frames = await fn();
  return { ms: performance.now() - t0, frames };
}

export async function run(options: { quick?: boolean } = {}): Promise<void> {
  const seconds = options.quick ? 10 : 60;
  const rate = 16000;
  const N = 512;
  const hop = 256;
  const features = ['mfcc', 'rms', 'zcr', 'spectralCentroid'];
  const x16 = signal(rate, seconds);
  const x44 = signal(44100, seconds);
  const bytes16 = wav16(x16, rate);
  const bytes44 = wav16(x44, 44100);

  const cases: Array<[string, () => Promise<number> | number]> = [
    ['Meyda.extract loop (baseline)', () => {
      Meyda.bufferSize = N; Meyda.sampleRate = rate; Meyda.numberOfMFCCCoefficients = 13;
      let n = 0;
      for (let s = 0; s + N <= x16.length; s += hop, n++) Meyda.extract(features, x16.subarray(s, s + N));
      return n;
    }],
    ['audioFeatures, 1024-sample blocks', () => {
      const blocks: Float32Array[] = [];
      for (let s = 0; s < x16.length; s += 1024) blocks.push(x16.subarray(s, s + 1024));
      return lastValueFrom(from(blocks).pipe(audioFeatures({ sampleRate: rate, features, bufferSize: N, hopSize: hop }), count()));
    }],
    ['audioFromWav 16 kHz s16', () => lastValueFrom(audioFromWav(bytes16, { features, bufferSize: N, hopSize: hop }).pipe(count()))],
    ['audioFromWav 44.1 kHz s16 -> 16 kHz', () => lastValueFrom(audioFromWav(bytes44, { features, sampleRate: rate, bufferSize: N, hopSize: hop }).pipe(count()))],
  ];
  await time(cases[0][1]); // warm-up: JIT and Meyda's window cache
  const rows: Array<Array<string | number>> = [];
  let baseline = 0;
  for (const [name, fn] of cases) {
    let ms = Infinity;
    let frames = 0;
    for (let r = 0; r < (options.quick ? 2 : 3); r++) {
      const t = await time(fn);
      ms = Math.min(ms, t.ms);
      frames = t.frames;
    }
    if (!baseline) baseline = ms;
    rows.push([name, frames, ms.toFixed(0), (seconds / (ms / 1000)).toFixed(0) + 'x', (ms / baseline).toFixed(2)]);
  }
  console.log(`${seconds} s of audio, bufferSize ${N}, hopSize ${hop}, features ${features.join('+')}; best of runs`);
  printTable(['case', 'frames', 'ms', 'real time', 'time vs baseline'], rows);
}

if (import.meta.url === `file://${process.argv[1]}`) await run({ quick: process.argv.includes('--quick') });
