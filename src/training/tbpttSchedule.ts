import type { TbpttEngine } from './tbpttEngine.js';

/** Where the window due now lies, in global step numbers, and its first slot in the k2 ring. */
export interface TbpttWindowBounds {
  /** Global step number of the window's first step. */
  start: number;
  /** Steps in the window: min(k2, steps since reset). */
  length: number;
  /** Global step number of the first step whose target counts in the loss. */
  lossStart: number;
  /** Steps whose targets count: min(k1, steps since reset). */
  lossLength: number;
  /** Ring slot of the window's first step. */
  first: number;
}

/**
 * The step counting both TBPTT engines share (Williams & Peng's k1, k2): a global step count
 * drives the every-k1 update schedule, a count since the last reset bounds the window, and the
 * k2-slot ring that holds the recent steps is indexed from them.
 *
 * @example
 * ```ts
 * const schedule = new TbpttSchedule(4, 8);
 * for (let t = 0; t < 4; t++) schedule.advance();
 * schedule.windowDue();       // true: the 4th step
 * schedule.window().length;   // 4 (only 4 steps so far)
 * ```
 */
export class TbpttSchedule {
  /** Steps taken since creation (drives the every-k1 schedule). */
  steps = 0;
  /** Steps taken since creation or the last reset (bounds the window). */
  stepsSinceReset = 0;

  constructor(
    /** Update every k1 steps. */
    readonly k1: number,
    /** Backpropagate through the last k2 steps. */
    readonly k2: number,
  ) {}

  /** Ring slot the next step writes. */
  get nextSlot(): number {
    return this.steps % this.k2;
  }

  /** Ring slot of the latest step, or -1 when nothing was stepped since the last reset. */
  get lastSlot(): number {
    return this.stepsSinceReset === 0 ? -1 : (this.steps - 1) % this.k2;
  }

  /** Counts one step. */
  advance(): void {
    this.steps++;
    this.stepsSinceReset++;
  }

  /** Forgets the history: the next window starts after this point. */
  reset(): void {
    this.stepsSinceReset = 0;
  }

  /** True right after every k1-th step (global count), when something was stepped since the last reset. */
  windowDue(): boolean {
    return this.steps > 0 && this.stepsSinceReset > 0 && this.steps % this.k1 === 0;
  }

  /** Bounds of the window ending at the latest step. */
  window(): TbpttWindowBounds {
    const length = Math.min(this.k2, this.stepsSinceReset);
    const lossLength = Math.min(this.k1, this.stepsSinceReset);
    const start = this.steps - length;
    return { start, length, lossStart: this.steps - lossLength, lossLength, first: start % this.k2 };
  }
}

/** What an engine implements itself: everything but the schedule's counters and `windowDue`. */
export type TbpttEngineBody = Omit<TbpttEngine, 'k1' | 'k2' | 'steps' | 'stepsSinceReset' | 'windowDue'>;

/**
 * A {@link TbpttEngine} from an engine's own methods and the schedule it advances: `k1`, `k2`,
 * `steps`, `stepsSinceReset` and `windowDue()` read the schedule, live.
 *
 * @example
 * ```ts
 * const schedule = new TbpttSchedule(k1, k2);
 * return engineWithSchedule(schedule, { kind: 'fused', kernel: 'js', batch: 1, step, labelLast, backward, reset, state, dispose });
 * ```
 */
export function engineWithSchedule(schedule: TbpttSchedule, body: TbpttEngineBody): TbpttEngine {
  return {
    ...body,
    k1: schedule.k1,
    k2: schedule.k2,
    get steps() {
      return schedule.steps;
    },
    get stepsSinceReset() {
      return schedule.stepsSinceReset;
    },
    windowDue: () => schedule.windowDue(),
  };
}
