import { readFile, stat } from 'node:fs/promises';
import { Observable } from 'rxjs';
import { InvalidOptionError, SeqstreamError } from '../errors.js';
import { resolveAudioOptions, type AudioFeatureOptions } from './internal/audioOptions.js';
import type { AudioSource } from './internal/audioSource.js';
import { FeatureExtractor } from './internal/featureExtractor.js';
import { checkSamples, FeaturePipeline, type AudioFrame } from './internal/featurePipeline.js';
import { parseWav } from './internal/parseWav.js';
import { PcmDecoder } from './internal/pcmDecoder.js';

export type { AudioFrame } from './internal/featurePipeline.js';
export type { AudioSource } from './internal/audioSource.js';

/** Default `maxFileBytes`: 128 MiB (about 70 minutes of 16 kHz 16-bit mono, 12 minutes of CD audio). */
export const DEFAULT_MAX_WAV_BYTES = 128 * 1024 * 1024;
/** Input sample frames decoded between two yields to the event loop when `pace: 'fast'`. */
const FAST_BLOCK_FRAMES = 16384;

/** Options of {@link audioFromWav}. */
export interface AudioFromWavOptions extends AudioFeatureOptions {
  /** `'fast'` (default): as fast as possible, yielding to the event loop between blocks; `'realtime'`: each frame when its last sample would have been recorded. */
  pace?: 'fast' | 'realtime';
  /** Playback speed factor for `pace: 'realtime'`, in (0, 1000]. Default `1`. */
  speed?: number;
  /** Largest file accepted, in bytes; a bigger one fails with `SEQ_AUDIO_FILE_TOO_LARGE`. Default 128 MiB. */
  maxFileBytes?: number;
  /** Read a WAV whose data chunk is shorter than its header says (a recording cut off) instead of failing with `SEQ_AUDIO_WAV_TRUNCATED`. Default `false`. */
  allowTruncated?: boolean;
}

/**
 * Reads a WAV file (path or bytes) and emits one feature vector per frame, as
 * {@link audioFeatures} does for sample blocks. Cold: each subscription reads the file again
 * and has its own state.
 *
 * Algorithm, per subscription:
 * 1. Read the file (`SEQ_AUDIO_FILE_READ`, `SEQ_AUDIO_FILE_TOO_LARGE` above `maxFileBytes`).
 * 2. Parse it with `wavefile`: 8/16/24/32-bit integer PCM or 32/64-bit float, any channel count
 *    up to 64 (also WAVE_FORMAT_EXTENSIBLE, RF64). Corrupt or truncated headers fail with
 *    `SEQ_AUDIO_WAV_HEADER`, other encodings (ADPCM, mu-law, big-endian RIFX ...) with
 *    `SEQ_AUDIO_WAV_FORMAT`, a short data chunk with `SEQ_AUDIO_WAV_TRUNCATED`.
 * 3. Decode blocks of samples to mono floats in [-1, 1] (integers scaled by 2^(bits-1), 8-bit
 *    offset by 128, channels averaged); a NaN/infinite float sample fails with `SEQ_AUDIO_NON_FINITE`.
 * 4. Resample when the file's rate differs from `sampleRate` (default: the file's rate), or fail
 *    with `SEQ_AUDIO_RATE_MISMATCH` when `rateMismatch: 'error'`.
 * 5. Frame, window, extract and emit `{ x, index, time }`; at the end emit the zero-padded last
 *    frame (`lastFrame: 'pad'`) and complete.
 *
 * Options: every {@link AudioFeatureOptions} field, plus `pace` (`'fast'`), `speed` (1),
 * `maxFileBytes` (128 MiB), `allowTruncated` (false).
 *
 * @example
 * ```ts
 * import { audioFromWav } from 'seqstream/adapters/audioFromWav';
 * const frames$ = audioFromWav('speech.wav', { sampleRate: 16000, features: ['mfcc', 'rms'], hopSize: 256 });
 * frames$.layout.length; // 14
 * frames$.subscribe(({ x, time }) => console.log(time, x));
 * ```
 */
export function audioFromWav(source: string | Uint8Array, options: AudioFromWavOptions): AudioSource {
  if (typeof source !== 'string' && !(source instanceof Uint8Array)) {
    throw new InvalidOptionError('source', 'a file path or a Uint8Array of WAV bytes', source);
  }
  const resolved = resolveAudioOptions(options, false);
  const pace = options.pace ?? 'fast';
  if (pace !== 'fast' && pace !== 'realtime') throw new InvalidOptionError('pace', "'fast' or 'realtime'", pace);
  const speed = options.speed ?? 1;
  if (typeof speed !== 'number' || !(speed > 0 && speed <= 1000)) throw new InvalidOptionError('speed', 'a number in (0, 1000]', speed);
  const maxFileBytes = options.maxFileBytes ?? DEFAULT_MAX_WAV_BYTES;
  if (!Number.isSafeInteger(maxFileBytes) || maxFileBytes < 1) throw new InvalidOptionError('maxFileBytes', 'a positive integer', maxFileBytes);
  const allowTruncated = options.allowTruncated ?? false;
  // Feature names and the layout are checked now; the layout does not depend on the rate.
  const { layout } = new FeatureExtractor(resolved, resolved.sampleRate ?? 44100);
  const where = typeof source === 'string' ? source : 'WAV bytes';

  const frames$ = new Observable<AudioFrame>((subscriber) => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let immediate: ReturnType<typeof setImmediate> | undefined;
    let pipeline: FeaturePipeline | undefined;

    const run = async (): Promise<void> => {
      const bytes = typeof source === 'string' ? await readWav(source, maxFileBytes) : checkSize(source, maxFileBytes, where);
      if (stopped) return;
      const wav = parseWav(bytes, where, allowTruncated);
      const p = (pipeline = new FeaturePipeline(resolved, wav.sampleRate, (frame) => subscriber.next(frame)));
      const decoder = new PcmDecoder(wav.encoding, wav.channels);
      const isFloat = wav.encoding === 'f32le' || wav.encoding === 'f64le';
      const blockFrames = pace === 'fast'
        ? FAST_BLOCK_FRAMES
        : Math.max(1, Math.ceil((resolved.hopSize * wav.sampleRate) / p.sampleRate));
      const started = performance.now();
      let done = 0;
      const step = (): void => {
        immediate = timer = undefined;
        try {
          if (stopped) return;
          const end = Math.min(wav.frames, done + blockFrames);
          const samples = decoder.decode(wav.data.subarray(done * decoder.bytesPerFrame, end * decoder.bytesPerFrame));
          if (isFloat) checkSamples(samples, `${where} at sample frame ${done}`);
          done = end;
          p.push(samples);
          if (stopped) return;
          if (done >= wav.frames) {
            p.end();
            subscriber.complete();
          } else if (pace === 'fast') {
            immediate = setImmediate(step);
          } else {
            // Absolute schedule: a late timer does not push every later frame back.
            const due = started + ((done + blockFrames) / wav.sampleRate) * 1000 / speed;
            timer = setTimeout(step, Math.max(0, due - performance.now()));
          }
        } catch (err) {
          subscriber.error(err);
        }
      };
      if (pace === 'fast') step();
      else timer = setTimeout(step, Math.max(0, (blockFrames / wav.sampleRate) * 1000 / speed));
    };
    run().catch((err) => subscriber.error(err));

    return () => {
      stopped = true;
      pipeline?.stop();
      if (timer !== undefined) clearTimeout(timer);
      if (immediate !== undefined) clearImmediate(immediate);
    };
  });
  return Object.assign(frames$, { layout });
}

function checkSize(bytes: Uint8Array, max: number, where: string): Uint8Array {
  if (bytes.length > max) {
    throw new SeqstreamError('SEQ_AUDIO_FILE_TOO_LARGE', `${where}: ${bytes.length} bytes exceeds maxFileBytes ${max}`, { size: bytes.length, maxFileBytes: max });
  }
  return bytes;
}

async function readWav(path: string, max: number): Promise<Uint8Array> {
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch (err) {
    throw new SeqstreamError('SEQ_AUDIO_FILE_READ', `Cannot read WAV file ${path}: ${(err as Error).message}`, { path, cause: err });
  }
  if (size > max) {
    throw new SeqstreamError('SEQ_AUDIO_FILE_TOO_LARGE', `${path}: ${size} bytes exceeds maxFileBytes ${max}`, { path, size, maxFileBytes: max });
  }
  try {
    return checkSize(await readFile(path), max, path);
  } catch (err) {
    if (err instanceof SeqstreamError) throw err;
    throw new SeqstreamError('SEQ_AUDIO_FILE_READ', `Cannot read WAV file ${path}: ${(err as Error).message}`, { path, cause: err });
  }
}
