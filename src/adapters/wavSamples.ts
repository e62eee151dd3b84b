import { SeqstreamError } from '../errors.js';
import { parseWav } from './internal/parseWav.js';
import { PcmDecoder } from './internal/pcmDecoder.js';
import { Resampler } from './internal/resampler.js';

/** Mono samples of a WAV file and their rate. */
export interface WavSamples {
  samples: Float32Array;
  sampleRate: number;
  channels: number;
}

/**
 * Decodes WAV bytes to mono float samples in [-1, 1] (channels averaged), optionally resampled
 * to `sampleRate` (band-limited sinc). Errors have codes: `SEQ_AUDIO_WAV_HEADER` (not a WAV),
 * `SEQ_AUDIO_WAV_FORMAT` (unsupported encoding, channels or rate), `SEQ_AUDIO_WAV_TRUNCATED`
 * (unless `allowTruncated`), `SEQ_AUDIO_NON_FINITE` (a float sample is NaN or ±Infinity).
 * Needs the optional peer `wavefile`.
 *
 * @example
 * ```ts
 * const { samples, sampleRate } = wavSamples(readFileSync('clip.wav'), { sampleRate: 16000 });
 * ```
 */
export function wavSamples(bytes: Uint8Array, options: { sampleRate?: number; allowTruncated?: boolean; where?: string } = {}): WavSamples {
  const where = options.where ?? 'WAV';
  const wav = parseWav(bytes, where, options.allowTruncated ?? false);
  let samples = new PcmDecoder(wav.encoding, wav.channels).decode(wav.data);
  for (let i = 0; i < samples.length; i++) {
    if (!Number.isFinite(samples[i])) throw new SeqstreamError('SEQ_AUDIO_NON_FINITE', `${where}: sample ${i} is ${samples[i]}`, { index: i });
  }
  let rate = wav.sampleRate;
  if (options.sampleRate !== undefined && options.sampleRate !== rate) {
    const r = new Resampler(rate, options.sampleRate);
    const a = r.push(samples);
    const b = r.flush();
    samples = new Float32Array(a.length + b.length);
    samples.set(a, 0);
    samples.set(b, a.length);
    rate = options.sampleRate;
  }
  return { samples, sampleRate: rate, channels: wav.channels };
}
