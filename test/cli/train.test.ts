/** `seqstream train` as a user runs it: a real child process on real WAVs (espeak-ng + sox via tools/make_vad_corpus.py) and on NDJSON and CSV sequences. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RecurrentModel } from '../../src/cells/index.js';
import { taggerFromJSON } from '../../src/tagging/taggerModel.js';
import { haveTools, runCli } from '../support/cli.js';
import { ciPrerequisite } from '../support/prerequisites.js';

const python = spawnSync('/usr/bin/python3', ['-c', 'import numpy'], { stdio: 'ignore' }).status === 0 ? '/usr/bin/python3' : null;
const tools = haveTools(['espeak-ng', 'sox'], 'seqstream train on real WAVs') && ciPrerequisite(python !== null, 'seqstream train on real WAVs', 'no /usr/bin/python3 with numpy (apt-get install python3-numpy)');
const dir = mkdtempSync(join(tmpdir(), 'seqstream-train-'));

describe.skipIf(!tools)('seqstream train on a folder of labelled WAVs', () => {
  it('writes a tagger file that records features, labels and scores, and `tag --model` uses it', async () => {
    const corpus = join(dir, 'corpus');
    const made = spawnSync(python!, ['tools/make_vad_corpus.py', '--split', 'train', '--clips', '6', '--seconds', '1.5', '--seed', '4', '--out', corpus], { encoding: 'utf8' });
    expect(made.status, made.stderr).toBe(0);
    const out = join(dir, 'tiny.json');
    const r = await runCli(['train', '--data', corpus, '--features', 'logmel:8:20', '--hidden', '4', '--epochs', '2', '--batch-size', '3', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.lines).toEqual([]); // stdout carries no data for train
    expect(r.stderr).toMatch(/6 clips, 450 frames, labels \[speech\]/);
    expect(r.stderr).toMatch(/epoch 2\/2 train loss/);
    const tagger = taggerFromJSON(JSON.parse(readFileSync(out, 'utf8')));
    expect(tagger.labels).toEqual(['speech']);
    expect(tagger.features).toMatchObject({ melBands: 8, hopSize: 320, sampleRate: 16000 });
    expect(tagger.model.config).toMatchObject({ cell: 'gru', hiddenSize: 4, inputSize: 8 });
    expect((tagger.json.training as { command: string }).command).toContain('--hidden 4');
    const tagged = await runCli(['tag', '--wav', join(corpus, 'train_0000.wav'), '--model', out, '--frames']);
    expect(tagged.code, tagged.stderr).toBe(0);
    expect(tagged.lines.filter((l) => l.includes('"time"'))).toHaveLength(75);
  });

  it('a WAV without its labels file: SEQ_TRAIN_LABELS, exit 1', async () => {
    const bare = join(dir, 'bare');
    spawnSync('mkdir', ['-p', bare]);
    spawnSync('sox', ['-n', '-r', '16000', '-b', '16', join(bare, 'a.wav'), 'synth', '0.5', 'sine', '440']);
    const r = await runCli(['train', '--data', bare, '--out', join(dir, 'x.json')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('SEQ_TRAIN_LABELS');
  });
});

describe('seqstream train on NDJSON sequences', () => {
  it('trains a sequence classifier and writes a model with its labels', async () => {
    const lines = Array.from({ length: 60 }, (_, i) => {
      const up = i % 2 === 0;
      const T = 5 + (i % 4);
      return JSON.stringify({ x: Array.from({ length: T }, (_, t) => [up ? t / T : 1 - t / T]), target: up ? 'rising' : 'falling' });
    });
    const data = join(dir, 'seqs.ndjson');
    writeFileSync(data, lines.join('\n') + '\n');
    const out = join(dir, 'clf.json');
    const r = await runCli(['train', '--data', data, '--hidden', '8', '--epochs', '15', '--lr', '0.03', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/60 sequences, 1 inputs, labels \[falling, rising\]/);
    const json = JSON.parse(readFileSync(out, 'utf8'));
    expect(json.labels).toEqual(['falling', 'rising']);
    const model = RecurrentModel.fromJSON(json);
    const s = model.createState();
    let y: Float32Array = new Float32Array(2);
    for (let t = 0; t < 6; t++) y = model.step(s, [t / 6]);
    expect(y[1]).toBeGreaterThan(y[0]); // a rising ramp is 'rising'
    expect(json.training.validation.accuracy).toBeGreaterThan(0.8);
  });

  it('bad --bptt is a usage error (exit 2)', async () => {
    const r = await runCli(['train', '--data', 'x', '--bptt', 'zero', '--out', join(dir, 'y.json')]);
    expect(r.code).toBe(2);
  });
});

describe('seqstream train on CSV sequences', () => {
  /** Rows `run,level,slope,state`: 40 runs of 6-9 steps, rising or falling, rows of two runs interleaved. */
  function csv(task: 'classify' | 'tag'): string {
    const rows: string[] = ['run,level,slope,state'];
    for (let pair = 0; pair < 20; pair++) {
      const T = 6 + (pair % 4);
      for (let t = 0; t < T; t++) {
        for (const up of [true, false]) {
          const id = `r${2 * pair + (up ? 0 : 1)}`;
          const level = up ? t / T : 1 - t / T;
          // tag: the state is 'high' once the level passes 0.5 (from the second step on, so it must be read from the input)
          const state = task === 'classify' ? (up ? 'rising' : 'falling') : t === 0 ? '' : level > 0.5 ? 'high' : 'low';
          rows.push(`${id},${level.toFixed(4)},${up ? 1 : -1},${state}`);
        }
      }
    }
    return rows.join('\n') + '\n';
  }

  /** Writes `csv(task)` to NAME.csv and runs `seqstream train` on it with `flags` (columns run/state); returns the run and the model file's JSON. */
  async function trainOn(name: string, task: 'classify' | 'tag', flags: string[]) {
    const data = join(dir, `${name}.csv`);
    writeFileSync(data, csv(task));
    const out = join(dir, `${name}.json`);
    const r = await runCli(['train', '--data', data, '--sequence-column', 'run', '--label-column', 'state', ...flags, '--hidden', '8', '--lr', '0.03', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    return { r, json: JSON.parse(readFileSync(out, 'utf8')) };
  }

  it('trains a sequence classifier (--task classify, the default) with named columns', async () => {
    const { r, json } = await trainOn('runs', 'classify', ['--columns', 'level', '--epochs', '15']);
    expect(r.lines).toEqual([]);
    expect(r.stderr).toMatch(/40 sequences, 1 inputs, labels \[falling, rising\]/);
    expect(json.labels).toEqual(['falling', 'rising']);
    const model = RecurrentModel.fromJSON(json);
    const s = model.createState();
    let y: Float32Array = new Float32Array(2);
    for (let t = 0; t < 6; t++) y = model.step(s, [1 - t / 6]);
    expect(y[0]).toBeGreaterThan(y[1]); // a falling ramp is 'falling'
    expect(json.training.validation.accuracy).toBeGreaterThan(0.8);
  });

  it('trains a per-step tagger (--task tag; empty label cells are no target)', async () => {
    const { r, json } = await trainOn('steps', 'tag', ['--task', 'tag', '--epochs', '20']);
    expect(r.stderr).toMatch(/40 sequences, 2 inputs, labels \[high, low\]/);
    const model = RecurrentModel.fromJSON(json);
    const s = model.createState();
    const ys = [0.1, 0.3, 0.7, 0.9].map((v) => Array.from(model.step(s, [v, 1])));
    expect(ys[3][0]).toBeGreaterThan(ys[3][1]); // 0.9: high
    expect(ys[0][1]).toBeGreaterThan(ys[0][0]); // 0.1: low
  });

  it.each([
    ['a row with a missing field', 'sequence,x,label\na,1,up\na,2\n', /line 3/],
    ['a non-numeric feature', 'sequence,x,label\na,1,up\na,abc,up\n', /line 3, column 'x': expected a finite number, received 'abc'/],
    ['an empty feature', 'sequence,x,label\na,,up\n', /line 2, column 'x'/],
    ['a bad feature after a blank line', 'sequence,x,label\na,1,up\n\na,abc,up\n', /line 4, column 'x'/],
    ['no label column', 'sequence,x,y\na,1,2\n', /no label column 'label'/],
    ['two labels in one classified sequence', 'sequence,x,label\na,1,up\na,2,down\n', /sequence 'a' \(first on line 2\).*\[up, down\]/],
    ['an unclosed quote', 'sequence,x,label\n"a,1,up\n', /not CSV/],
  ])('%s is SEQ_TRAIN_CSV naming the place (exit 1)', async (_what, text, message) => {
    const data = join(dir, `bad-${Math.random().toString(36).slice(2)}.csv`);
    writeFileSync(data, text);
    const r = await runCli(['train', '--data', data, '--epochs', '1', '--out', join(dir, 'bad.json')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('SEQ_TRAIN_CSV');
    expect(r.stderr).toMatch(message);
  });

  it('--task takes classify or tag only (exit 2)', async () => {
    const r = await runCli(['train', '--data', 'x.csv', '--task', 'regress', '--out', join(dir, 'z.json')]);
    expect(r.code).toBe(2);
  });
});
