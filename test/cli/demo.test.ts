import { describe, expect, it } from 'vitest';
import { demoSummary, FAULT_AT, FAULT_LENGTH, runDemo, sensorSignal } from '../../src/cli/demo.js';
import { main } from '../../src/cli/main.js';

const rowsOf = (lines: string[]) => lines.filter((l) => /^\s+\d+ /.test(l));
const errorOf = (row: string) => Number(row.split('|')[1].trim().split(/\s+/)[0]);

describe('demo (npm start)', () => {
  it('learns the signal online and the injected fault stands out in the prediction error', async () => {
    const lines: string[] = [];
    await runDemo({ events: 400, intervalMs: 0, print: (l) => lines.push(l) });
    const rows = rowsOf(lines);
    expect(rows).toHaveLength(400);
    const errors = rows.map(errorOf);
    const faultStart = Math.floor(400 * FAULT_AT);
    const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
    const early = mean(errors.slice(1, 41));
    const beforeFault = errors.slice(faultStart - 40, faultStart);
    // It learns: the error before the fault is well below the error at the start.
    expect(mean(beforeFault)).toBeLessThan(early / 2);
    // The fault is worse than anything in the calm stretch before it.
    expect(Math.max(...errors.slice(faultStart, faultStart + FAULT_LENGTH))).toBeGreaterThan(2 * Math.max(...beforeFault));
    expect(rows[faultStart]).toContain('<- fault');
    expect(lines[lines.length - 1]).toMatch(/^mean error/);
    // It says what the error is measured in, and marks where the fault starts and ends.
    expect(lines.some((l) => /prediction error = distance .* units/.test(l))).toBe(true);
    const start = lines.findIndex((l) => l.includes(`fault starts at event ${faultStart}`));
    const end = lines.findIndex((l) => l.includes(`fault ends after event ${faultStart + FAULT_LENGTH - 1}`));
    expect(start).toBeGreaterThan(0);
    expect(lines[start + 1]).toBe(rows[faultStart]);
    expect(lines[end - 1]).toBe(rows[faultStart + FAULT_LENGTH - 1]);
    expect(lines[end + 1]).toBe(rows[faultStart + FAULT_LENGTH]);
  });

  it('short runs print a summary without NaN, and a fault cut short by the end is marked to the end', async () => {
    for (const events of [1, 2, 10, 45]) {
      const lines: string[] = [];
      await runDemo({ events, intervalMs: 0, print: (l) => lines.push(l) });
      expect(rowsOf(lines)).toHaveLength(events);
      const summary = lines[lines.length - 1];
      expect(summary).toMatch(/^mean error/);
      expect(summary).not.toMatch(/NaN|Infinity/);
    }
    const ten: string[] = [];
    await runDemo({ events: 10, intervalMs: 0, print: (l) => ten.push(l) });
    expect(ten.some((l) => l.includes('fault starts at event 8: vib +1.5 for 2 events'))).toBe(true);
    expect(ten.some((l) => l.includes('fault ends after event 9'))).toBe(true);
    expect(demoSummary([NaN, 0.9, 0.5, 0.1, 1.2], 4)).toBe('mean error, first 3 events: 0.500; 3 events before the fault: 0.500; worst during the fault: 1.200');
  });

  it('injects the fault only where it says', () => {
    expect(sensorSignal(100, 100)[1] - sensorSignal(100, 500)[1]).toBeCloseTo(1.5, 10);
    expect(sensorSignal(100 + FAULT_LENGTH, 100)).toEqual(sensorSignal(100 + FAULT_LENGTH, 500));
  });

  it('main() runs demo and answers help, version and unknown commands with exit codes', async () => {
    const out: string[] = [];
    expect(await main(['demo', '--events', '3', '--interval-ms', '0'], (s) => out.push(s))).toBe(0);
    expect(rowsOf(out)).toHaveLength(3);
    expect(await main(['--help'], () => {})).toBe(0);
    expect(await main(['--version'], (s) => out.push(s))).toBe(0);
    expect(out[out.length - 1]).toMatch(/^\d+\.\d+\.\d+$/);
    expect(await main(['frobnicate'], () => {})).toBe(2);
    expect(await main([], () => {})).toBe(2);
    expect(await main(['--bogus'], () => {})).toBe(2);
    expect(await main(['demo', '--events', 'many'], () => {})).toBe(2);
    expect(await main(['demo', '--interval-ms', '-1'], () => {})).toBe(2);
  });
});
