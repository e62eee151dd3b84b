import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { wavSamples } from '../../src/adapters/wavSamples.js';
import { createFusedStepper } from '../../src/kernels/fusedStepper.js';
import { AudioTagger, type TagEvent } from '../../src/tagging/audioTagger.js';
import { logMelFrames } from '../../src/tagging/logMelFrames.js';
import { loadShippedVad } from '../../src/tagging/shippedVad.js';
import { codeOf } from '../support/errors.js';

const vad = loadShippedVad();
const speech = wavSamples(readFileSync('test/fixtures/vad/valid_0005.wav')); // speech over silence

function tagAll(samples: Float32Array, block: number, rate = 16000, frames = true): TagEvent[] {
  const t = new AudioTagger(vad, { sampleRate: rate, frames });
  const out: TagEvent[] = [];
  for (let i = 0; i < samples.length; i += block) out.push(...t.push(samples.subarray(i, i + block)));
  out.push(...t.end());
  return out;
}
const segmentsOf = (events: TagEvent[]) => events.filter((e) => e.kind === 'segment');

function expectSane(events: TagEvent[], seconds: number): void {
  const segs = segmentsOf(events) as { start: number; end: number }[];
  segs.forEach((s, i) => {
    expect(s.start).toBeGreaterThanOrEqual(0);
    expect(s.end).toBeGreaterThan(s.start);
    expect(s.end).toBeLessThanOrEqual(seconds + 1e-9);
    if (i > 0) expect(s.start).toBeGreaterThanOrEqual(segs[i - 1].end);
  });
  for (const e of events) if (e.kind === 'frame') expect(e.probabilities[0]).toBeGreaterThanOrEqual(0);
}

describe('AudioTagger', () => {
  it('finds the speech, and the same events whatever the block size', () => {
    const a = tagAll(speech.samples, 1600);
    const b = tagAll(speech.samples, 77);
    const c = tagAll(speech.samples, speech.samples.length);
    expect(b).toEqual(a);
    expect(c).toEqual(a);
    expect(segmentsOf(a).length).toBeGreaterThan(0);
    expectSane(a, 2);
    const hop = vad.features.hopSize / vad.features.sampleRate;
    expect(a.filter((e) => e.kind === 'frame').length).toBe(Math.ceil(speech.samples.length / vad.features.hopSize));
    a.filter((e) => e.kind === 'frame').forEach((e, k) => expect((e as { time: number }).time).toBeCloseTo(k * hop, 9));
  });

  it('steps the same features logMelFrames computes offline (training and tagging agree)', () => {
    const { frames, values } = logMelFrames(speech.samples, vad.features);
    const M = vad.features.melBands;
    const state = vad.model.createState();
    const stepper = createFusedStepper(vad.model);
    const y = new Float32Array(1);
    const x = new Float32Array(M);
    const offline: number[] = [];
    for (let k = 0; k < frames; k++) {
      for (let b = 0; b < M; b++) x[b] = (values[k * M + b] - vad.mean[b]) * vad.invStd[b];
      stepper.stepInPlace(state, x);
      offline.push(stepper.headInPlace(state, y)[0]);
    }
    const live = tagAll(speech.samples, 500).flatMap((e) => (e.kind === 'frame' ? [e.probabilities[0]] : []));
    expect(live).toEqual(offline.map((v) => Math.fround(v)));
  });

  it('resamples any rate: 44.1 kHz input finds speech where the 16 kHz input does', () => {
    const up = wavSamples(readFileSync('test/fixtures/vad/valid_0005.wav'), { sampleRate: 44100 });
    const a = segmentsOf(tagAll(speech.samples, 1600, 16000, false));
    const b = segmentsOf(tagAll(up.samples, 4410, 44100, false));
    expect(b.length).toBeGreaterThan(0);
    const covered = (segs: TagEvent[]) => segs.reduce((n, s) => n + (s.kind === 'segment' ? s.end - s.start : 0), 0);
    expect(Math.abs(covered(a) - covered(b))).toBeLessThan(0.2);
  });

  it('gives sane answers for silence, DC offset, clipping and an empty stream', () => {
    expect(segmentsOf(tagAll(new Float32Array(32000), 1600))).toEqual([]);
    expectSane(tagAll(new Float32Array(32000).fill(0.5), 1600), 2);
    const clipped = Float32Array.from(speech.samples, (v) => Math.max(-0.05, Math.min(0.05, v * 50)) * 20);
    expectSane(tagAll(clipped, 1600), 2);
    expect(tagAll(new Float32Array(0), 1600)).toEqual([]);
  });

  it('rejects NaN samples and rates it cannot resample, with codes', () => {
    const t = new AudioTagger(vad);
    expect(codeOf(() => t.push([0, NaN, 0]))).toBe('SEQ_AUDIO_NON_FINITE');
    expect(codeOf(() => new AudioTagger(vad, { sampleRate: 100 }))).toBe('SEQ_INVALID_OPTION');
    expect(codeOf(() => new AudioTagger(vad, { sampleRate: 16000.5 }))).toBe('SEQ_INVALID_OPTION');
    expect(codeOf(() => new AudioTagger(vad, { sampleRate: 10_000_000 }))).toBe('SEQ_INVALID_OPTION');
  });
});
