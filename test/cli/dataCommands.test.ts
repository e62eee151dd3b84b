/** `seqstream audio` and `seqstream stream` as a user runs them: a real child process, real pipes. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { audioFromPcm } from '../../src/adapters/audioFromPcm.js';
import { RecurrentModel, writeSafetensors } from '../../src/cells/index.js';
import { encodeWav, tone } from '../adapters/helpers/wav.js';
import { runCli } from '../support/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'seqstream-cli-'));

/** Runs the CLI with `input` on stdin; resolves with exit code, stdout lines and stderr. */
const cli = runCli;

/** 0.5 s of a 440 Hz tone, 16 kHz, signed 16-bit little-endian mono. */
function tonePcm(): Buffer {
  const n = 8000;
  const b = Buffer.alloc(n * 2);
  for (let i = 0; i < n; i++) b.writeInt16LE(Math.round(12000 * Math.sin((2 * Math.PI * 440 * i) / 16000)), i * 2);
  return b;
}

describe('seqstream audio', () => {
  it('turns raw PCM on stdin into one line per frame, and with --model into the model outputs for those frames', async () => {
    const pcm = tonePcm();
    const frames = await lastValueFrom(audioFromPcm(PassThrough.from([pcm]), { sampleRate: 16000, features: ['mfcc', 'rms'] }).pipe(toArray()));
    const model = RecurrentModel.create({ cell: 'gru', inputSize: 14, hiddenSize: 8, head: { outputSize: 2, activation: 'softmax' }, seed: 4 });
    const modelFile = join(dir, 'tagger.json');
    writeFileSync(modelFile, JSON.stringify(model));

    const plain = await cli(['audio', '--rate', '16000', '--features', 'mfcc,rms'], pcm);
    expect(plain.code).toBe(0);
    expect(plain.lines).toHaveLength(frames.length);
    plain.lines.forEach((line, i) => {
      const row = JSON.parse(line);
      expect(row.index).toBe(i);
      expect(row.time).toBeCloseTo(frames[i].time, 9);
      row.x.forEach((v: number, j: number) => expect(v).toBeCloseTo(frames[i].x[j], 4));
    });

    const tagged = await cli(['audio', '--rate', '16000', '--features', 'mfcc,rms', '--model', modelFile], pcm);
    expect(tagged.code).toBe(0);
    const state = model.createState();
    const expected = frames.map((f) => Array.from(model.step(state, f.x)));
    expect(tagged.lines.map((l) => JSON.parse(l).y)).toHaveLength(expected.length);
    tagged.lines.forEach((l, i) => JSON.parse(l).y.forEach((v: number, j: number) => expect(v).toBeCloseTo(expected[i][j], 5)));
    expect(tagged.stderr).toContain('backend cpu');
    // The summary the README promises, on stderr.
    expect(tagged.stderr).toMatch(new RegExp(`seqstream audio: ${frames.length} frames, 0\\.\\d\\d s of audio in \\d+\\.\\d\\d s`));
  }, 60_000);

  it('--pace realtime plays a WAV at recording speed (--speed scales it); raw PCM on stdin refuses it', async () => {
    // 0.6 s of a real WAV file: realtime pace cannot finish sooner than the audio lasts.
    const wav = join(dir, 'tone.wav');
    writeFileSync(wav, encodeWav([tone(440, 16000, 9600)], 16000, 's16').bytes);
    const paced = await cli(['audio', '--wav', wav, '--features', 'rms', '--pace', 'realtime'], '');
    expect(paced.code).toBe(0);
    const m = /seqstream audio: (\d+) frames, ([\d.]+) s of audio in ([\d.]+) s/.exec(paced.stderr);
    expect(m).not.toBeNull();
    expect(Number(m![1])).toBe(paced.lines.length);
    expect(Number(m![2])).toBeCloseTo((Number(m![1]) * 512) / 16000, 2); // frames of 512 samples at 16 kHz
    expect(Number(m![3])).toBeGreaterThanOrEqual(0.5);
    const doubled = await cli(['audio', '--wav', wav, '--features', 'rms', '--pace', 'realtime', '--speed', '4'], '');
    expect(doubled.lines).toEqual(paced.lines);
    expect((await cli(['audio', '--rate', '16000', '--pace', 'realtime'], tonePcm())).code).toBe(2);
    expect((await cli(['audio', '--wav', wav, '--speed', '2'], '')).code).toBe(2);
  }, 60_000);

  it('refuses a model whose input size does not fit the features, and raw PCM without --rate, with exit 2', async () => {
    const small = join(dir, 'small.json');
    writeFileSync(small, JSON.stringify(RecurrentModel.create({ cell: 'lstm', inputSize: 2, hiddenSize: 4, seed: 1 })));
    const misfit = await cli(['audio', '--rate', '16000', '--model', small], tonePcm());
    expect(misfit.code).toBe(2);
    expect(misfit.lines).toEqual([]); // usage errors go to stderr: stdout carries NDJSON only
    expect(misfit.stderr).toMatch(/SEQ_INVALID_OPTION.*inputSize 13/);
    const noRate = await cli(['audio'], tonePcm());
    expect(noRate.code).toBe(2);
    expect(noRate.stderr).toContain('--rate');
  }, 60_000);
});

describe('seqstream stream', () => {
  it('keeps one state per key, reports bad lines on stderr and goes on', async () => {
    const model = RecurrentModel.create({ cell: 'lstm', inputSize: 2, hiddenSize: 4, head: { outputSize: 1 }, seed: 6 });
    // Loaded from .safetensors, as a PyTorch user would hand it over.
    const file = join(dir, 'model.safetensors');
    writeFileSync(file, writeSafetensors(Object.fromEntries(model.parameters().map((p) => [p.name, p]))));
    const lines = ['{"key":"a","x":[1,2]}', '{"key":"b","x":[0,1]}', 'not json', '{"key":"a","x":[1]}', '{"key":"a","x":[2,2]}', '{"x":[1,1]}', '{"key":"b","x":[3,1]}'];
    const r = await cli(['stream', '--model', file, '--key', 'key'], lines.join('\n') + '\n');
    expect(r.code).toBe(0);
    const states = { a: model.createState(), b: model.createState() };
    const expected = [
      ['a', model.step(states.a, [1, 2])[0]],
      ['b', model.step(states.b, [0, 1])[0]],
      ['a', model.step(states.a, [2, 2])[0]],
      ['b', model.step(states.b, [3, 1])[0]],
    ] as const;
    const got = r.lines.map((l) => JSON.parse(l));
    expect(got.map((o) => o.key)).toEqual(expected.map(([k]) => k));
    got.forEach((o, i) => expect(o.y[0]).toBeCloseTo(expected[i][1], 5));
    const errors = r.stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
    expect(errors.map((e) => [e.error, e.line])).toEqual([
      ['SEQ_SENSOR_JSON', 3],
      ['SEQ_INPUT_SHAPE', 4],
      ['SEQ_SENSOR_MISSING_KEY', 6],
    ]);
    expect(r.stderr).toContain('4 events out, 3 rejected');
  }, 60_000);

  it('passes the input line number and --pass fields through, --emit hidden|all, and keeps keys 1 and "1" apart', async () => {
    const model = RecurrentModel.create({ cell: 'gru', inputSize: 1, hiddenSize: 3, head: { outputSize: 1 }, seed: 9 });
    const file = join(dir, 'emit.json');
    writeFileSync(file, JSON.stringify(model));
    const lines = ['{"id":1,"t":"2026-01-01T00:00:00Z","x":[1]}', '{"id":"1","t":"b","x":[2]}', '{"id":1,"t":"c","x":[3]}', '{"id":1,"x":[NaN]}', '{"id":"1","x":[4]}'];
    const input = lines.join('\n') + '\n';
    const all = await cli(['stream', '--model', file, '--key', 'id', '--emit', 'all', '--pass', 't'], input);
    expect(all.code).toBe(0);
    const got = all.lines.map((l) => JSON.parse(l));
    // Number 1 and string "1" are two streams, each printed with its own JSON type.
    const n = model.createState();
    const s = model.createState();
    const steps = [
      [1, 1, '2026-01-01T00:00:00Z', model.step(n, [1])[0], Array.from(n.h[0])],
      ['1', 2, 'b', model.step(s, [2])[0], Array.from(s.h[0])],
      [1, 3, 'c', model.step(n, [3])[0], Array.from(n.h[0])],
      ['1', 5, undefined, model.step(s, [4])[0], Array.from(s.h[0])],
    ] as const;
    expect(got.map((o) => [o.key, o.line, o.t])).toEqual(steps.map(([k, l, t]) => [k, l, t]));
    got.forEach((o, i) => {
      expect(o.y[0]).toBeCloseTo(steps[i][3], 5);
      o.h.forEach((v: number, j: number) => expect(v).toBeCloseTo(steps[i][4][j], 5));
    });
    expect(Object.keys(got[0])).toEqual(['key', 'line', 't', 'y', 'h']);
    expect(all.stderr).toContain('"line":4');

    const hidden = await cli(['stream', '--model', file, '--key', 'id', '--emit', 'hidden'], input);
    expect(hidden.lines.map((l) => Object.keys(JSON.parse(l)))).toEqual(new Array(4).fill(['key', 'line', 'h']));
    expect(JSON.parse(hidden.lines[3]).h).toEqual(got[3].h);
    expect((await cli(['stream', '--model', file, '--emit', 'everything'], '')).code).toBe(2);
    expect((await cli(['stream', '--model', file, '--pass', 'y'], '')).code).toBe(2);
  }, 60_000);

  it('needs --model (exit 2) and names an unreadable model file', async () => {
    expect((await cli(['stream'], '')).code).toBe(2);
    const missing = await cli(['stream', '--model', join(dir, 'nope.json')], '');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('SEQ_MODEL_FORMAT');
  }, 60_000);
});
