import { ModelFormatError } from '../errors.js';
import { integerOption } from '../options.js';

/** Plain-JSON state of a {@link LevelNovelty}: per bin, 1 if a reading has landed in it. */
export interface LevelNoveltyJSON {
  visited: number[];
}

/**
 * Which levels of a stream's value range have been visited: the normalised range [0, 1] cut into
 * `bins` equal bins, each marked once a reading lands in it. A reading is at a novel level when
 * its bin and both neighbours were never visited, i.e. no earlier reading came within about
 * 1/bins of it (3% of the range with the default 32 bins).
 *
 * It generalises the range excursion (a new maximum or minimum) to the inside of the range: a
 * stream that has only ever sat near 0 and near 1 and now holds at 0.5 is doing something it has
 * never done, however well a forecaster tracks it step by step. The memory is one byte per bin.
 * On a scale that grows with the stream (no known range), `rescale` carries the marks over.
 *
 * @example
 * ```ts
 * const levels = new LevelNovelty(32);
 * levels.visit(0.1);
 * levels.isNovel(0.11); // false: 0.11 is in the bin of 0.1
 * levels.isNovel(0.5);  // true: nothing was ever near 0.5
 * ```
 */
export class LevelNovelty {
  private readonly visited: Uint8Array;

  /** `bins`: how finely the range [0, 1] is cut (integer >= 1). */
  constructor(bins: number, restored?: LevelNoveltyJSON) {
    this.visited = new Uint8Array(integerOption('levelBins', bins, undefined, 1));
    if (restored) {
      if (!Array.isArray(restored.visited)) throw new ModelFormatError('SEQ_STATE_FORMAT', 'Level-novelty state has no visited array', {});
      if (restored.visited.length !== bins) throw new ModelFormatError('SEQ_STATE_FORMAT', `Level-novelty state has ${restored.visited.length} bins, the detector's option levelBins is ${bins}`, { bins, received: restored.visited.length });
      this.visited.set(restored.visited);
    }
  }

  private bin(u: number): number {
    const n = this.visited.length;
    return Math.min(n - 1, Math.max(0, Math.floor(u * n)));
  }

  /** True when neither u's bin nor its neighbours were ever visited (u on the 0..1 scale; outside it counts as the edge bin). */
  isNovel(u: number): boolean {
    const b = this.bin(u);
    const v = this.visited;
    return v[b] === 0 && (b === 0 || v[b - 1] === 0) && (b === v.length - 1 || v[b + 1] === 0);
  }

  /** Marks u's bin as visited. */
  visit(u: number): void {
    this.visited[this.bin(u)] = 1;
  }

  /**
   * Re-expresses the visited levels after the scale's range grew from [oldMin, oldMax] to
   * [newMin, newMax] (a stream without a known range, normalised by the range seen so far): every
   * new bin that overlaps a visited old one is marked, so a level seen before stays familiar.
   * With oldMin === oldMax (every earlier reading equal), that one level is marked.
   */
  rescale(oldMin: number, oldMax: number, newMin: number, newMax: number): void {
    const n = this.visited.length;
    const span = newMax - newMin;
    if (!(span > 0) || !Number.isFinite(oldMin) || !Number.isFinite(oldMax)) return;
    const at = (v: number) => (v - newMin) / span;
    const old = Uint8Array.from(this.visited);
    this.visited.fill(0);
    if (!(oldMax > oldMin)) {
      this.visit(at(oldMin));
      return;
    }
    const w = (oldMax - oldMin) / n;
    for (let i = 0; i < n; i++) {
      if (old[i] === 0) continue;
      const last = this.bin(at(oldMin + (i + 1) * w));
      for (let b = this.bin(at(oldMin + i * w)); b <= last; b++) this.visited[b] = 1;
    }
  }

  /** Marks every bin visited (no level is novel any more). */
  visitAll(): void {
    this.visited.fill(1);
  }

  toJSON(): LevelNoveltyJSON {
    return { visited: Array.from(this.visited) };
  }
}
