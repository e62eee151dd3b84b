/**
 * Turns a tagger trained by `seqstream train` (its smoothing tuned by tools/tune-vad-smoothing.ts
 * on the `dev` split) into the shipped model `models/vad.json`: keeps that smoothing, rounds the
 * weights to 6 significant digits, scores it on a held-out folder (sources neither training nor
 * tuning heard) and on the committed clip set `test/fixtures/vad`, and records both in `training` (the test
 * `test/tagging/shippedVad.test.ts` re-scores the committed clips and expects the recorded numbers).
 *
 *   npx tsx tools/ship-vad.ts vad.json corpus/valid [models/vad.json]
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { wavSamples } from '../src/adapters/wavSamples.js';
import { AudioTagger } from '../src/tagging/audioTagger.js';
import { DEFAULT_SMOOTHING } from '../src/tagging/segmenter.js';
import { countSegmentFrames, emptyFrameCounts, scoreFrameCounts, type SegmentScores } from '../src/tagging/scoreSegments.js';
import { taggerFromJSON, type Tagger, type TaggerJSON } from '../src/tagging/taggerModel.js';

/** Pooled 10 ms frame scores of `tagger` on every WAV + labels pair in `dir`. */
export function scoreFolder(tagger: Tagger, dir: string): SegmentScores & { seconds: number; clips: number } {
  const counts = emptyFrameCounts();
  let seconds = 0;
  const wavs = readdirSync(dir).filter((f) => f.endsWith('.wav')).sort();
  for (const file of wavs) {
    const name = file.replace(/\.wav$/, '');
    const ref = readFileSync(join(dir, `${name}.labels.ndjson`), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
    const { samples, sampleRate } = wavSamples(readFileSync(join(dir, file)));
    const t = new AudioTagger(tagger, { sampleRate });
    const pred = [...t.push(samples), ...t.end()].flatMap((e) => (e.kind === 'segment' ? [e] : []));
    countSegmentFrames(ref, pred, samples.length / sampleRate, counts);
    seconds += samples.length / sampleRate;
  }
  return { ...scoreFrameCounts(counts), seconds, clips: wavs.length };
}

function main(): void {
  const [input, heldOut, out = 'models/vad.json'] = process.argv.slice(2);
  if (!input || !heldOut) throw new Error('usage: tsx tools/ship-vad.ts TRAINED.json HELD_OUT_DIR [OUT]');
  const json = JSON.parse(readFileSync(input, 'utf8')) as TaggerJSON;
  json.smoothing = { ...DEFAULT_SMOOTHING, ...json.smoothing };
  // 6 significant digits per weight: half the file, outputs within ~1e-6 (scored below as written)
  json.model = JSON.parse(JSON.stringify(json.model, (_k, v) => (typeof v === 'number' && !Number.isInteger(v) ? Number(v.toPrecision(6)) : v)));
  const tagger = taggerFromJSON(json);
  const validation = scoreFolder(tagger, heldOut);
  const committed = scoreFolder(tagger, 'test/fixtures/vad');
  json.training = { ...json.training, heldOut: { dir: heldOut, ...validation }, committedClips: { dir: 'test/fixtures/vad', ...committed } };
  writeFileSync(out, JSON.stringify(json) + '\n');
  console.log(JSON.stringify(json.training, null, 1));
}

main();
