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
  /** WAV only: `'fast'` (default, as fast as it goes) or `'realtime'` (each frame when it would have been recorded). */
  pace?: 'fast' | 'realtime';
  /** WAV with `pace: 'realtime'`: playback speed factor in (0, 1000]. Default 1. */
  speed?: number;
}

/** What {@link runAudioCommand} did, for the stderr summary line. */
export interface AudioCommandSummary {
  /** Frames printed. */
  frames: number;
  /** Seconds of audio those frames cover (last frame's start plus one hop). */
  audioSeconds: number;
  /** Wall-clock seconds from start to the last frame. */
  wallSeconds: number;
}

/**
 * The stderr summary line of `seqstream audio`.
 *
 * @example
 * ```ts
 * audioSummaryLine({ frames: 15, audioSeconds: 0.48, wallSeconds: 0.5 }); // 'seqstream audio: 15 frames, 0.48 s of audio in 0.50 s (0.96x real time)'
 * ```
 */
export function audioSummaryLine(s: AudioCommandSummary): string {
  const ratio = s.wallSeconds > 0 ? ` (${(s.audioSeconds / s.wallSeconds).toFixed(2)}x real time)` : '';
  return `seqstream audio: ${s.frames} frames, ${s.audioSeconds.toFixed(2)} s of audio in ${s.wallSeconds.toFixed(2)} s${ratio}`;
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
export function runAudioCommand(options: AudioCommandOptions, stdin: NodeJS.ReadableStream, print: (line: string) => void): Promise<AudioCommandSummary> {
  const feature = {
    features: options.features,
    bufferSize: options.bufferSize,
    hopSize: options.hopSize,
  };
  let frames: AudioSource;
  if (options.wav) {
    frames = audioFromWav(options.wav, { ...feature, sampleRate: options.sampleRate, pace: options.pace, speed: options.speed });
  } else {
    // Raw PCM on stdin arrives at the pace it is recorded or piped: there is nothing to pace.
    if (options.pace === 'realtime' || options.speed !== undefined) throw new InvalidOptionError('--pace', "used with --wav (raw PCM on stdin comes at the pace it is piped)", options.pace ?? `--speed ${options.speed}`);
    if (options.sampleRate === undefined) throw new InvalidOptionError('--rate', 'the sample rate of the raw PCM on stdin (e.g. --rate 16000)', undefined);
    frames = audioFromPcm(stdin, { ...feature, sampleRate: options.sampleRate, encoding: options.encoding, channels: options.channels });
  }
  const model = options.model;
  if (model && model.config.inputSize !== frames.layout.length) {
    throw new InvalidOptionError('--model', `a model with inputSize ${frames.layout.length} (the feature vector of ${options.features.join(', ')})`, `inputSize ${model.config.inputSize}`);
  }
  const round = (v: Float32Array) => Array.from(v, (n) => Math.round(n * 1e6) / 1e6);
  const started = performance.now();
  let count = 0;
  let hop = 0; // seconds between frame starts, from the first two frames
  let last = 0;
  const seen = (f: AudioFrame) => {
    if (count === 1) hop = f.time - last;
    last = f.time;
    count++;
  };
  const summary = (): AudioCommandSummary => ({ frames: count, audioSeconds: count > 0 ? last + hop : 0, wallSeconds: (performance.now() - started) / 1000 });
  return new Promise((resolve, reject) => {
    if (!model) {
      frames.subscribe({
        next: (f) => {
          seen(f);
          print(JSON.stringify({ index: f.index, time: f.time, x: round(f.x) }));
        },
        error: reject,
        complete: () => resolve(summary()),
      });
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
          seen(f);
          print(JSON.stringify({ index: f.index, time: f.time, y: round(y) }));
        },
        error: reject,
        complete: () => resolve(summary()),
      });
  });
}
