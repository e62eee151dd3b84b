/** tools/tune-vad-smoothing.ts as a user runs it: a real child process on the committed clips, its choice re-scored through the live tagger. */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { wavSamples } from '../../src/adapters/wavSamples.js';
import { AudioTagger } from '../../src/tagging/audioTagger.js';
import { countSegmentFrames, emptyFrameCounts, scoreFrameCounts } from '../../src/tagging/scoreSegments.js';
import { resolveSmoothing } from '../../src/tagging/segmenter.js';
import { taggerFromJSON } from '../../src/tagging/taggerModel.js';

const clips = 'test/fixtures/vad';

describe('tools/tune-vad-smoothing.ts', () => {
  it('writes the best smoothing of its grid, and the live tagger with it scores what the tool recorded', () => {
    const model = join(mkdtempSync(join(tmpdir(), 'seqstream-tune-')), 'vad.json');
    copyFileSync('models/vad.json', model);
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'tools/tune-vad-smoothing.ts', clips, '--model', model, '--max-free-fa', '0.05', '--write'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^8 clips; \d+\/480 settings keep speech-free false alarms <= 5\.0%/);
    expect(r.stdout).toMatch(/wrote smoothing \{.*\} into /);
    const json = JSON.parse(readFileSync(model, 'utf8'));
    const chosen = resolveSmoothing(json.smoothing); // a valid setting
    const recorded = json.training.smoothingTunedOn;
    expect(recorded).toMatchObject({ dir: clips, maxFreeFalseAlarms: 0.05 });
    // the tool replays the Segmenter over stored probabilities; the live path must agree exactly
    const tagger = taggerFromJSON(json);
    const counts = emptyFrameCounts();
    for (const file of readdirSync(clips).filter((f) => f.endsWith('.wav'))) {
      const ref = readFileSync(join(clips, file.replace(/\.wav$/, '.labels.ndjson')), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
      const { samples, sampleRate } = wavSamples(readFileSync(join(clips, file)));
      const t = new AudioTagger(tagger, { sampleRate });
      const pred = [...t.push(samples), ...t.end()].flatMap((e) => (e.kind === 'segment' ? [e] : []));
      countSegmentFrames(ref, pred, samples.length / sampleRate, counts);
    }
    const live = scoreFrameCounts(counts);
    expect(live.f1).toBeCloseTo(recorded.f1, 12);
    expect(live.freeFalseAlarms).toBeLessThanOrEqual(0.05);
    expect(chosen.offThreshold).toBeLessThanOrEqual(chosen.onThreshold);
  });

  it('without --model is a usage error', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'tools/tune-vad-smoothing.ts', clips], { encoding: 'utf8' });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/usage: tsx tools\/tune-vad-smoothing.ts/);
  });
});
