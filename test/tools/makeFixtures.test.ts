import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadStateDict, parseSafetensors, runSequence } from '../../src/cells/index.js';
import { torchPythonFor } from '../support/prerequisites.js';
import { closeTo, fixtureProblems, flat } from './fixtureSchema.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const dir = join(root, 'test/fixtures/pytorch');
const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
const read = (f: string) => JSON.parse(readFileSync(join(dir, f), 'utf8'));

describe('test/fixtures/pytorch (the project\'s own PyTorch fixtures)', () => {
  it('holds every kind: forward, head, stream chunks and TBPTT files', () => {
    const kinds = files.map((f) => read(f)).map((fx) => (fx.windows ? 'tbptt' : fx.chunks ? 'chunks' : fx.y ? 'head' : 'forward'));
    for (const k of ['forward', 'head', 'chunks', 'tbptt']) expect(kinds).toContain(k);
  });

  it('the schema check itself catches a missing state, a wrong shape and a missing clipped gradient', () => {
    const lstm = read('lstm_l1_forward.json');
    delete lstm.c0;
    lstm.output[0].pop();
    expect(fixtureProblems(lstm)).toEqual(['c0: missing', 'output: ragged array']);
    const clipped = read('lstm_tbptt_sgd_clip.json');
    delete clipped.windows[1].grads_after_clip;
    clipped.windows[2].start = 1;
    expect(fixtureProblems(clipped)).toEqual([
      'windows[1].grads_after_clip: names [] differ from [weight_ih_l0,weight_hh_l0,bias_ih_l0,bias_hh_l0,head.weight,head.bias]',
      ...['weight_ih_l0', 'weight_hh_l0', 'bias_ih_l0', 'bias_hh_l0', 'head.weight', 'head.bias'].map((n) => `windows[1].grads_after_clip.${n}: missing`),
      'windows[2]: index/start/length must be 2/8/4',
    ]);
  });

  for (const f of files) {
    it(`${f} is well-formed and its case names the file`, () => {
      const fx = read(f);
      expect(fixtureProblems(fx)).toEqual([]);
      expect(`${fx.case}.json`).toBe(f);
      if (fx.windows) for (const w of fx.windows) expect(typeof w.grad_norm).toBe('number');
    });
  }

  // Parity proper is `seqstream verify`'s job; this is the quick whole-sequence check.
  for (const f of files.filter((name) => !read(name).windows)) {
    it(`${f}: seqstream's fused path matches output, h_n, c_n and y`, () => {
      const fx = read(f);
      const opts = { nonlinearity: fx.config.cell === 'rnn_relu' ? 'relu' : 'tanh', headActivation: fx.config.head_activation } as const;
      const models = [loadStateDict(fx.params, opts)];
      if (fx.safetensors) models.push(loadStateDict(parseSafetensors(readFileSync(join(dir, fx.safetensors))), opts));
      for (const model of models) {
        const res = runSequence(model, fx.x, { h0: fx.h0, c0: fx.c0 });
        expect(closeTo(res.output, fx.output).ok).toBe(true);
        expect(closeTo(res.hN, fx.h_n).ok).toBe(true);
        if (fx.c_n) expect(closeTo(res.cN, fx.c_n).ok).toBe(true);
        if (fx.y) expect(closeTo(res.y, fx.y).ok).toBe(true);
        for (const p of model.parameters()) expect(Array.from(p.data)).toEqual(flat(fx.params[p.name]));
      }
    });
  }
});

const python = torchPythonFor('tools/make_fixtures.py --check');

describe.skipIf(!python)('tools/make_fixtures.py (PyTorch present)', () => {
  it('--check regenerates every committed fixture identically from its seed', () => {
    const res = spawnSync(python!, [join(root, 'tools/make_fixtures.py'), '--check'], { encoding: 'utf8' });
    expect(res.status, res.stdout + res.stderr).toBe(0);
    expect(res.stdout).not.toMatch(/DIFFERENT|MISSING/);
  });
});
