import { describe, expect, it } from 'vitest';
import { runDemo, sensorSignal } from '../../src/cli/demo.js';
import { main } from '../../src/cli/main.js';

describe('demo (npm start)', () => {
  it('prints one line per event with the model output, and the hidden state jumps at the injected fault', async () => {
    const lines: string[] = [];
    await runDemo({ events: 100, intervalMs: 0, print: (l) => lines.push(l) });
    const rows = lines.filter((l) => /^\s+\d+ /.test(l));
    expect(rows).toHaveLength(100);
    const moved = rows.map((r) => Number(r.split('|')[1].trim().split(/\s+/)[1]));
    const y = rows.map((r) => Number(r.split('|')[1].trim().split(/\s+/)[0]));
    for (const v of y) expect(v > 0 && v < 1).toBe(true);
    const calm = Math.max(...moved.slice(40, 79));
    const fault = Math.max(...moved.slice(80, 82));
    expect(fault).toBeGreaterThan(calm);
    expect(sensorSignal(81)[1] - sensorSignal(79)[1]).toBeGreaterThan(1);
  });

  it('main() runs demo and answers help, version and unknown commands with exit codes', async () => {
    const out: string[] = [];
    expect(await main(['demo', '--events', '3', '--interval-ms', '0'], (s) => out.push(s))).toBe(0);
    expect(out.filter((l) => /^\s+\d+ /.test(l))).toHaveLength(3);
    expect(await main(['--help'], () => {})).toBe(0);
    expect(await main(['--version'], (s) => out.push(s))).toBe(0);
    expect(out[out.length - 1]).toMatch(/^\d+\.\d+\.\d+$/);
    expect(await main(['frobnicate'], () => {})).toBe(2);
    expect(await main([], () => {})).toBe(2);
    expect(await main(['--bogus'], () => {})).toBe(2);
  });
});
