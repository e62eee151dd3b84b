import { readFileSync } from 'node:fs';
import { SeqstreamError } from '../errors.js';
import { parseWav } from '../adapters/internal/parseWav.js';
import { PcmDecoder, type PcmEncoding } from '../adapters/internal/pcmDecoder.js';
import { AudioTagger, type TagEvent } from '../tagging/audioTagger.js';
import { loadShippedVad } from '../tagging/shippedVad.js';
import { taggerFromJSON, type Tagger } from '../tagging/taggerModel.js';

/** Settings of `seqstream tag`, see `commands/tag.ts`. */
export interface TagCommandOptions {
  wav?: string;
  rate?: number;
  encoding: PcmEncoding;
  channels: number;
  model?: string;
  frames: boolean;
  allowTruncated: boolean;
}

/**
 * Loads `--model` (a `seqstream-tagger` file) or the shipped voice-activity model.
 *
 * @example
 * ```ts
 * const tagger = loadTagger(undefined); // the shipped VAD
 * ```
 */
export function loadTagger(path: string | undefined): Tagger {
  if (!path) return loadShippedVad();
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new SeqstreamError('SEQ_MODEL_FORMAT', `--model ${path}: cannot read (${(e as Error).message})`, { path });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new SeqstreamError('SEQ_MODEL_FORMAT', `--model ${path}: not JSON`, { path });
  }
  return taggerFromJSON(json);
}

/**
 * Formats a tag event as its NDJSON line: segments `{"start","end","label"}`, frames
 * `{"time", "<label>": p, ...}`.
 *
 * @example
 * ```ts
 * formatTagEvent({ kind: 'segment', start: 0.5, end: 1.2, label: 'speech' }, ['speech']);
 * ```
 */
export function formatTagEvent(e: TagEvent, labels: readonly string[]): string {
  if (e.kind === 'segment') return JSON.stringify({ start: e.start, end: e.end, label: e.label });
  const row: Record<string, number> = { time: e.time };
  labels.forEach((l, i) => (row[l] = Math.round(e.probabilities[i] * 1e4) / 1e4));
  return JSON.stringify(row);
}

/**
 * `seqstream tag`: a WAV file, or raw PCM on stdin, through a tagger; one NDJSON line on stdout
 * per segment as soon as it is decided (and per frame with `--frames`). Stdin is read as it
 * arrives, so a live `sox -d ... |` gets its segments live.
 *
 * @example
 * ```ts
 * await runTagCommand({ wav: 'clip.wav', encoding: 's16le', channels: 1, frames: false, allowTruncated: false }, process.stdin, console.log);
 * ```
 */
export async function runTagCommand(o: TagCommandOptions, stdin: NodeJS.ReadableStream, print: (line: string) => void): Promise<{ seconds: number; segments: number }> {
  const tagger = loadTagger(o.model);
  let segments = 0;
  const emit = (events: TagEvent[]) => {
    for (const e of events) {
      if (e.kind === 'segment') segments++;
      if (e.kind === 'segment' || o.frames) print(formatTagEvent(e, tagger.labels));
    }
  };
  if (o.wav) {
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(o.wav);
    } catch (e) {
      throw new SeqstreamError('SEQ_AUDIO_FILE_READ', `Cannot read WAV file ${o.wav}: ${(e as Error).message}`, { path: o.wav });
    }
    const wav = parseWav(bytes, o.wav, o.allowTruncated);
    const samples = new PcmDecoder(wav.encoding, wav.channels).decode(wav.data);
    const t = new AudioTagger(tagger, { sampleRate: wav.sampleRate, frames: o.frames });
    // blocks of 0.1 s, as a live source would deliver them
    const block = Math.max(1, Math.round(wav.sampleRate / 10));
    for (let i = 0; i < samples.length; i += block) emit(t.push(samples.subarray(i, i + block)));
    emit(t.end());
    return { seconds: samples.length / wav.sampleRate, segments };
  }
  if (o.rate === undefined) throw new SeqstreamError('SEQ_USAGE', 'raw PCM on stdin needs --rate (or give --wav FILE)', {});
  const decoder = new PcmDecoder(o.encoding, o.channels);
  const t = new AudioTagger(tagger, { sampleRate: o.rate, frames: o.frames });
  let frames = 0;
  for await (const chunk of stdin as AsyncIterable<Buffer | string>) {
    if (typeof chunk === 'string') throw new SeqstreamError('SEQ_AUDIO_PCM_CHUNK', 'stdin delivered text, expected raw PCM bytes', {});
    const samples = decoder.decode(chunk);
    frames += samples.length;
    emit(t.push(samples));
  }
  if (decoder.pendingBytes > 0) throw new SeqstreamError('SEQ_AUDIO_PCM_TRUNCATED', `stdin ended inside a sample frame (${decoder.pendingBytes} bytes left over)`, { bytes: decoder.pendingBytes });
  emit(t.end());
  return { seconds: frames / o.rate, segments };
}
