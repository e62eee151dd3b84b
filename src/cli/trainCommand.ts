import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { SeqstreamError } from '../errors.js';
import { RecurrentModel } from '../cells/model.js';
import type { CellKind } from '../cells/types.js';
import { adam } from '../training/optimizers/adam.js';
import { train, type TrainProgress, type TrainResult } from '../training/train.js';
import type { LabelledSequence } from '../training/labelledSequence.js';
import { wavSamples } from '../adapters/wavSamples.js';
import { featureSize, type LogMelSettings } from '../tagging/logMelFeatures.js';
import { logMelFrames } from '../tagging/logMelFrames.js';
import { DEFAULT_SMOOTHING } from '../tagging/segmenter.js';
import type { TaggerJSON } from '../tagging/taggerModel.js';
import { readCsvSequences, type CsvSequenceOptions, type SequenceRow } from './csvSequences.js';

/** Settings of `seqstream train`, see `commands/train.ts`. */
export interface TrainCommandOptions {
  data: string;
  valid?: string;
  features: LogMelSettings;
  cell: CellKind;
  hidden: number;
  layers: number;
  epochs: number;
  batchSize: number;
  lr: number;
  bptt: 'full' | number;
  patience: number;
  seed: number;
  labels?: string[];
  out: string;
  command: string;
}

/** One audio clip's features and per-frame targets. */
interface AudioClip {
  name: string;
  sequence: LabelledSequence;
}

/**
 * Reads a folder of WAVs with `<name>.labels.ndjson` beside each (lines `{"start": s, "end": s,
 * "label": "speech"}`; an empty file is a clip without any label) into labelled sequences of
 * log-mel frames: frame k's target for label l is 1 when its slot's centre lies in a segment of l.
 * Missing or malformed label files fail with `SEQ_TRAIN_LABELS`.
 *
 * @example
 * ```ts
 * const { clips, labels } = readAudioFolder('corpus/train', DEFAULT_LOG_MEL);
 * ```
 */
export function readAudioFolder(dir: string, features: LogMelSettings, fixedLabels?: string[]): { clips: AudioClip[]; labels: string[] } {
  const wavs = readdirSync(dir).filter((f) => f.toLowerCase().endsWith('.wav')).sort();
  if (wavs.length === 0) throw new SeqstreamError('SEQ_TRAIN_EMPTY', `${dir}: no .wav files`, { dir });
  const raw = wavs.map((file) => {
    const name = file.replace(/\.wav$/i, '');
    const labelPath = join(dir, `${name}.labels.ndjson`);
    let text: string;
    try {
      text = readFileSync(labelPath, 'utf8');
    } catch {
      throw new SeqstreamError('SEQ_TRAIN_LABELS', `${labelPath}: missing (every WAV needs <name>.labels.ndjson beside it)`, { path: labelPath });
    }
    const segments = text.split('\n').map((l) => l.trim()).filter(Boolean).map((line, i) => {
      let s: { start?: unknown; end?: unknown; label?: unknown };
      try {
        s = JSON.parse(line);
      } catch {
        throw new SeqstreamError('SEQ_TRAIN_LABELS', `${labelPath}:${i + 1}: not JSON`, { path: labelPath, line: i + 1 });
      }
      if (typeof s?.start !== 'number' || typeof s.end !== 'number' || !(s.end >= s.start) || !(s.start >= 0)) {
        throw new SeqstreamError('SEQ_TRAIN_LABELS', `${labelPath}:${i + 1}: needs numbers 0 <= start <= end`, { path: labelPath, line: i + 1 });
      }
      return { start: s.start, end: s.end, label: typeof s.label === 'string' ? s.label : 'speech' };
    });
    const { samples } = wavSamples(readFileSync(join(dir, file)), { sampleRate: features.sampleRate, where: join(dir, file) });
    return { name, segments, samples };
  });
  const labels = fixedLabels ?? [...new Set(raw.flatMap((c) => c.segments.map((s) => s.label)))].sort();
  if (labels.length === 0) labels.push('speech');
  const M = featureSize(features);
  const hop = features.hopSize / features.sampleRate;
  const clips = raw.map(({ name, segments, samples }) => {
    const { frames, values } = logMelFrames(samples, features);
    const x = Array.from({ length: frames }, (_, k) => values.subarray(k * M, (k + 1) * M));
    const frameTargets = Array.from({ length: frames }, (_, k) => {
      const centre = (k + 0.5) * hop;
      return labels.map((l) => (segments.some((s) => s.label === l && centre >= s.start && centre < s.end) ? 1 : 0));
    });
    return { name, sequence: { x, frameTargets } };
  });
  return { clips, labels };
}

/**
 * Mean and standard deviation of every feature over all frames (std floored at 1e-3).
 *
 * @example
 * ```ts
 * const { mean, std } = featureStats(clips.map((c) => c.sequence), 24);
 * ```
 */
export function featureStats(seqs: readonly LabelledSequence[], size: number): { mean: number[]; std: number[] } {
  const sum = new Float64Array(size);
  const sq = new Float64Array(size);
  let n = 0;
  for (const s of seqs)
    for (const v of s.x) {
      for (let k = 0; k < size; k++) {
        sum[k] += v[k];
        sq[k] += v[k] * v[k];
      }
      n++;
    }
  const mean = Array.from(sum, (s) => s / n);
  const std = Array.from(sq, (s, k) => Math.max(1e-3, Math.sqrt(Math.max(0, s / n - mean[k] * mean[k]))));
  return { mean, std };
}

function normalise(seqs: readonly LabelledSequence[], mean: number[], std: number[]): LabelledSequence[] {
  return seqs.map((s) => ({ ...s, x: s.x.map((v) => Float32Array.from(v, (value, k) => (value - mean[k]) / std[k])) }));
}

/**
 * `seqstream train` on a folder of labelled WAVs: features, normalisation, a GRU/LSTM tagger
 * trained with {@link train}, written as a tagger file (`seqstream-tagger`) that records its
 * feature settings, normalisation, labels, smoothing and validation scores.
 *
 * @example
 * ```ts
 * await runTrainAudio({ data: 'corpus/train', out: 'vad.json', ... }, onProgress, console.error);
 * ```
 */
export function runTrainAudio(o: TrainCommandOptions, onProgress: (e: TrainProgress) => void, status: (s: string) => void): { result: TrainResult; tagger: TaggerJSON } {
  const t0 = Date.now();
  const { clips, labels } = readAudioFolder(o.data, o.features, o.labels);
  const valid = o.valid ? readAudioFolder(o.valid, o.features, labels).clips : undefined;
  const frames = clips.reduce((n, c) => n + c.sequence.x.length, 0);
  status(`${clips.length} clips, ${frames} frames, labels [${labels.join(', ')}]${valid ? `, ${valid.length} validation clips` : ''} (features in ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  const { mean, std } = featureStats(clips.map((c) => c.sequence), featureSize(o.features));
  const model = RecurrentModel.create({
    cell: o.cell, inputSize: featureSize(o.features), hiddenSize: o.hidden, numLayers: o.layers,
    head: { outputSize: labels.length, activation: 'sigmoid' }, seed: o.seed,
  });
  const result = train(model, normalise(clips.map((c) => c.sequence), mean, std), {
    epochs: o.epochs, batchSize: o.batchSize, bptt: o.bptt, optimizer: adam({ lr: o.lr }), seed: o.seed,
    patience: o.patience, monitor: 'f1', onProgress,
    ...(valid ? { validationData: normalise(valid.map((c) => c.sequence), mean, std) } : { validationSplit: 0.1 }),
  });
  const tagger: TaggerJSON = {
    format: 'seqstream-tagger', version: 1, labels, features: o.features, normalization: { mean, std },
    model: model.toJSON(), smoothing: { ...DEFAULT_SMOOTHING },
    training: {
      command: o.command, data: basename(o.data), clips: clips.length, frames, epochs: result.history.length,
      bestEpoch: result.bestEpoch, validationFrames: result.bestValidation, seconds: Math.round((Date.now() - t0) / 1000),
    },
  };
  writeFileSync(o.out, JSON.stringify(tagger) + '\n');
  return { result, tagger };
}

/** Options of {@link runTrainSequences}: `csv` says how a `.csv` file is read. */
export interface TrainSequencesOptions extends Omit<TrainCommandOptions, 'features' | 'valid'> {
  csv?: CsvSequenceOptions;
}

/**
 * Reads a sequence file: CSV when its name ends in `.csv` ({@link readCsvSequences}), else NDJSON,
 * each line `{"x": [[...], ...], "target": label}` or `{"x": ..., "frameTargets": [...]}`.
 *
 * @example
 * ```ts
 * const rows = readSequenceFile('seqs.csv', { task: 'tag' });
 * ```
 */
export function readSequenceFile(path: string, csv: CsvSequenceOptions = {}): SequenceRow[] {
  const text = readFileSync(path, 'utf8');
  if (path.toLowerCase().endsWith('.csv')) return readCsvSequences(text, path, csv);
  return text.split('\n').map((l) => l.trim()).filter(Boolean).map((line, i) => {
    try {
      const r = JSON.parse(line);
      if (!r || !Array.isArray(r.x)) throw new Error('no x');
      return r as SequenceRow;
    } catch {
      throw new SeqstreamError('SEQ_TRAIN_LABELS', `${path}:${i + 1}: expected {"x": [[...]], "target": label} or {"x": ..., "frameTargets": [...]}`, { line: i + 1 });
    }
  });
}

/**
 * `seqstream train` on a file of sequences, NDJSON or CSV (see {@link readSequenceFile}); labels
 * are strings or class indices. Trains a softmax classifier (per sequence, or per step for
 * `frameTargets` / `--task tag`) and writes a seqstream model JSON with `labels` and `training`
 * fields added.
 *
 * @example
 * ```ts
 * runTrainSequences({ data: 'seqs.ndjson', out: 'clf.json', ... }, onProgress, console.error);
 * ```
 */
export function runTrainSequences(o: TrainSequencesOptions, onProgress: (e: TrainProgress) => void, status: (s: string) => void): { result: TrainResult; labels: string[] } {
  const rows = readSequenceFile(o.data, o.csv);
  const seen = new Set<string>();
  for (const r of rows) for (const t of r.frameTargets ?? [r.target]) if (t !== null && t !== undefined) seen.add(String(t));
  const labels = o.labels ?? [...seen].sort((a, b) => (Number.isFinite(Number(a)) && Number.isFinite(Number(b)) ? Number(a) - Number(b) : a < b ? -1 : 1));
  const index = (t: string | number): number => {
    const i = labels.indexOf(String(t));
    if (i < 0) throw new SeqstreamError('SEQ_TRAIN_LABELS', `${o.data}: label ${JSON.stringify(t)} is not in --labels [${labels.join(', ')}]`, { label: t });
    return i;
  };
  if (rows.length === 0) throw new SeqstreamError('SEQ_TRAIN_EMPTY', `${o.data}: no sequences`, { path: o.data });
  const seqs: LabelledSequence[] = rows.map((r) =>
    r.frameTargets ? { x: r.x, frameTargets: r.frameTargets.map((t) => (t === null ? null : index(t))) } : { x: r.x, target: index(r.target as string | number) });
  const inputSize = rows[0]?.x[0]?.length ?? 0;
  status(`${seqs.length} sequences, ${inputSize} inputs, labels [${labels.join(', ')}]`);
  const model = RecurrentModel.create({ cell: o.cell, inputSize, hiddenSize: o.hidden, numLayers: o.layers, head: { outputSize: labels.length, activation: 'softmax' }, seed: o.seed });
  const result = train(model, seqs, { epochs: o.epochs, batchSize: o.batchSize, bptt: o.bptt, optimizer: adam({ lr: o.lr }), seed: o.seed, patience: o.patience, monitor: 'accuracy', validationSplit: 0.2, onProgress });
  writeFileSync(o.out, JSON.stringify({ ...model.toJSON(), labels, training: { command: o.command, sequences: seqs.length, bestEpoch: result.bestEpoch, validation: result.bestValidation } }) + '\n');
  return { result, labels };
}

/**
 * Whether `--data` names a folder (audio) or a file (NDJSON sequences).
 *
 * @example
 * ```ts
 * isFolder('corpus/train'); // true
 * ```
 */
export function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    throw new SeqstreamError('SEQ_TRAIN_EMPTY', `--data ${path}: no such file or folder`, { path });
  }
}

