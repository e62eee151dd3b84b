/** `seqstream tag` as a user runs it: a real child process on real WAVs made by espeak-ng and sox, and raw PCM on stdin. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, haveTools } from '../support/cli.js';

const tools = haveTools(['espeak-ng', 'sox'], 'seqstream tag on real WAVs');
const dir = mkdtempSync(join(tmpdir(), 'seqstream-tag-'));

function sh(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
}

/** 1 s of silence, then espeak-ng speech, then 1 s of silence, over faint noise; 44.1 kHz stereo. */
function speechWav(): string {
  const say = join(dir, 'say.wav');
  const out = join(dir, 'speech.wav');
  sh('espeak-ng', ['-v', 'en', '-w', say, 'hello there, this is a test of voice activity']);
  sh('sox', [say, '-r', '44100', '-c', '2', '-b', '16', join(dir, 'say44.wav'), 'pad', '1', '1']);
  sh('sox', ['-R', '-n', '-r', '44100', '-c', '2', '-b', '16', join(dir, 'noise.wav'), 'synth', '5', 'pinknoise', 'vol', '0.003']);
  sh('sox', ['-m', join(dir, 'say44.wav'), join(dir, 'noise.wav'), out, 'trim', '0', '5']);
  return out;
}

const segs = (lines: string[]) => lines.map((l) => JSON.parse(l) as { start: number; end: number; label: string });

function expectOrdered(list: { start: number; end: number }[], seconds: number): void {
  list.forEach((s, i) => {
    expect(s.end).toBeGreaterThan(s.start);
    expect(s.start).toBeGreaterThanOrEqual(0);
    expect(s.end).toBeLessThanOrEqual(seconds);
    if (i > 0) expect(s.start).toBeGreaterThanOrEqual(list[i - 1].end);
  });
}

describe.skipIf(!tools)('seqstream tag', () => {
  const wav = tools ? speechWav() : '';
  const duration = tools ? Number(spawnSync('soxi', ['-D', wav], { encoding: 'utf8' }).stdout) : 0;

  let fromWav: { start: number; end: number; label: string }[] = [];

  it('--wav: NDJSON speech segments around the spoken part, ordered and within the audio', async () => {
    const { code, lines, stderr } = await runCli(['tag', '--wav', wav]);
    fromWav = segs(lines);
    expect(code, stderr).toBe(0);
    const list = segs(lines);
    expect(list.length).toBeGreaterThan(0);
    for (const s of list) expect(s.label).toBe('speech');
    expectOrdered(list, duration);
    // speech starts after the 1 s pad and ends before the trailing second
    expect(list[0].start).toBeGreaterThan(0.7);
    expect(list[0].start).toBeLessThan(1.4);
    expect(list.at(-1)!.end).toBeLessThan(duration - 0.5);
    expect(stderr).toMatch(/segment\(s\) in 5\.00 s/);
  });

  it('raw PCM on stdin at another rate gives the same speech; --frames adds one line per frame', async () => {
    const pcm = spawnSync('sox', [wav, '-t', 'raw', '-r', '8000', '-e', 'signed', '-b', '16', '-c', '1', '-']).stdout;
    const { code, lines, stderr } = await runCli(['tag', '--rate', '8000', '--frames'], pcm);
    expect(code, stderr).toBe(0);
    const rows = lines.map((l) => JSON.parse(l));
    const frames = rows.filter((r) => 'time' in r);
    const list = rows.filter((r) => 'start' in r);
    expect(frames.length).toBe(Math.ceil(5 / 0.02));
    for (const f of frames) expect(f.speech).toBeGreaterThanOrEqual(0);
    expect(list.length).toBeGreaterThan(0);
    expectOrdered(list, 5);
    expect(Math.abs(list[0].start - fromWav[0].start)).toBeLessThan(0.3);
  });

  it('float PCM with NaN, a non-WAV, a truncated WAV: coded errors, exit 1', async () => {
    const f32 = Buffer.alloc(4 * 1600);
    f32.writeFloatLE(NaN, 400);
    const nan = await runCli(['tag', '--rate', '16000', '--encoding', 'f32le'], f32);
    expect(nan.code).toBe(1);
    expect(nan.stderr).toContain('SEQ_AUDIO_NON_FINITE');
    const text = join(dir, 'notes.wav');
    writeFileSync(text, 'this is not audio');
    const notWav = await runCli(['tag', '--wav', text]);
    expect(notWav.code).toBe(1);
    expect(notWav.stderr).toContain('SEQ_AUDIO_WAV_HEADER');
    const cut = join(dir, 'cut.wav');
    writeFileSync(cut, readFileSync(wav).subarray(0, 30_001));
    const truncated = await runCli(['tag', '--wav', cut]);
    expect(truncated.code).toBe(1);
    expect(truncated.stderr).toContain('SEQ_AUDIO_WAV_TRUNCATED');
  });

  it('silence and a DC offset: sane answers (clipping: test/tagging/audioTagger.test.ts)', async () => {
    const silence = await runCli(['tag', '--rate', '16000'], Buffer.alloc(2 * 32000));
    expect(silence.code).toBe(0);
    expect(silence.lines).toEqual([]);
    const dc = Buffer.alloc(2 * 32000);
    for (let i = 0; i < 32000; i++) dc.writeInt16LE(12000, 2 * i);
    const dcRun = await runCli(['tag', '--rate', '16000'], dc);
    expect(dcRun.code).toBe(0);
    expectOrdered(segs(dcRun.lines), 2);
  });

  it('usage errors exit 2: an unresamplable rate, a model that is not a tagger', async () => {
    expect((await runCli(['tag', '--rate', '100'], Buffer.alloc(10))).code).toBe(2);
    const bad = join(dir, 'bad-model.json');
    writeFileSync(bad, JSON.stringify({ format: 'seqstream-model' }));
    const r = await runCli(['tag', '--wav', wav, '--model', bad]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('SEQ_MODEL_FORMAT');
  });
});
