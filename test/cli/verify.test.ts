import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/tensors/backend.js';
import { fixtureKind, formatVerifySummary, verifyFixtures } from '../../src/cli/verify.js';
import { hasShared, OWN_FIXTURES, SHARED_FIXTURES } from '../support/fixtures.js';

const run = promisify(execFile);
const cli = (args: string[]) =>
  run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { env: { ...process.env, SEQSTREAM_BACKEND: 'cpu' } }).then(
    (r) => ({ code: 0, out: r.stdout }),
    (e) => ({ code: e.code as number, out: e.stdout as string }),
  );

beforeAll(async () => {
  await initBackend('wasm');
});

describe.skipIf(!hasShared)('seqstream verify over ../shared/fixtures/pytorch', () => {
  it('passes every fixture there, of every kind, on both engines', () => {
    const lines = verifyFixtures([SHARED_FIXTURES]);
    expect(lines.length).toBeGreaterThan(0);
    for (const l of lines) expect({ case: l.case, status: l.status, reason: l.reason }).toEqual({ case: l.case, status: 'pass', reason: undefined });
    const forward = lines.filter((l) => l.kind === 'forward' || l.kind === 'chunks');
    for (const l of forward) expect(l.checked).toEqual(expect.arrayContaining(['whole:fused', 'events:fused', 'whole:tfjs', 'events:tfjs']));
    for (const l of lines.filter((l) => l.kind === 'chunks')) expect(l.checked).toEqual(expect.arrayContaining(['chunks:fused', 'chunks:tfjs']));
    expect(lines.some((l) => l.kind === 'tbptt')).toBe(true);
  });
});

describe.skipIf(!existsSync(OWN_FIXTURES))("seqstream verify over the project's own fixtures", () => {
  it('passes every fixture there, forward, stream-chunk and TBPTT', () => {
    const lines = verifyFixtures([OWN_FIXTURES]);
    expect(new Set(lines.map((l) => l.kind))).toEqual(new Set(['forward', 'chunks', 'tbptt']));
    for (const l of lines) expect({ case: l.case, status: l.status, reason: l.reason }).toEqual({ case: l.case, status: 'pass', reason: undefined });
  });
});

describe('seqstream verify catches what is wrong', () => {
  const dir = mkdtempSync(join(tmpdir(), 'seqstream-verify-'));
  const source = existsSync(SHARED_FIXTURES) ? join(SHARED_FIXTURES, 'lstm_l1_forward.json') : null;

  it('tells fixture kinds apart by content', () => {
    expect(fixtureKind({ windows: [] })).toBe('tbptt');
    expect(fixtureKind({ chunks: [], x: [], output: [], params: {} })).toBe('chunks');
    expect(fixtureKind({ x: [], output: [], params: {} })).toBe('forward');
    expect(fixtureKind({ hello: 1 })).toBe('unknown');
  });

  it('passes a faithful fixture and fails a tampered or unreadable one', async () => {
    const { RecurrentModel, runSequence } = await import('../../src/cells/index.js');
    // Build a fixture from our own model, then perturb one reference value by 1e-3.
    const m = RecurrentModel.create({ cell: 'gru', inputSize: 2, hiddenSize: 3, seed: 5 });
    const x = [[[0.5, -1], [1, 1], [0, 2]]];
    const h0 = [[[0.1, -0.2, 0.3]]];
    const r = runSequence(m, x, { h0 });
    const fx = { case: 'tampered', config: { cell: 'gru' }, params: m.toJSON().params, x, h0, output: r.output, h_n: r.hN };
    writeFileSync(join(dir, 'good.json'), JSON.stringify(fx));
    const bad = JSON.parse(JSON.stringify(fx));
    bad.output[0][1][2] += 1e-3;
    bad.case = 'bad';
    writeFileSync(join(dir, 'bad.json'), JSON.stringify(bad));
    writeFileSync(join(dir, 'broken.json'), '{ not json');
    const lines = verifyFixtures([dir]);
    const by = Object.fromEntries(lines.map((l) => [l.case, l]));
    expect(by.tampered.status).toBe('pass');
    expect(by.bad.status).toBe('fail');
    expect(by.bad.reason).toContain('output');
    expect(by.broken.status).toBe('fail');
    expect(formatVerifySummary(lines)).toBe('1 passed, 2 failed');
  });

  it('the CLI prints one line per file and exits 1 on a failure, 0 when all pass', async () => {
    const failing = await cli(['verify', dir]);
    expect(failing.code).toBe(1);
    expect(failing.out).toMatch(/^1 passed, 2 failed$/m);
    expect(failing.out).toContain('backend cpu');
    const passing = await cli(['verify', join(dir, 'good.json')]);
    expect(passing.code).toBe(0);
    expect(passing.out).toMatch(/^PASS\s+tampered/m);
    expect(passing.out).toMatch(/^1 passed, 0 failed$/m);
    const usage = await cli(['verify']);
    expect(usage.code).toBe(2);
  }, 60_000);

  it.skipIf(!source)('fails a real fixture when one of its parameters is changed by 0.01', () => {
    const fx = JSON.parse(readFileSync(source!, 'utf8'));
    fx.params.weight_hh_l0[0][0] += 0.01;
    fx.case = 'perturbed';
    writeFileSync(join(dir, 'perturbed.json'), JSON.stringify(fx));
    const [line] = verifyFixtures([join(dir, 'perturbed.json')]);
    expect(line.status).toBe('fail');
  });
});

describe('seqstream verify on malformed input reports per file and never aborts the run', () => {
  const dir = mkdtempSync(join(tmpdir(), 'seqstream-verify-bad-'));
  const own = (name: string) => JSON.parse(readFileSync(join(OWN_FIXTURES, name), 'utf8'));

  it('fails null, arrays, missing paths and broken links; skips non-fixtures found in folders', () => {
    const folder = join(dir, 'folder');
    mkdirSync(folder);
    writeFileSync(join(folder, 'null.json'), 'null');
    writeFileSync(join(folder, 'array.json'), '[1, 2]');
    writeFileSync(join(folder, 'notes.json'), '{"hello": 1}');
    symlinkSync(join(folder, 'gone.json'), join(folder, 'link.json'));
    writeFileSync(join(dir, 'explicit.json'), '{"hello": 1}');
    const lines = verifyFixtures([folder, join(dir, 'explicit.json'), join(dir, 'missing.json')]);
    const by = Object.fromEntries(lines.map((l) => [l.file.slice(dir.length + 1), l]));
    expect(by['folder/null.json']).toMatchObject({ status: 'fail', reason: expect.stringContaining('SEQ_FIXTURE_FORMAT') });
    expect(by['folder/array.json']).toMatchObject({ status: 'fail', reason: expect.stringContaining('an array') });
    expect(by['folder/link.json']).toMatchObject({ status: 'fail', reason: expect.stringContaining('cannot read') });
    expect(by['folder/notes.json']).toMatchObject({ status: 'skip' });
    expect(by['explicit.json']).toMatchObject({ status: 'fail', reason: expect.stringContaining('SEQ_FIXTURE_FORMAT') });
    expect(by['missing.json']).toMatchObject({ status: 'fail', reason: expect.stringContaining('ENOENT') });
    expect(formatVerifySummary(lines)).toBe('0 passed, 5 failed, 1 skipped');
  });

  it('names the missing or malformed field of a forward fixture', () => {
    const noH0 = own('gru_l1_forward.json');
    delete noH0.h0;
    const ragged = own('lstm_l1_forward.json');
    ragged.x[0][1] = [1];
    writeFileSync(join(dir, 'no_h0.json'), JSON.stringify({ ...noH0, case: 'no_h0' }));
    writeFileSync(join(dir, 'ragged.json'), JSON.stringify({ ...ragged, case: 'ragged' }));
    const lines = verifyFixtures([join(dir, 'no_h0.json'), join(dir, 'ragged.json')], { engines: ['fused'] });
    expect(lines[0]).toMatchObject({ status: 'fail', reason: expect.stringMatching(/SEQ_FIXTURE_FORMAT.*'h0'/) });
    expect(lines[1]).toMatchObject({ status: 'fail', reason: expect.stringMatching(/SEQ_FIXTURE_FORMAT.*'x'.*rectangular/) });
  });

  it('reads TBPTT sizes from the data (config.num_layers may be absent) and rejects k1 = 0 with a reason', () => {
    const noLayers = own('lstm_tbptt_k1_2_k2_5_grads.json');
    delete noLayers.config.num_layers;
    const k0 = own('gru_tbptt_grads.json');
    k0.config.tbptt_k1 = 0;
    writeFileSync(join(dir, 'no_layers.json'), JSON.stringify({ ...noLayers, case: 'no_layers' }));
    writeFileSync(join(dir, 'k0.json'), JSON.stringify({ ...k0, case: 'k0' }));
    const lines = verifyFixtures([join(dir, 'no_layers.json'), join(dir, 'k0.json')], { engines: ['fused'] });
    expect(lines[0]).toMatchObject({ status: 'pass' });
    expect(lines[1]).toMatchObject({ status: 'fail', reason: expect.stringMatching(/SEQ_FIXTURE_FORMAT.*tbptt_k1/) });
  });
});
