/**
 * Chooses a tagger's smoothing (hysteresis thresholds, minimum speech and silence) on a tuning
 * folder made by tools/make_vad_corpus.py (the `dev` split: sources neither training nor the
 * held-out `valid` split use), never on the held-out set itself. Frame probabilities are computed
 * once per clip; every setting of the grid then re-runs only the `Segmenter`. Picks the setting
 * with the best pooled 10 ms frame F1 among those whose false alarms on speech-free clips stay
 * within `--max-free-fa` (default 0.02); prints the top settings and, with `--write`, records the
 * winner as the model file's `smoothing`.
 *
 *   npx tsx tools/tune-vad-smoothing.ts corpus/dev --model vad.json [--max-free-fa 0.02] [--write]
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { wavSamples } from '../src/adapters/wavSamples.js';
import { AudioTagger } from '../src/tagging/audioTagger.js';
import { countSegmentFrames, emptyFrameCounts, scoreFrameCounts, type SegmentScores } from '../src/tagging/scoreSegments.js';
import { Segmenter, type SmoothingOptions } from '../src/tagging/segmenter.js';
import { taggerFromJSON, type TaggerJSON } from '../src/tagging/taggerModel.js';

interface Clip {
  reference: { start: number; end: number }[];
  seconds: number;
  probabilities: Float32Array;
}

function main(): void {
  const args = process.argv.slice(2);
  const dir = args.find((a) => !a.startsWith('--') && args[args.indexOf(a) - 1] !== '--model' && args[args.indexOf(a) - 1] !== '--max-free-fa');
  const modelPath = args[args.indexOf('--model') + 1];
  if (!dir || !args.includes('--model')) throw new Error('usage: tsx tools/tune-vad-smoothing.ts DEV_DIR --model FILE [--max-free-fa 0.02] [--write]');
  const maxFreeFa = args.includes('--max-free-fa') ? Number(args[args.indexOf('--max-free-fa') + 1]) : 0.02;
  const json = JSON.parse(readFileSync(modelPath, 'utf8')) as TaggerJSON;
  const tagger = taggerFromJSON(json);
  const hop = tagger.features.hopSize / tagger.features.sampleRate;
  const clips: Clip[] = readdirSync(dir).filter((f) => f.endsWith('.wav')).sort().map((file) => {
    const reference = readFileSync(join(dir, file.replace(/\.wav$/, '.labels.ndjson')), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
    const { samples, sampleRate } = wavSamples(readFileSync(join(dir, file)));
    const t = new AudioTagger(tagger, { sampleRate, frames: true });
    const p = [...t.push(samples), ...t.end()].flatMap((e) => (e.kind === 'frame' ? [e.probabilities[0]] : []));
    return { reference, seconds: samples.length / sampleRate, probabilities: Float32Array.from(p) };
  });
  const score = (s: Required<SmoothingOptions>): SegmentScores => {
    const counts = emptyFrameCounts();
    for (const c of clips) {
      const seg = new Segmenter('speech', hop, s);
      const pred = [];
      for (let k = 0; k < c.probabilities.length; k++) pred.push(...seg.push(k * hop, c.probabilities[k]));
      pred.push(...seg.end(c.seconds));
      countSegmentFrames(c.reference, pred, c.seconds, counts);
    }
    return scoreFrameCounts(counts);
  };
  const results: { s: Required<SmoothingOptions>; r: SegmentScores }[] = [];
  for (const onThreshold of [0.4, 0.5, 0.6, 0.7, 0.8, 0.9])
    for (const gap of [0.05, 0.1, 0.2, 0.3])
      for (const minSpeechMs of [60, 120, 200, 300])
        for (const minSilenceMs of [60, 100, 150, 200, 300]) {
          const s = { onThreshold, offThreshold: Math.round(100 * Math.max(0.05, onThreshold - gap)) / 100, minSpeechMs, minSilenceMs };
          results.push({ s, r: score(s) });
        }
  const allowed = results.filter((x) => x.r.freeFalseAlarms <= maxFreeFa);
  const ranked = (allowed.length ? allowed : results).sort((a, b) => b.r.f1 - a.r.f1);
  const pct = (v: number) => `${(100 * v).toFixed(1)}%`;
  console.log(`${clips.length} clips; ${allowed.length}/${results.length} settings keep speech-free false alarms <= ${pct(maxFreeFa)}; current ${JSON.stringify(json.smoothing)}: ${fmt(score({ ...json.smoothing } as Required<SmoothingOptions>))}`);
  for (const { s, r } of ranked.slice(0, 8)) console.log(`${JSON.stringify(s)}  ${fmt(r)}`);
  function fmt(r: SegmentScores): string {
    return `F1 ${r.f1.toFixed(4)}, false alarms ${pct(r.falseAlarms)}, misses ${pct(r.misses)}, speech-free ${pct(r.freeFalseAlarms)}`;
  }
  if (args.includes('--write')) {
    json.smoothing = ranked[0].s;
    json.training = { ...json.training, smoothingTunedOn: { dir, maxFreeFalseAlarms: maxFreeFa, ...ranked[0].r } };
    writeFileSync(modelPath, JSON.stringify(json) + '\n');
    console.log(`wrote smoothing ${JSON.stringify(ranked[0].s)} into ${modelPath}`);
  }
}

main();
