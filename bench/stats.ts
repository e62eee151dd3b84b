/** Percentile of a sample (nearest rank), e.g. `percentile(us, 0.99)`. */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
}

/** Times `fn` once per call, in microseconds, after `warmup` untimed calls. */
export function timeEach(fn: (i: number) => void, count: number, warmup: number): number[] {
  for (let i = 0; i < warmup; i++) fn(i);
  const us: number[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const t0 = process.hrtime.bigint();
    fn(warmup + i);
    us[i] = Number(process.hrtime.bigint() - t0) / 1000;
  }
  return us;
}

/** Prints rows as an aligned text table. */
export function printTable(header: string[], rows: Array<Array<string | number>>): void {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => r[i].length)));
  for (const [n, r] of cells.entries()) {
    console.log(r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  '));
    if (n === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  }
}
