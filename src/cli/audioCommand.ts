import { map } from 'rxjs';
import { audioFromPcm, type AudioFrame, type AudioSource, type PcmEncoding } from '../adapters/audioFromPcm.js';
import { audioFromWav } from '../adapters/audioFromWav.js';
import type { RecurrentModel } from '../cells/model.js';
import { InvalidOptionError } from '../errors.js';
import { recurrent } from '../streams/recurrent.js';

/** Options of {@link runAudioCommand} (the `seqstream audio` flags). */
export interface AudioCommandOptions {
  /** WAV file to read; without it, raw PCM is read from `stdin`. */
  wav?: string;
  /** Feature sample rate in Hz. Required for raw PCM; a WAV at another rate is resampled. */
  sampleRate?: number;
  /** Raw PCM encoding. Default `'s16le'`. */
  encoding?: PcmEncoding;
  /** Raw PCM interleaved channels. Default 1. */
  channels?: number;
  /** Meyda feature names, in vector order. Default `['mfcc']`. */
  features: string[];
  /** Frame length (power of two). Default 512. */
  bufferSize?: number;
  /** Hop between frames. Default `bufferSize`. */
  hopSize?: number;
  /** Model stepped once per frame; without one, the feature vectors are printed. */
  model?: RecurrentModel;
}

/**
 * `seqstream audio`: audio (a WAV file, or raw PCM on stdin from `sox`/`arecord`) -> Meyda
 * features per frame -> optionally a recurrent model, one NDJSON line per frame:
 * `{"index":0,"time":0,"x":[...]}` or, with a model, `{"index":0,"time":0,"y":[...]}`.
 *
 * @example
 * ```ts
 * // sox -d -t raw -r 16000 -e signed -b 16 -c 1 - | seqstream audio --rate 16000 --features mfcc,rms --model tagger.json
 * await runAudioCommand({ sampleRate: 16000, features: ['rms'] }, process.stdin, console.log);
 * ```
 */
export function runAudioCommand(options: AudioCommandOptions, stdin: NodeJS.ReadableStream, print: (line: string) => void): Promise<void> {
  const feature = {
    features: options.features,
    bufferSize: options.bufferSize,
    hopSize: options.hopSize,
  };
  let frames: AudioSource;
  if (options.wav) {
    frames = audioFromWav(options.wav, { ...feature, sampleRate: options.sampleRate });
  } else {
    if (options.sampleRate === undefined) throw new InvalidOptionError('--rate', 'the sample rate of the raw PCM on stdin (e.g. --rate 16000)', undefined);
    frames = audioFromPcm(stdin, { ...feature, sampleRate: options.sampleRate, encoding: options.encoding, channels: options.channels });
  }
  const model = options.model;
  if (model && model.config.inputSize !== frames.layout.length) {
    throw new InvalidOptionError('--model', `a model with inputSize ${frames.layout.length} (the feature vector of ${options.features.join(', ')})`, `inputSize ${model.config.inputSize}`);
  }
  const round = (v: Float32Array) => Array.from(v, (n) => Math.round(n * 1e6) / 1e6);
  return new Promise((resolve, reject) => {
    if (!model) {
      frames.subscribe({ next: (f) => print(JSON.stringify({ index: f.index, time: f.time, x: round(f.x) })), error: reject, complete: resolve });
      return;
    }
    // Keep each frame's index and time beside the model output, in order.
    const meta: AudioFrame[] = [];
    frames
      .pipe(
        map((f) => {
          meta.push(f);
          return f.x;
        }),
        recurrent(model),
      )
      .subscribe({
        next: (y) => {
          const f = meta.shift() as AudioFrame;
          print(JSON.stringify({ index: f.index, time: f.time, y: round(y) }));
        },
        error: reject,
        complete: resolve,
      });
  });
}
