/** Percentile of a sample (nearest rank), e.g. `percentile(us, 0.99)`. */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
}

/** Percentile of samples each counted `weights[i]` times (nearest rank). */
export function weightedPercentile(values: readonly number[], weights: readonly number[], p: number): number {
  const order = values.map((_, i) => i).sort((a, b) => values[a] - values[b]);
  const total = weights.reduce((a, b) => a + b, 0);
  const rank = Math.max(1, Math.ceil(p * total));
  let seen = 0;
  for (const i of order) {
    seen += weights[i];
    if (seen >= rank) return values[i];
  }
  return values[order[order.length - 1]];
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

/**
 * Interleaved rounds: each round calls every contender once, in an order that rotates every round,
 * timing each call (process CPU µs and wall ms). Neighbouring calls see the same moment of a shared
 * machine, so per-round ratios ({@link medianRatio}) move far less than per-pass ones.
 */
export async function interleavedRounds(steps: Array<() => unknown>, rounds: number): Promise<{ cpu: number[][]; wall: number[][] }> {
  const cpu: number[][] = steps.map(() => []);
  const wall: number[][] = steps.map(() => []);
  for (let i = 0; i < rounds; i++) {
    for (let k = 0; k < steps.length; k++) {
      const j = (i + k) % steps.length;
      const w0 = performance.now();
      const c0 = process.cpuUsage();
      await steps[j]();
      const c = process.cpuUsage(c0);
      wall[j].push(performance.now() - w0);
      cpu[j].push(c.user + c.system);
    }
  }
  return { cpu, wall };
}

/** Median over rounds of `a[i] / b[i]`. */
export function medianRatio(a: readonly number[], b: readonly number[]): number {
  const q = a.map((v, i) => v / b[i]).sort((u, v) => u - v);
  return q[q.length >> 1];
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

/**
 * Rate of the best of several ~100 ms slices over `seconds` (the machine is shared: the best slice
 * is the least disturbed), after 3 warm-up calls. `slice` does some work and returns how many
 * units (events, steps) it did.
 */
export function bestSliceRate(seconds: number, slice: () => number): number {
  for (let i = 0; i < 3; i++) slice();
  let best = 0;
  const end = performance.now() + seconds * 1000;
  do {
    let n = 0;
    const t0 = performance.now();
    let t = t0;
    while (n === 0 || t - t0 < 100) {
      n += slice();
      t = performance.now();
    }
    best = Math.max(best, n / ((t - t0) / 1000));
  } while (performance.now() < end);
  return best;
}
