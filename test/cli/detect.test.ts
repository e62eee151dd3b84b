/** `seqstream detect` as a user runs it: a real child process on real files and stdin. */
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sineSeries } from '../detection/series.js';

const dir = mkdtempSync(join(tmpdir(), 'seqstream-detect-'));
const nab = resolve('../shared/datasets/nab');

function cli(args: string[], input = ''): Promise<{ code: number; lines: string[]; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'detect', ...args]);
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', fail);
    child.on('close', (code) => done({ code: code ?? -1, lines: out.split('\n').filter(Boolean), stderr: err }));
    child.stdin.end(input);
  });
}

/** NAB-style CSV text: CRLF, `YYYY-MM-DD HH:MM:SS`, values in mixed spellings, a repeated and a backward timestamp. */
function nabCsv(n: number, seed: number): { text: string; stamps: string[]; values: string[] } {
  const rows = sineSeries(n, seed, n - 30, 8);
  const stamps = rows.map((r) => new Date(r.timestamp).toISOString().slice(0, 19).replace('T', ' '));
  stamps[100] = stamps[99]; // repeated
  stamps[150] = stamps[140]; // a step backwards
  const values = rows.map((r, i) => (i % 7 === 0 ? r.x.toExponential(3) : r.x.toFixed(i % 3 === 0 ? 0 : 5)));
  return { text: 'timestamp,value\r\n' + stamps.map((t, i) => `${t},${values[i]}\r\n`).join(''), stamps, values };
}

describe('seqstream detect', () => {
  it('scores NDJSON on stdin, each line as written plus anomaly_score and alert; bad lines go to stderr and the rest goes on', async () => {
    const rows = sineSeries(120, 1, 100, 9);
    const lines = rows.map((r) => `{"sensor":"s${r.timestamp % 2}", "timestamp":${r.timestamp},"value":${r.x.toFixed(4)}}`);
    lines.splice(50, 0, '{"sensor":"s0","timestamp":1,"value":"n/a"}', 'not json');
    const { code, lines: out, stderr } = await cli(['--key', 'sensor', '--threshold', '0.5', '--learning-period', '20'], lines.join('\n') + '\n');
    expect(code).toBe(0);
    expect(out).toHaveLength(120);
    const good = lines.filter((_, i) => i !== 50 && i !== 51);
    out.forEach((line, i) => {
      expect(line.startsWith(good[i].slice(0, -1) + ',"anomaly_score":')).toBe(true);
      const o = JSON.parse(line);
      expect(o.anomaly_score >= 0 && o.anomaly_score <= 1).toBe(true);
      expect(o.alert).toBe(o.anomaly_score >= 0.5);
    });
    expect(stderr).toContain('"error":"SEQ_SENSOR_NOT_NUMERIC"');
    expect(stderr).toContain('"error":"SEQ_SENSOR_JSON"');
  });

  it('with --threads 2 spreads the keys over two detector threads and writes exactly the same rows', async () => {
    const lines = [1, 2, 3, 4].flatMap((k) => sineSeries(90, k, 70, 6).map((r) => ({ k, r })))
      .sort((a, b) => a.r.timestamp - b.r.timestamp || a.k - b.k)
      .map(({ k, r }) => `{"sensor":"s${k}","timestamp":${r.timestamp},"value":${r.x.toFixed(4)}}`);
    lines.splice(30, 0, '{"sensor":"s1","timestamp":1,"value":"n/a"}');
    const args = ['--key', 'sensor', '--threshold', '0.5', '--learning-period', '20'];
    const [one, two] = await Promise.all([cli(args, lines.join('\n') + '\n'), cli([...args, '--threads', '2'], lines.join('\n') + '\n')]);
    expect(two.code).toBe(0);
    expect(two.lines).toHaveLength(lines.length - 1);
    expect(two.lines).toEqual(one.lines);
    expect(two.stderr).toContain('"error":"SEQ_SENSOR_NOT_NUMERIC"');
    expect(new Set(two.lines.map((l) => JSON.parse(l).sensor)).size).toBe(4);
    expect((await cli([...args, '--threads', '0'], '')).code).not.toBe(0);
  });

  it('scores a folder of CSV files, one fresh detector per file, rows echoed byte for byte', async () => {
    const folder = join(dir, 'csv');
    mkdirSync(folder, { recursive: true });
    const a = nabCsv(200, 2);
    writeFileSync(join(folder, 'a.csv'), a.text);
    writeFileSync(join(folder, 'b.csv'), a.text);
    const { code, lines } = await cli([folder, '--quiet']);
    expect(code).toBe(0);
    expect(lines[0]).toBe('timestamp,value,anomaly_score');
    expect(lines).toHaveLength(1 + 400);
    const data = a.text.split('\r\n').slice(1, -1);
    lines.slice(1).forEach((line, i) => expect(line.slice(0, line.lastIndexOf(','))).toBe(data[i % 200]));
    // same file twice, fresh state each time: the same scores
    expect(lines.slice(1, 201)).toEqual(lines.slice(201));
    const ndjson = await cli([join(folder, 'a.csv'), '--output-format', 'ndjson']);
    expect(JSON.parse(ndjson.lines[0])).toMatchObject({ timestamp: a.stamps[0], value: a.values[0] });
  });

  it('writes NAB result files: every row, in order, timestamps and values verbatim', async () => {
    const data = join(dir, 'nab-data');
    mkdirSync(join(data, 'catA'), { recursive: true });
    mkdirSync(join(data, 'catB'), { recursive: true });
    const one = nabCsv(300, 3);
    const two = nabCsv(260, 4);
    writeFileSync(join(data, 'catA', 'one.csv'), one.text);
    writeFileSync(join(data, 'catB', 'two.csv'), two.text);
    const out = join(dir, 'results');
    const { code, stderr } = await cli(['--nab', data, '--out', out, '--detector', 'mine']);
    expect(code, stderr).toBe(0);
    for (const [cat, name, src] of [['catA', 'one', one], ['catB', 'two', two]] as const) {
      const rows = readFileSync(join(out, cat, `mine_${name}.csv`), 'utf8').trim().split('\n');
      expect(rows[0]).toBe('timestamp,value,anomaly_score');
      expect(rows.slice(1).map((r) => r.split(',')[0])).toEqual(src.stamps);
      expect(rows.slice(1).map((r) => r.split(',')[1])).toEqual(src.values);
      const scores = rows.slice(1).map((r) => Number(r.split(',')[2]));
      expect(scores.every((s) => s >= 0 && s <= 1)).toBe(true);
    }
    expect((await cli(['--nab', data])).code).toBe(2);
  });

  it('round-trips real NAB files (two short ones) in NAB layout', async (ctx) => {
    if (!existsSync(join(nab, 'data'))) {
      if (process.env.CI === 'true') throw new Error(`CI=true but the NAB corpus is missing at ${nab}`);
      ctx.skip();
      return;
    }
    const data = join(dir, 'nab-real');
    const files = ['realAdExchange/exchange-2_cpc_results.csv', 'realKnownCause/ec2_request_latency_system_failure.csv'];
    for (const f of files) {
      mkdirSync(join(data, f.split('/')[0]), { recursive: true });
      copyFileSync(join(nab, 'data', f), join(data, f)); // a temp copy, never into the project
    }
    const out = join(dir, 'nab-real-results');
    const { code, stderr } = await cli(['--nab', data, '--out', out]);
    expect(code, stderr).toBe(0);
    for (const f of files) {
      const [cat, name] = f.split('/');
      const src = readFileSync(join(data, f), 'utf8').split(/\r?\n/).filter(Boolean).slice(1);
      const res = readFileSync(join(out, cat, `seqstream_${name}`), 'utf8').trim().split('\n').slice(1);
      expect(res.map((r) => r.slice(0, r.lastIndexOf(',')))).toEqual(src);
    }
  });
});
