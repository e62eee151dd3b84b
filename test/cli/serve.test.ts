/** `seqstream serve` and `npm start`: the page, the terminal summary, the end after --events. */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RecurrentModel } from '../../src/cells/index.js';
import { main } from '../../src/cli/main.js';
import { DEMO_SENSORS, demoReading, DEMO_WARMUP_STEPS } from '../../src/cli/sensorDemoSource.js';
import { runServe } from '../../src/cli/serveCommand.js';
import { httpStatus as status } from '../support/httpStatus.js';

const dir = mkdtempSync(join(tmpdir(), 'seqstream-serve-'));

describe('multi-sensor demo source', () => {
  it('injects each sensor its fault once per cycle, none while the models warm up', () => {
    const faulty = (s: (typeof DEMO_SENSORS)[number], from: number, to: number) => Array.from({ length: to - from }, (_, k) => demoReading(s, from + k)).filter((r) => r.fault).length;
    for (const s of DEMO_SENSORS) {
      expect(faulty(s, 0, DEMO_WARMUP_STEPS)).toBe(0);
      expect(faulty(s, 400, 800)).toBeGreaterThan(0);
    }
    expect(new Set(DEMO_SENSORS.map((s) => s.key)).size).toBe(6);
  });
});

describe('seqstream serve', () => {
  it('--demo serves the page, prints its URL, alerts and a summary on stderr, and ends after --events', async () => {
    const err: string[] = [];
    const out: string[] = [];
    const code = await main(['serve', '--demo', '--events', '1800', '--interval-ms', '0', '--backend', 'cpu'], (s) => out.push(s), (s) => err.push(s));
    expect(code).toBe(0);
    expect(out).toEqual([]); // stdout carries data only
    expect(err.some((l) => /^dashboard: http:\/\/127\.0\.0\.1:\d+\/$/.test(l))).toBe(true);
    expect(err.some((l) => /^ALERT boiler\/pressure score \d/.test(l))).toBe(true); // its spike at step 220
    expect(err.at(-1)).toMatch(/^seqstream serve: 1800 events .* 6 streams, [1-9]\d* alerts/);
  }, 60_000);

  it('--demo --detect scores the plant with the anomaly detector: every fault kind raises alerts', async () => {
    const err: string[] = [];
    const code = await main(['serve', '--demo', '--detect', '--events', '6000', '--interval-ms', '0', '--backend', 'cpu'], () => {}, (s) => err.push(s));
    expect(code).toBe(0);
    const alerted = new Set(err.filter((l) => l.startsWith('ALERT ')).map((l) => l.split(' ')[1]));
    expect(alerted.size).toBeGreaterThanOrEqual(5); // 1,000 steps: each sensor's fault once or twice after the learning period
    expect(err.at(-1)).toMatch(/^seqstream serve: 6000 events .* 6 streams/);
  }, 60_000);

  it('--input FILE --model scores each key by its prediction error; bad lines are counted by code', async () => {
    const model = RecurrentModel.create({ cell: 'gru', inputSize: 1, hiddenSize: 8, head: { outputSize: 1 }, seed: 3 });
    writeFileSync(join(dir, 'model.json'), JSON.stringify(model));
    const lines = [];
    for (let i = 0; i < 40; i++) lines.push(JSON.stringify({ sensor: i % 2 ? 'a' : 'b', timestamp: 1000 + i, value: Math.sin(i) }));
    lines.splice(10, 0, 'not json', JSON.stringify({ sensor: 'a', timestamp: 5, value: 'x' }));
    writeFileSync(join(dir, 'readings.ndjson'), lines.join('\n') + '\n');
    let url = '';
    let pushed = 0;
    const summary = await runServe({
      input: join(dir, 'readings.ndjson'), key: 'sensor', model, events: 40, threshold: 0.1,
      onListening: (u, board) => { url = u; const push = board.push.bind(board); board.push = (e) => { pushed += e.score !== undefined ? 1 : 0; push(e); }; },
    }, () => {});
    expect(summary).toMatchObject({ events: 40, keys: 2, errors: { SEQ_SENSOR_JSON: 1, SEQ_SENSOR_NOT_NUMERIC: 1 } });
    expect(pushed).toBe(38); // every reading but each key's first has a prediction to compare with
    expect(await status(url)).toBe(-1); // closed at the end
  }, 60_000);

  it('refuses bad flags with exit 2', async () => {
    const err: string[] = [];
    const run = (args: string[]) => main(['serve', ...args], () => {}, (s) => err.push(s));
    expect(await run([])).toBe(2);
    expect(await run(['--demo', '--tcp', '7000'])).toBe(2);
    expect(await run(['--demo', '--port', '70000'])).toBe(2);
    expect(await run(['--demo', '--threshold', '-1'])).toBe(2);
    expect(await run(['--input', join(dir, 'missing.csv')])).toBe(2);
    expect(await run(['--mqtt', 'mqtt://127.0.0.1:1'])).toBe(2);
    expect(await run(['--demo', '--host', '0.0.0.0'])).toBe(2); // beyond loopback without --token
    expect(await run(['--demo', '--detect', '--model', 'm.json'])).toBe(2);
    expect(err.join('\n')).toContain('exactly one source');
  }, 60_000);

  it('npm start runs the demo with the page and ends by itself with --events', async () => {
    const child = spawn('npm', ['start', '--silent', '--', '--events', '300', '--interval-ms', '0'], { env: { ...process.env, SEQSTREAM_BACKEND: 'cpu' } });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.stdout.resume();
    const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? -1)));
    expect(code).toBe(0);
    expect(err).toMatch(/dashboard: http:\/\/127\.0\.0\.1:\d+\//);
    expect(err).toMatch(/seqstream serve: 300 events/);
  }, 90_000);
});
