import type { KeyTable } from './keyTable.js';
import type { KeyedProgress } from './keyedStats.js';
import type { KeyedStep } from './keyedStep.js';

/**
 * The block fast path's stepper of a keyed table: rows of held keys with no queued events, stepped
 * from the caller's buffers with the same bookkeeping as queuing and stepping them (see
 * {@link run}), booked into the table's shared {@link KeyedProgress}. It remembers its last call,
 * so the same rows again on an unchanged LRU order skip the per-row bookkeeping.
 *
 * @example
 * ```ts
 * const held = new HeldStep(step, table, progress, { profile: false, idleTtlMs: Infinity });
 * if (!held.run(rows, reset, n, x, y, null, undefined, 0, heldRows.token)) stepTheCheckedWay();
 * ```
 */
export class HeldStep<K> {
  // The last run: its rows' token (HeldRows.token), row count and the LRU stamp after it.
  private token = -1;
  private n = 0;
  private stamp = -1;

  constructor(
    private readonly step: KeyedStep,
    private readonly table: KeyTable<K>,
    private readonly st: KeyedProgress,
    private readonly o: { readonly profile: boolean; readonly idleTtlMs: number },
  ) {}

  /**
   * Steps `n` distinct rows of held keys with no queued events straight from the caller's
   * buffers (the block fast path: no queue slot, no per-row check; the caller checked the
   * offsets, `offsets[from + j]`). The inputs `x` are staged and checked as a whole
   * (`KeyedStep.stage`): false, with nothing changed, when one is not finite. Then the same steps
   * as queuing and stepping the rows: each touched and counted as queued in order, idle keys
   * evicted (these rows are safe: they have work), the step, then each row booked as stepped
   * (offset, and a reset or delete that an `onEvict` callback asked for meanwhile). `token` is
   * the `HeldRows.token` of `rows`: the same rows again on an unchanged LRU order skip the
   * touches and the booking, which would change nothing. Returns the buffer the outputs went
   * to: `y`, or with `y` null (and `h` null) a fresh one (`KeyedStep.runFresh`); with `lendTop`
   * (`emit: 'all'`, `h` null) the head's outputs go into `y` and the rows' top-layer `h` comes back
   * as a fresh buffer (`KeyedStep.runLendTop`); null when a value is not finite.
   */
  run(rows: Int32Array, reset: Uint8Array, n: number, x: Float32Array, y: Float32Array | null, h: Float32Array | null, offsets: ArrayLike<number> | undefined, from: number, token: number, lendTop = false): Float32Array | null {
    const t0 = this.o.profile ? performance.now() : 0;
    let staged = this.step.stage(x, n);
    if (staged === null) return null;
    const table = this.table;
    // The same rows as the last call, on an LRU order nothing changed since and with no idle
    // clock: touching them again would leave every list and counter as it is (and between the
    // touch and the booking below no callback can run), so the per-row bookkeeping is skipped.
    const again = token === this.token && from === 0 && n === this.n && table.lruStamp === this.stamp && this.o.idleTtlMs === Infinity;
    if (!again) {
      for (let j = 0; j < n; j++) {
        const r = rows[j];
        table.touch(r);
        table.queued(r); // no reset waits: the row had no queued events
      }
      const generation = table.generation;
      table.evictIdle();
      // An onEvict callback that added a key may have moved kernel memory: stage again.
      if (table.generation !== generation) staged = this.step.stage(x, n) as Float32Array;
    }
    const t1 = this.o.profile ? performance.now() : 0;
    let out = y;
    if (out === null) out = this.step.runFresh(rows, reset, n, staged);
    else if (lendTop) out = this.step.runLendTop(rows, reset, n, staged, out);
    else this.step.run(rows, reset, n, staged, out, h);
    if (this.o.profile) this.st.stepMs += performance.now() - t1;
    this.st.steps++;
    this.st.events += n;
    if (offsets === undefined) {
      if (!again) for (let j = 0; j < n; j++) table.stepped(rows[j], Number.NaN);
    } else {
      if (again) for (let j = 0; j < n; j++) table.steppedOffset(rows[j], offsets[from + j]);
      else for (let j = 0; j < n; j++) table.stepped(rows[j], offsets[from + j]);
      const off = offsets[from + n - 1];
      if (!(this.st.offset >= off)) this.st.offset = off;
    }
    this.token = from === 0 ? token : -1;
    this.n = n;
    this.stamp = table.lruStamp;
    if (this.o.profile) this.st.flushMs += performance.now() - t0;
    return out;
  }
}
