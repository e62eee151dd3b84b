/**
 * Every example in examples/ runs to completion as a user would start it (npx tsx examples/<name>.ts)
 * and shows what it is there to show: each has a check below of the facts its output claims.
 * Examples import `seqstream/...` as a user's code would; the `seqstream-source` export condition
 * (package.json) resolves those to `src/*.ts`, so they run here from source, without a build.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const exec = promisify(execFile);
const examples = readdirSync('examples').filter((f) => f.endsWith('.ts'));
const scratch = mkdtempSync(join(tmpdir(), 'seqstream-examples-'));

async function run(file: string, args: string[] = [], node: string[] = [], env: Record<string, string> = {}): Promise<string> {
  const { stdout } = await exec(process.execPath, [...node, '--conditions=seqstream-source', '--import', 'tsx', join('examples', file), ...args], {
    env: { ...process.env, SEQSTREAM_BACKEND: 'cpu', ...env },
    timeout: 60_000,
    maxBuffer: 16 * 1024 * 1024,
  });
  return stdout;
}

/** Numbers captured by `re` (group 1) in every match over `text`. */
const numbers = (text: string, re: RegExp): number[] => [...text.matchAll(re)].map((m) => Number(m[1]));

/** What each example shows, checked on its output. */
const checks: Record<string, () => Promise<void>> = {
  'quickstart.ts': async () => {
    const ys = numbers(await run('quickstart.ts'), /^y = (-?[\d.]+)$/gm);
    expect(ys).toHaveLength(10);
    for (const y of ys) expect(y > 0 && y < 1).toBe(true); // a sigmoid head
    expect(new Set(ys).size).toBeGreaterThan(1); // the state carries from event to event
  },
  'load-pytorch.ts': async () => {
    const out = await run('load-pytorch.ts');
    expect(out).toMatch(/^loaded lstm: \d+ inputs, H=\d+/m);
    const [diff] = numbers(out, /max \|seqstream - PyTorch\| = ([\d.e+-]+)/g);
    expect(diff).toBeLessThan(1e-5);
  },
  'native-engine.ts': async () => {
    const out = await run('native-engine.ts');
    expect(out).toMatch(/^loaded lstm_l2_head\.onnx: lstm, 3 inputs, H=5, 2 layer\(s\), head 2$/m);
    expect(out).toMatch(/^wasm: +20480 outputs, [\d,]+ events\/s \(stepped on wasm-simd\)$/m);
    if (/^native: skipped/m.test(out)) {
      if (process.env.CI === 'true') throw new Error(`CI must have onnxruntime-node: ${out}`);
    } else {
      // An H=5 LSTM: auto steps the gate-math graph (GATE_GRAPH_MAX_HIDDEN).
      expect(out).toMatch(/^native: +20480 outputs, [\d,]+ events\/s \(stepped on onnxruntime, onnxruntime-node [\d.]+, gates graph\)$/m);
      const [diff] = numbers(out, /max \|native - wasm\| = ([\d.e+-]+)/g);
      expect(diff).toBeLessThan(1e-4);
    }
    const auto = /^LSTM I=40 H=128, 1024 keys: wasm [\d,]+ events\/s, auto [\d,]+ events\/s \(stepped on (\S+)\)$/m.exec(out);
    expect(auto?.[1]).toBe(/^native: skipped/m.test(out) ? 'wasm-simd' : 'onnxruntime');
    // The batch form gives the per-event outputs bit for bit on the pinned engine.
    expect(out).toMatch(/^recurrentByKeyBatch on (native|wasm): 20 blocks of 1024 rows, [\d,]+ events\/s \(per-event: [\d,]+\); outputs bit-identical to per-event recurrentByKey$/m);
    // Without onnxruntime-node the example still runs and says why the native part was skipped.
    const hidden = await run('native-engine.ts', [], ['--require', join(process.cwd(), 'test', 'support', 'hideOnnxRuntime.cjs')]);
    expect(hidden).toMatch(/^wasm: +20480 outputs/m);
    expect(hidden).toMatch(/^native: skipped \(onnxruntime-node is not installed/m);
    expect(hidden).toMatch(/^LSTM I=40 H=128, 1024 keys: .* \(stepped on wasm-simd\)$/m);
    expect(hidden).toMatch(/^recurrentByKeyBatch on wasm: .*bit-identical/m);
  },
  'train-online.ts': async () => {
    const out = await run('train-online.ts');
    const mse = numbers(out, /prequential MSE ([\d.]+) \(memoryless/g);
    expect(mse.length).toBeGreaterThanOrEqual(3);
    // It learns the recall task: the error ends far below the memoryless best (1/3) and below where it started.
    expect(mse[mse.length - 1]).toBeLessThan(0.1);
    expect(mse[mse.length - 1]).toBeLessThan(mse[0]);
    const [resumed] = numbers(out, /resumed: prequential MSE over the last \d+ events ([\d.]+)/g);
    expect(resumed).toBeLessThan(0.1); // the checkpoint kept what was learnt
  },
  'keyed-sensors.ts': async () => {
    const dir = join(scratch, 'keyed-state');
    const first = await run('keyed-sensors.ts', [dir]);
    expect(first).toMatch(/^fresh start$/m);
    expect(first).toMatch(/^done: 20000 outputs; checkpoint saved/m);
    const second = await run('keyed-sensors.ts', [dir]); // the second run resumes from the checkpoint
    expect(second).toMatch(/^resuming 200 keys after offset 19999$/m);
    expect(second).toMatch(/^done: 0 outputs/m);
  },
  'sensor-fleet.ts': async () => {
    const out = await run('sensor-fleet.ts');
    const [at] = numbers(out, /^alert pump-17 at reading (\d+)$/gm);
    expect(at).toBeGreaterThanOrEqual(1000); // not before the fault
    expect(at).toBeLessThan(1020);
    expect(out).toMatch(/^pump-17 alerted: yes; other pumps alerting: [0-2] of 99$/m);
    expect(out).toMatch(/^120000 readings of 100 pumps on 2 threads in /m);
  },
  'voice-activity.ts': async () => {
    // a committed clip (speech from 0.80 s, labels in its .labels.ndjson) and espeak-ng's own speech
    const clip = await run('voice-activity.ts', ['test/fixtures/vad/valid_0005.wav']);
    expect(clip).toMatch(/^test\/fixtures\/vad\/valid_0005\.wav: 2\.00 s at 16000 Hz$/m);
    const [start] = numbers(clip, /^speech ([\d.]+) s - [\d.]+ s$/gm);
    expect(start).toBeGreaterThan(0.6);
    expect(start).toBeLessThan(1.0);
    const spoken = await run('voice-activity.ts');
    expect(numbers(spoken, /^speech ([\d.]+) s/gm).length).toBeGreaterThan(0);
  },
  'audio-tagging.ts': async () => {
    const out = await run('audio-tagging.ts');
    expect(out).toMatch(/^feature vector: 14 values \(mfcc\[0\].*rms\)$/m);
    const tags = [...out.matchAll(/^t=([\d.]+)s -> (\w+) \(p=([\d.]+), untrained\)$/gm)];
    expect(tags.length).toBeGreaterThanOrEqual(3);
    tags.forEach((m, i) => i > 0 && expect(Number(m[1])).toBeGreaterThan(Number(tags[i - 1][1])));
    for (const m of tags) expect(Number(m[3]) > 0 && Number(m[3]) <= 1).toBe(true);
    expect(out.trim().endsWith('done')).toBe(true);
  },
  'websocket-text.ts': async () => {
    const out = await run('websocket-text.ts');
    const replies = (who: string) => out.split('\n').filter((l) => l.startsWith(who)).map((l) => JSON.parse(l.slice(who.length).trim()));
    for (const [who, n] of [['alice', 3], ['bob', 2]] as const) {
      const r = replies(who);
      expect(r[0]).toMatchObject({ type: 'hello', resumed: false });
      // Each client gets its own outputs, numbered in its own order, with a next-character guess.
      expect(r.slice(1).map((m) => m.seq)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
      for (const m of r.slice(1)) expect(m).toMatchObject({ type: 'output', next: expect.any(String), p: expect.any(Number) });
    }
    expect(out).toMatch(/connections: 2,/);
    expect(out).toMatch(/errorsReplied: 0,/);
  },
  'dashboard.ts': async () => {
    const out = await run('dashboard.ts', ['6']);
    // 6 s x 20 steps x 20 machines, all scored; only machine-7, the one with a fault (at 4.75 s), alerts.
    const m = /^(\d+) readings scored, (\d+) alerts \(([^)]*)\); the page closed with the stream$/m.exec(out);
    expect(m).not.toBeNull();
    expect(Number(m![1])).toBe(2400);
    expect(Number(m![2])).toBeGreaterThanOrEqual(1);
    expect(m![3]).toBe('machine-7');
  },
  'nab-anomaly.ts': async () => {
    const out = await run('nab-anomaly.ts');
    if (/NAB corpus not found/.test(out)) return; // the corpus lives in ../shared, which users do not have
    expect(out).toMatch(/: \d+ rows, \d+ events\/s/);
    const scores = numbers(out, /score=([\d.]+)$/gm);
    expect(scores.length).toBeGreaterThanOrEqual(1);
    for (const s of scores) expect(s >= 0 && s <= 1).toBe(true);
  },
};

describe('examples', () => {
  it('finds the examples, and every one has a check of what it shows', () => {
    expect(examples.length).toBeGreaterThanOrEqual(5);
    expect(examples.filter((f) => !checks[f])).toEqual([]);
  });

  it("import seqstream/... through the package's exports map, from source under the seqstream-source condition", async () => {
    for (const f of examples) {
      const text = readFileSync(join('examples', f), 'utf8');
      expect(text, f).not.toMatch(/from '\.\.\/src\//);
      expect(text, f).toMatch(/from 'seqstream(\/[\w/]+)?'/);
    }
    const resolveIn = async (conditions: string[]) =>
      (await exec(process.execPath, [...conditions, '--input-type=module', '-e', "console.log(import.meta.resolve('seqstream/cells'), import.meta.resolve('seqstream/adapters/fileStateStore'))"])).stdout.trim().split(' ');
    const fromSource = await resolveIn(['--conditions=seqstream-source']);
    expect(fromSource.map((u) => u.replace(/^.*\/(src|dist)\//, '$1/'))).toEqual(['src/cells/index.ts', 'src/adapters/fileStateStore.ts']);
    const published = await resolveIn([]);
    expect(published.map((u) => u.replace(/^.*\/(src|dist)\//, '$1/'))).toEqual(['dist/cells/index.js', 'dist/adapters/fileStateStore.js']);
  });

  it.each(examples.filter((f) => checks[f]))('%s runs and shows what it claims', async (file) => {
    await checks[file]();
  }, 120_000);
});
