import { Observable } from 'rxjs';
import { InvalidOptionError, SeqstreamError, describe } from '../errors.js';
import { checkSampleRate, resolveAudioOptions, type AudioFeatureOptions } from './internal/audioOptions.js';
import type { AudioSource } from './internal/audioSource.js';
import { checkSamples, FeaturePipeline, type AudioFrame } from './internal/featurePipeline.js';
import { PCM_ENCODINGS, PcmDecoder, type PcmEncoding } from './internal/pcmDecoder.js';

export type { AudioFrame } from './internal/featurePipeline.js';
export type { AudioSource } from './internal/audioSource.js';
export type { PcmEncoding } from './internal/pcmDecoder.js';

/** Options of {@link audioFromPcm}. */
export interface AudioFromPcmOptions extends AudioFeatureOptions {
  /** Rate (Hz) the features are computed at. Required (raw PCM has no header to tell it). */
  sampleRate: number;
  /** Rate of the raw stream when it differs from `sampleRate` (see `rateMismatch`). Default `sampleRate`. */
  inputSampleRate?: number;
  /** Sample encoding: `'u8'`, `'s8'`, `'s16le'`, `'s16be'`, `'s24le'`, `'s32le'`, `'f32le'`, `'f64le'`. Default `'s16le'`. */
  encoding?: PcmEncoding;
  /** Interleaved channels, averaged to mono, in [1, 64]. Default `1`. */
  channels?: number;
  /** The stream ends inside a sample frame: `'error'` (default, `SEQ_AUDIO_PCM_TRUNCATED`) or `'drop'` the partial bytes. */
  partialSample?: 'error' | 'drop';
}

/** A Node Readable (or anything with its `on`/`off`/`pause` events API, like `process.stdin`). */
export type PcmReadable = NodeJS.ReadableStream & { readableEnded?: boolean; destroyed?: boolean };

/**
 * Emits one feature vector per frame from raw interleaved PCM bytes on a Node Readable, e.g.
 * `process.stdin` fed live by `sox -d -t raw -r 16000 -e signed -b 16 -c 1 -` or
 * `arecord -f S16_LE -r 16000 -c 1 -t raw`. Pacing is the producer's: a live recorder
 * delivers in real time, a file as fast as it is read.
 *
 * Algorithm, per subscription (a Readable is consumed once: subscribe once):
 * 1. Listen to `data`; every chunk must be bytes (`SEQ_AUDIO_PCM_CHUNK` for strings or objects).
 * 2. Decode whole sample frames to mono floats in [-1, 1]; a frame split across chunks is
 *    carried to the next chunk. Float samples must be finite (`SEQ_AUDIO_NON_FINITE`).
 * 3. Resample if `inputSampleRate` differs from `sampleRate`; frame, window, extract, emit.
 * 4. On `end`: if bytes of an incomplete sample frame remain, fail with
 *    `SEQ_AUDIO_PCM_TRUNCATED` (or drop them); else emit the padded last frame and complete.
 *    A stream `error` or a `close` before `end` fails with `SEQ_AUDIO_SOURCE`.
 * 5. Unsubscribing removes the listeners and pauses the stream; it is not destroyed.
 *
 * Options: every {@link AudioFeatureOptions} field (`sampleRate` required) plus
 * `inputSampleRate` (`sampleRate`), `encoding` (`'s16le'`), `channels` (1),
 * `partialSample` (`'error'`). Memory per stream is bounded by `bufferSize` plus one chunk.
 *
 * @example
 * ```ts
 * // sox -d -t raw -r 16000 -e signed -b 16 -c 1 - | npx tsx tag.ts
 * import { audioFromPcm } from 'seqstream/adapters/audioFromPcm';
 * audioFromPcm(process.stdin, { sampleRate: 16000, encoding: 's16le', features: ['rms', 'zcr'] })
 *   .subscribe(({ time, x }) => console.log(time.toFixed(2), x[0].toFixed(4)));
 * ```
 */
export function audioFromPcm(input: PcmReadable, options: AudioFromPcmOptions): AudioSource {
  if (!input || typeof (input as { on?: unknown }).on !== 'function') {
    throw new InvalidOptionError('input', 'a Node Readable stream', input);
  }
  const resolved = resolveAudioOptions(options, true);
  const sampleRate = resolved.sampleRate as number;
  const inputRate = options.inputSampleRate === undefined ? sampleRate : checkSampleRate('inputSampleRate', options.inputSampleRate);
  const encoding = options.encoding ?? 's16le';
  if (!PCM_ENCODINGS.includes(encoding)) throw new InvalidOptionError('encoding', `one of ${PCM_ENCODINGS.join(', ')}`, encoding);
  const channels = options.channels ?? 1;
  new PcmDecoder(encoding, channels); // validates channels
  const partialSample = options.partialSample ?? 'error';
  if (partialSample !== 'error' && partialSample !== 'drop') throw new InvalidOptionError('partialSample', "'error' or 'drop'", partialSample);
  const { layout } = new FeaturePipeline(resolved, inputRate, () => undefined).extractor;
  const isFloat = encoding === 'f32le' || encoding === 'f64le';

  const frames$ = new Observable<AudioFrame>((subscriber) => {
    const pipeline = new FeaturePipeline(resolved, inputRate, (frame) => subscriber.next(frame));
    const decoder = new PcmDecoder(encoding, channels);
    let bytesSeen = 0;
    let ended = false;

    const fail = (err: unknown): void => {
      detach();
      subscriber.error(err);
    };
    const onData = (chunk: unknown): void => {
      try {
        if (!(chunk instanceof Uint8Array)) {
          throw new SeqstreamError('SEQ_AUDIO_PCM_CHUNK', `Raw PCM stream must deliver bytes, received ${describe(chunk)} (was setEncoding called on it?)`, { offset: bytesSeen });
        }
        const samples = decoder.decode(chunk);
        if (isFloat) checkSamples(samples, `PCM stream at byte ${bytesSeen}`);
        bytesSeen += chunk.length;
        pipeline.push(samples);
      } catch (err) {
        fail(err);
      }
    };
    const onEnd = (): void => {
      ended = true;
      detach();
      try {
        if (decoder.pendingBytes > 0 && partialSample === 'error') {
          throw new SeqstreamError(
            'SEQ_AUDIO_PCM_TRUNCATED',
            `Raw PCM stream ended after ${bytesSeen} bytes, ${decoder.pendingBytes} bytes into a ${decoder.bytesPerFrame}-byte sample frame (${encoding}, ${channels} channel(s))`,
            { bytes: bytesSeen, pendingBytes: decoder.pendingBytes, bytesPerFrame: decoder.bytesPerFrame },
          );
        }
        pipeline.end();
        subscriber.complete();
      } catch (err) {
        subscriber.error(err);
      }
    };
    const onError = (err: unknown): void =>
      fail(new SeqstreamError('SEQ_AUDIO_SOURCE', `Raw PCM stream failed: ${(err as Error)?.message ?? String(err)}`, { cause: err }));
    const onClose = (): void => {
      if (!ended) fail(new SeqstreamError('SEQ_AUDIO_SOURCE', 'Raw PCM stream closed before it ended', {}));
    };
    function detach(): void {
      input.removeListener('data', onData);
      input.removeListener('end', onEnd);
      input.removeListener('error', onError);
      input.removeListener('close', onClose);
    }

    if (input.readableEnded) {
      onEnd();
      return;
    }
    if (input.destroyed) {
      subscriber.error(new SeqstreamError('SEQ_AUDIO_SOURCE', 'Raw PCM stream is already destroyed', {}));
      return;
    }
    input.on('data', onData);
    input.on('end', onEnd);
    input.on('error', onError);
    input.on('close', onClose);
    return () => {
      pipeline.stop();
      detach();
      if (!ended) input.pause();
    };
  });
  return Object.assign(frames$, { layout });
}
