import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { wavSamples } from '../../src/adapters/wavSamples.js';
import { AudioTagger } from '../../src/tagging/audioTagger.js';
import { countSegmentFrames, emptyFrameCounts, scoreFrameCounts } from '../../src/tagging/scoreSegments.js';
import { loadShippedVad } from '../../src/tagging/shippedVad.js';

const dir = 'test/fixtures/vad';

describe('the shipped voice-activity model (models/vad.json)', () => {
  const vad = loadShippedVad();
  const recorded = (vad.json.training as { committedClips: { f1: number; falseAlarms: number; misses: number; frames: number } }).committedClips;

  it('records its features, labels and smoothing', () => {
    expect(vad.labels).toEqual(['speech']);
    expect(vad.features.kind).toBe('logmel');
    expect(vad.model.config.inputSize).toBe(vad.features.melBands);
    expect(vad.smoothing.onThreshold).toBeGreaterThan(vad.smoothing.offThreshold);
  });

  it('reproduces its recorded F1, false alarms and misses on the committed clips (made by tools/make_vad_corpus.py)', () => {
    const counts = emptyFrameCounts();
    const wavs = readdirSync(dir).filter((f) => f.endsWith('.wav')).sort();
    expect(wavs.length).toBe(8);
    for (const file of wavs) {
      const ref = readFileSync(join(dir, file.replace(/\.wav$/, '.labels.ndjson')), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
      const { samples, sampleRate } = wavSamples(readFileSync(join(dir, file)));
      const t = new AudioTagger(vad, { sampleRate });
      const pred = [...t.push(samples), ...t.end()].flatMap((e) => (e.kind === 'segment' ? [e] : []));
      countSegmentFrames(ref, pred, samples.length / sampleRate, counts);
    }
    const s = scoreFrameCounts(counts);
    expect(s.frames).toBe(recorded.frames);
    expect(s.f1).toBeCloseTo(recorded.f1, 9);
    expect(s.falseAlarms).toBeCloseTo(recorded.falseAlarms, 9);
    expect(s.misses).toBeCloseTo(recorded.misses, 9);
    expect(s.f1).toBeGreaterThan(0.9);
  });
});
