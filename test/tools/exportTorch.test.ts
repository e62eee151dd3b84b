import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { loadModel } from '../../src/adapters/loadModel.js';
import { loadStateDict, parseSafetensors, runSequence, safetensorsMetadata } from '../../src/cells/index.js';
import { torchPythonFor } from '../support/prerequisites.js';
import { closeTo, fixtureProblems, flat } from './fixtureSchema.js';

const script = resolve(dirname(fileURLToPath(import.meta.url)), '../../tools/export_torch.py');
const python = torchPythonFor('test/tools/exportTorch.test.ts');

describe.skipIf(!python)('tools/export_torch.py (PyTorch present)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'seqstream-export-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const run = (args: string[]) => execFileSync(python!, [script, ...args], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const load = (name: string) => JSON.parse(readFileSync(join(dir, name), 'utf8'));

  // One CLI run per cell kind, each also exercising another option.
  const cases = [
    { kind: 'rnn_tanh', args: [], L: 1, head: null },
    { kind: 'rnn_relu', args: ['--layers', '2', '--seq-len', '5', '--safetensors', 'rnn_relu.safetensors'], L: 2, head: null },
    { kind: 'lstm', args: ['--layers', '2', '--head-out', '2', '--head-activation', 'sigmoid', '--safetensors', 'lstm.safetensors'], L: 2, head: 'sigmoid' },
    { kind: 'gru', args: ['--time-major', '--head-out', '3', '--head-activation', 'softmax', '--batch-size', '3'], L: 1, head: 'softmax' },
  ] as const;

  for (const c of cases) {
    it(`--demo ${c.kind} ${c.args.join(' ')} writes a well-formed forward fixture that seqstream reproduces`, () => {
      const stdout = run(['--demo', c.kind, '--out', `${c.kind}.json`, ...c.args]);
      expect(stdout).toContain(`wrote ${c.kind}.json`);
      const fx = load(`${c.kind}.json`);
      expect(fixtureProblems(fx)).toEqual([]);
      expect(fx.case).toBe(c.kind);
      expect(fx.config.cell).toBe(c.kind);
      expect(fx.config.num_layers).toBe(c.L);
      expect(fx.generator.script).toBe('export_torch.py');
      expect(fx.config.head_activation).toBe(c.head ?? undefined);
      if (c.head === 'softmax') {
        for (const row of fx.y.flat()) expect(row.reduce((a: number, b: number) => a + b, 0)).toBeCloseTo(1, 12);
      }
      // Weights and inputs are float32-exact, as the schema promises.
      for (const v of [...flat(Object.values(fx.params)), ...flat(fx.x), ...flat(fx.h0)]) expect(Math.fround(v)).toBe(v);

      const model = loadStateDict(fx.params, { nonlinearity: c.kind === 'rnn_relu' ? 'relu' : 'tanh', headActivation: fx.config.head_activation });
      const res = runSequence(model, fx.x, { h0: fx.h0, c0: fx.c0 });
      expect(closeTo(res.output, fx.output).ok).toBe(true);
      expect(closeTo(res.hN, fx.h_n).ok).toBe(true);
      if (fx.c_n) expect(closeTo(res.cN, fx.c_n).ok).toBe(true);
      if (fx.y) expect(closeTo(res.y, fx.y).ok).toBe(true);

      // The JSON itself loads as a state dict (its config says cell and activation).
      const fromJson = loadStateDict(fx);
      expect(fromJson.config).toEqual(model.config);
      expect(closeTo(runSequence(fromJson, fx.x, { h0: fx.h0, c0: fx.c0 }).output, fx.output).ok).toBe(true);

      if ((c.args as readonly string[]).includes('--safetensors')) {
        const file = join(dir, `${c.kind}.safetensors`);
        expect(fx.safetensors).toBe(`${c.kind}.safetensors`);
        const bytes = readFileSync(file);
        const tensors = parseSafetensors(bytes);
        expect(Object.keys(tensors).sort()).toEqual(Object.keys(fx.params).sort());
        for (const [name, t] of Object.entries(tensors)) {
          expect(t.dtype).toBe('F32');
          expect(Array.from(t.data)).toEqual(flat(fx.params[name]));
        }
        // What the shapes cannot say travels in __metadata__, and loading reads it back: a
        // sigmoid head gives probabilities, a relu RNN stays relu, with no option passed.
        expect(safetensorsMetadata(bytes)).toMatchObject({ cell: c.kind, ...(c.head ? { head_activation: c.head } : {}) });
        const loaded = loadModel(file);
        expect(loaded.config).toEqual(model.config);
        const run = runSequence(loaded, fx.x, { h0: fx.h0, c0: fx.c0 });
        expect(closeTo(run.output, fx.output).ok).toBe(true);
        if (fx.y) expect(closeTo(run.y, fx.y).ok).toBe(true);
      }
    });
  }

  it('--help describes the command line', () => {
    const out = run(['--help']);
    expect(out).toContain('--demo');
    expect(out).toContain('--safetensors');
    expect(out).toContain('--state-dict');
  });

  it('export() keeps a time-major input, and rejects bidirectional, proj_size and training-mode dropout', () => {
    const code = `
import sys, json, torch
sys.path.insert(0, ${JSON.stringify(dirname(script))})
from export_torch import export, ExportError
torch.manual_seed(1)
m = torch.nn.LSTM(3, 4)                      # batch_first=False: x is [T, B, I]
x = torch.randn(5, 2, 3)
fx = export(m, x=x, path='tm.json')
same = torch.equal(torch.tensor(fx['x'], dtype=torch.float32), x.transpose(0, 1))
errors = []
for make in (lambda: torch.nn.GRU(3, 4, bidirectional=True), lambda: torch.nn.LSTM(3, 4, proj_size=2),
             lambda: torch.nn.RNN(3, 4, num_layers=2, dropout=0.5)):
    try:
        export(make(), path='bad.json'); errors.append(None)
    except ExportError as e:
        errors.append(str(e))
print(json.dumps({'same': same, 'errors': errors}))
`;
    const res = spawnSync(python!, ['-c', code], { cwd: dir, encoding: 'utf8' });
    expect(res.status, res.stderr).toBe(0);
    const out = JSON.parse(res.stdout.trim().split('\n').pop()!);
    expect(out.same).toBe(true);
    const fx = load('tm.json');
    expect(fixtureProblems(fx)).toEqual([]);
    expect(fx.config).toMatchObject({ batch_size: 2, seq_len: 5, batch_first: true });
    expect(out.errors[0]).toMatch(/bidirectional/);
    expect(out.errors[1]).toMatch(/proj_size/);
    expect(out.errors[2]).toMatch(/dropout.*eval\(\)/);
  });
});
