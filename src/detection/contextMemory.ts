import { ModelFormatError } from '../errors.js';
import { integerOption, numberOption } from '../options.js';

/** Options of {@link ContextMemory} (all integers unless noted). */
export interface ContextMemoryOptions {
  /** Bits of the quantised value (1..4): 2^bits levels over [0, 1]. Default 3 (8 levels, as CAD OSE). */
  bits?: number;
  /** Longest left half of a context built by crossing (facts). Default 7. */
  maxLeft?: number;
  /** Active contexts carried into the next step's left half (0..200). Default 15. */
  maxActive?: number;
  /** Readings scored 0 after a score of at least `restThreshold` (CAD's rest period). Default 60. */
  rest?: number;
  /** Score (number in (0, 1]) that starts a rest period. Default 0.75. */
  restThreshold?: number;
  /** Contexts kept at most (1..65000): once full, new contexts still count as new but are not stored. Default 1024. */
  maxContexts?: number;
}

/** Plain-JSON state of a {@link ContextMemory} (exact). */
export interface ContextMemoryJSON {
  contexts: number;
  semis: number;
  /** Per context: left half, right half (bit mask of sensor facts), times active, 1 if zero-level. */
  ctxLeft: number[];
  ctxRight: number[];
  ctxCount: number[];
  ctxZero: number[];
  /** Per left half: its facts (offset and length into `facts`). */
  semiOffset: number[];
  semiLength: number[];
  facts: number[];
  /** Facts of the current left group (sensor facts, then 64 + id of each carried context). */
  left: number[];
  sinceHigh: number;
}

/** Sensor facts are 0..2*bits-1; a carried context with id i is fact NEURON + i. */
const NEURON = 64;
/** Int32 fields per context: right mask | zero-level << 8, times active, next context of the same left half (its left half is the chain it is on). */
const CTX = 3;
/** Int32 fields per left half: first context, facts offset, facts length | sensor mask << 8 | (next half with the same sensor mask + 1) << 16. */
const SEMI = 3;
const EMPTY_I32 = new Int32Array(0);
const EMPTY_U16 = new Uint16Array(0);
/** Scratch shared by every memory (one thread): 1 at each fact of the group being crossed, else 0. */
const MARK = new Uint8Array(NEURON + 65_000);
/** Scratch: the potential new contexts of one step, by their facts. */
const POTENTIALS = new Map<string, [number[], number]>();
/** Scratch: the contexts active at one step. */
const ACTIVE: number[] = [];

/**
 * A contextual anomaly detector after CAD OSE (Smirnov 2016, NAB's Contextual Anomaly Detector,
 * open-source edition), with memory bounded by `maxContexts` and kept in typed arrays.
 *
 * Algorithm, per reading u on [0, 1]:
 * 1. Quantise u to one of 2^bits levels; each bit b of the level is a sensor fact (2b + bit).
 * 2. A context is a pair (left facts, right facts): the left group of the previous step (its
 *    sensor facts and the contexts that were active then) followed by the current sensor facts.
 *    The zero-level context (previous left group, current facts) is looked up and, if new, stored.
 * 3. Predicted contexts are those whose left half lies wholly in the previous left group; those
 *    whose right half also lies wholly in the current facts are active (and counted). Partial
 *    matches of zero-level contexts become potential new contexts (their crossed facts) and are
 *    stored when the zero-level context was new.
 * 4. Score = (1 - active / predicted + new / potential) / 2: the share of the predictions that
 *    failed, plus the share of what was seen that had never been seen.
 * 5. The strongest `maxActive` active contexts and the current facts form the next left group.
 * 6. After a score >= `restThreshold`, the next `rest` readings score 0 (so do the first `rest`).
 * Memory: at most `maxContexts` contexts (12 bytes each) and as many left halves (12 bytes each,
 * plus 2 per fact and an index of at most 8 bytes per half), in four typed arrays that grow on
 * demand (a fresh memory has none) and lose their slack once the memory is full.
 * One deviation from CAD OSE: once the memory is full, a new zero-level context is counted as the
 * one new thing seen and no potential contexts are built (they could not be stored), which also
 * keeps a full memory's step cheap.
 *
 * @example
 * ```ts
 * const memory = new ContextMemory({ rest: 10 });
 * for (const u of [0.1, 0.5, 0.9, 0.1, 0.5, 0.9]) memory.score(u);
 * memory.score(0.3); // a level sequence it has not seen: a high score
 * ```
 */
export class ContextMemory {
  private readonly bits: number;
  private readonly levels: number;
  private readonly maxLeft: number;
  private readonly maxActive: number;
  private readonly rest: number;
  private readonly restThreshold: number;
  private readonly maxContexts: number;
  private nContexts = 0;
  private nSemis = 0;
  private ctx = EMPTY_I32;
  private semi = EMPTY_I32;
  private facts = EMPTY_U16;
  private nFacts = 0;
  /** Per sensor mask, the last left half with that mask (-1 none); a plain array, as small typed arrays cost more to create. */
  private maskHead: number[] = [];
  /** Open-addressing index of the left halves by their facts (slot = half + 1, 0 = free). */
  private table = EMPTY_U16;
  private left: number[] = [];
  private sinceHigh = 0;
  // Per-step values read by visit().
  private current = 0;
  private growing = false;
  private newContext = -1;
  private predicted = 0;

  constructor(options: ContextMemoryOptions = {}, restored?: ContextMemoryJSON) {
    this.bits = integerOption('contextBits', options.bits, 3, 1, 4);
    this.levels = 2 ** this.bits;
    this.maxLeft = integerOption('contextMaxLeft', options.maxLeft, 7, 1);
    this.maxActive = integerOption('contextMaxActive', options.maxActive, 15, 0, 200);
    this.rest = integerOption('contextRest', options.rest, 60, 0);
    this.restThreshold = numberOption('contextRestThreshold', options.restThreshold, 0.75, { above: 0 });
    this.maxContexts = integerOption('maxContexts', options.maxContexts, 1024, 1, 65_000);
    if (restored) this.restore(restored);
  }

  /** Contexts stored so far (at most `maxContexts`). */
  get size(): number {
    return this.nContexts;
  }

  /** Scores one reading u (0..1, clipped) and learns from it; returns a score in [0, 1]. */
  score(u: number): number {
    const top = this.levels - 1;
    const level = Math.min(top, Math.max(0, Math.floor((Number.isFinite(u) ? u : 0) * top)));
    let current = 0;
    for (let b = 0; b < this.bits; b++) current |= 1 << (2 * b + ((level >> b) & 1));
    let newFlag = false;
    let newContext = -1;
    if (this.left.length > 0) {
      const found = this.find(this.left, current);
      if (found >= 0) this.ctx[found * CTX] |= 1 << 8;
      else {
        newFlag = true;
        newContext = this.store(this.left, current, 1);
      }
    }
    // Potential contexts (crossings of the zero-level ones) are built only when the zero-level
    // context was new and could be stored: once the memory is full, that new context is the one
    // new thing counted, and no partial left half is visited.
    const growing = newContext >= 0;
    const zeroKey = growing ? this.left.join(',') + '|' + current : '';
    POTENTIALS.clear();
    if (growing) POTENTIALS.set(zeroKey, [this.left, current]);
    ACTIVE.length = 0;
    this.current = current;
    this.growing = growing;
    this.newContext = newContext;
    this.predicted = 0;
    // Predictions: contexts whose left half lies wholly in the previous left group, whose facts
    // are marked. Without potentials to build, only halves whose sensor facts are among the
    // group's can: the chains of the sub-masks of the group's sensor mask.
    let leftSensor = 0;
    for (const f of this.left) {
      MARK[f] = 1;
      if (f < NEURON) leftSensor |= 1 << f;
    }
    if (growing) for (let s = 0; s < this.nSemis; s++) this.visit(s);
    else if (this.nSemis > 0) {
      for (let sub = leftSensor; ; sub = (sub - 1) & leftSensor) {
        for (let s = this.maskHead[sub]; s >= 0; s = (this.semi[s * SEMI + 2] >>> 16) - 1) this.visit(s);
        if (sub === 0) break;
      }
    }
    for (const f of this.left) MARK[f] = 0;
    const fractionActive = this.predicted > 0 ? ACTIVE.length / this.predicted : 0;
    // The strongest active contexts (most often active; the newer on ties) join the next left group.
    const next: number[] = [];
    for (let b = 0; b < 2 * this.bits; b++) if (current & (1 << b)) next.push(b);
    const carried = this.strongest(ACTIVE).sort((a, b) => a - b);
    for (const c of carried) next.push(NEURON + c);
    this.left = next;
    let added = newFlag ? 1 : 0;
    // Potential contexts are stored unless known (the zero-level one was stored above); when the
    // memory fills up meanwhile they still count as new, they are only not kept.
    for (const [key, [leftFacts, right]] of POTENTIALS) {
      if (key === zeroKey || this.find(leftFacts, right) >= 0) continue;
      this.store(leftFacts, right, 0);
      added++;
    }
    const fractionNew = !newFlag ? 0 : growing ? added / POTENTIALS.size : 1;
    POTENTIALS.clear();
    ACTIVE.length = 0;
    const raw = (1 - fractionActive + fractionNew) / 2;
    const out = this.sinceHigh >= this.rest ? raw : 0;
    this.sinceHigh = raw >= this.restThreshold ? 0 : this.sinceHigh + 1;
    return out;
  }

  /** One left half against the marked group: counts predictions, collects active and potential contexts. */
  private visit(s: number): void {
    const semi = this.semi;
    const o = semi[s * SEMI + 1];
    const len = semi[s * SEMI + 2] & 0xff;
    let crossed = 0;
    for (let i = o; i < o + len; i++) crossed += MARK[this.facts[i]];
    if (crossed === 0) return;
    const full = crossed === len;
    const potential = this.growing && crossed <= this.maxLeft;
    // A partial left half only matters for potential new contexts.
    if (!full && !potential) return;
    const ctx = this.ctx;
    for (let c = semi[s * SEMI]; c >= 0; c = ctx[c * CTX + 2]) {
      if (c === this.newContext) continue;
      const r = ctx[c * CTX] & 0xff;
      const hit = r & this.current;
      if (full) this.predicted++;
      if (hit === 0) continue;
      if (full && hit === r) {
        ctx[c * CTX + 1]++;
        ACTIVE.push(c);
      } else if (potential && ctx[c * CTX] >> 8 === 1) {
        const leftFacts = this.crossedFacts(s);
        POTENTIALS.set(leftFacts.join(',') + '|' + hit, [leftFacts, hit]);
      }
    }
  }

  /** The `maxActive` contexts of `active` ranked highest by (times active, id), in no particular order. */
  private strongest(active: number[]): number[] {
    const k = this.maxActive;
    if (active.length <= k) return active.slice();
    const ctx = this.ctx;
    const above = (a: number, b: number) => ctx[a * CTX + 1] > ctx[b * CTX + 1] || (ctx[a * CTX + 1] === ctx[b * CTX + 1] && a > b);
    // A sorted (weakest first) list of the best k so far; each candidate displaces the weakest.
    const best = active.slice(0, k).sort((a, b) => (above(a, b) ? 1 : -1));
    for (let i = k; i < active.length; i++) {
      const c = active[i];
      if (k === 0 || !above(c, best[0])) continue;
      let j = 1;
      while (j < k && above(c, best[j])) {
        best[j - 1] = best[j];
        j++;
      }
      best[j - 1] = c;
    }
    return best;
  }

  /** The facts of left half s that are in the previous left group (marked in MARK), in order. */
  private crossedFacts(s: number): number[] {
    const out: number[] = [];
    const o = this.semi[s * SEMI + 1];
    const end = o + (this.semi[s * SEMI + 2] & 0xff);
    for (let i = o; i < end; i++) if (MARK[this.facts[i]] === 1) out.push(this.facts[i]);
    return out;
  }

  private hash(facts: ArrayLike<number>, from = 0, to = facts.length): number {
    let h = 0x811c9dc5;
    for (let i = from; i < to; i++) h = Math.imul(h ^ facts[i], 0x01000193);
    return h >>> 0;
  }

  /** The stored left half with exactly these facts, or -1. */
  private findSemi(facts: number[]): number {
    if (this.nSemis === 0) return -1;
    const mask = this.table.length - 1;
    for (let slot = this.hash(facts) & mask; ; slot = (slot + 1) & mask) {
      const s = this.table[slot] - 1;
      if (s < 0) return -1;
      if ((this.semi[s * SEMI + 2] & 0xff) !== facts.length) continue;
      const o = this.semi[s * SEMI + 1];
      let same = true;
      for (let i = 0; i < facts.length && same; i++) same = this.facts[o + i] === facts[i];
      if (same) return s;
    }
  }

  /** The context (left facts, right mask), or -1. */
  private find(leftFacts: number[], right: number): number {
    const s = this.findSemi(leftFacts);
    if (s < 0) return -1;
    for (let c = this.semi[s * SEMI]; c >= 0; c = this.ctx[c * CTX + 2]) if ((this.ctx[c * CTX] & 0xff) === right) return c;
    return -1;
  }

  /** Stores a new context (and its left half if new); returns its id, or -1 when the memory is full. */
  private store(leftFacts: number[], right: number, zero: number): number {
    if (this.nContexts >= this.maxContexts) return -1;
    let s = this.findSemi(leftFacts);
    if (s < 0) s = this.addSemi(leftFacts);
    const c = this.nContexts++;
    if ((c + 1) * CTX > this.ctx.length) this.ctx = grow(this.ctx, Math.min(this.maxContexts, Math.max(4, 2 * c)) * CTX);
    const i = c * CTX;
    this.ctx[i] = right | (zero << 8);
    this.ctx[i + 1] = 0;
    this.ctx[i + 2] = this.semi[s * SEMI];
    this.semi[s * SEMI] = c;
    // Full: no half or fact can be added any more, so the growth slack goes.
    if (this.nContexts === this.maxContexts) {
      this.semi = this.semi.slice(0, this.nSemis * SEMI);
      this.facts = this.facts.slice(0, this.nFacts);
    }
    return c;
  }

  private addSemi(facts: number[]): number {
    const s = this.nSemis++;
    if ((s + 1) * SEMI > this.semi.length) this.semi = grow(this.semi, Math.min(this.maxContexts, Math.max(4, Math.ceil(1.5 * s))) * SEMI);
    while (this.nFacts + facts.length > this.facts.length) this.facts = grow(this.facts, Math.max(32, Math.ceil(this.facts.length * 1.5)));
    this.semi[s * SEMI] = -1;
    this.semi[s * SEMI + 1] = this.nFacts;
    this.semi[s * SEMI + 2] = facts.length;
    this.facts.set(facts, this.nFacts);
    this.nFacts += facts.length;
    this.index(s);
    if (2 * this.nSemis > this.table.length) this.rehash(Math.max(16, this.table.length * 2));
    else this.insert(s);
    return s;
  }

  /** Adds half s's sensor mask and the next half of its mask's chain to its facts-length field, and puts it at the head of that chain. */
  private index(s: number): void {
    if (this.maskHead.length === 0) this.maskHead = new Array<number>(1 << (2 * this.bits)).fill(-1);
    const o = this.semi[s * SEMI + 1];
    const len = this.semi[s * SEMI + 2] & 0xff;
    let sensor = 0;
    for (let i = o; i < o + len; i++) if (this.facts[i] < NEURON) sensor |= 1 << this.facts[i];
    this.semi[s * SEMI + 2] = len | (sensor << 8) | ((this.maskHead[sensor] + 1) << 16);
    this.maskHead[sensor] = s;
  }

  private insert(s: number): void {
    const mask = this.table.length - 1;
    const o = this.semi[s * SEMI + 1];
    let slot = this.hash(this.facts, o, o + (this.semi[s * SEMI + 2] & 0xff)) & mask;
    while (this.table[slot] !== 0) slot = (slot + 1) & mask;
    this.table[slot] = s + 1;
  }

  private rehash(size: number): void {
    this.table = new Uint16Array(size);
    for (let s = 0; s < this.nSemis; s++) this.insert(s);
  }

  /** The state as plain JSON; `new ContextMemory(options, json)` continues exactly from it. */
  toJSON(): ContextMemoryJSON {
    const ctx = Array.from({ length: this.nContexts }, (_, c) => c * CTX);
    const ctxLeft = new Array<number>(this.nContexts);
    for (let s = 0; s < this.nSemis; s++) for (let c = this.semi[s * SEMI]; c >= 0; c = this.ctx[c * CTX + 2]) ctxLeft[c] = s;
    const semis = Array.from({ length: this.nSemis }, (_, s) => s * SEMI);
    return {
      contexts: this.nContexts,
      semis: this.nSemis,
      ctxLeft,
      ctxRight: ctx.map((i) => this.ctx[i] & 0xff),
      ctxCount: ctx.map((i) => this.ctx[i + 1]),
      ctxZero: ctx.map((i) => this.ctx[i] >> 8),
      semiOffset: semis.map((i) => this.semi[i + 1]),
      semiLength: semis.map((i) => this.semi[i + 2] & 0xff),
      facts: Array.from(this.facts.subarray(0, this.nFacts)),
      left: this.left.slice(),
      sinceHigh: this.sinceHigh,
    };
  }

  private restore(json: ContextMemoryJSON): void {
    const ok =
      json && Number.isInteger(json.contexts) && Number.isInteger(json.semis) && json.contexts <= this.maxContexts && json.semis <= json.contexts &&
      [json.ctxLeft, json.ctxRight, json.ctxCount, json.ctxZero].every((a) => Array.isArray(a) && a.length === json.contexts) &&
      [json.semiOffset, json.semiLength].every((a) => Array.isArray(a) && a.length === json.semis) && Array.isArray(json.facts) && Array.isArray(json.left) &&
      json.ctxLeft.every((l) => Number.isInteger(l) && l >= 0 && l < json.semis) &&
      json.semiLength.every((n) => Number.isInteger(n) && n >= 0 && n < 256) &&
      json.semiOffset.every((o, i) => Number.isInteger(o) && o >= 0 && o + json.semiLength[i] <= json.facts.length) &&
      json.facts.concat(json.left).every((f) => Number.isInteger(f) && f >= 0 && f < NEURON + this.maxContexts) &&
      json.ctxRight.every((r) => Number.isInteger(r) && r > 0 && r < 1 << (2 * this.bits)) &&
      json.ctxZero.every((z) => z === 0 || z === 1) && json.ctxCount.every((n) => Number.isInteger(n) && n >= 0 && n < 2 ** 31) &&
      Number.isInteger(json.sinceHigh) && json.sinceHigh >= 0;
    if (!ok) throw new ModelFormatError('SEQ_STATE_FORMAT', `Context-memory state is malformed or holds more than maxContexts (${this.maxContexts}) contexts`, { maxContexts: this.maxContexts });
    this.nContexts = json.contexts;
    this.nSemis = json.semis;
    this.ctx = new Int32Array(Math.max(4, json.contexts) * CTX);
    this.semi = new Int32Array(Math.max(4, json.semis) * SEMI);
    this.facts = Uint16Array.from(json.facts);
    this.nFacts = json.facts.length;
    this.maskHead = [];
    for (let s = 0; s < this.nSemis; s++) {
      this.semi[s * SEMI] = -1;
      this.semi[s * SEMI + 1] = json.semiOffset[s];
      this.semi[s * SEMI + 2] = json.semiLength[s];
      this.index(s);
    }
    // Chains are rebuilt in creation order, so they come out as store() and addSemi() built them.
    for (let c = 0; c < this.nContexts; c++) {
      const s = json.ctxLeft[c];
      const i = c * CTX;
      this.ctx[i] = json.ctxRight[c] | (json.ctxZero[c] << 8);
      this.ctx[i + 1] = json.ctxCount[c];
      this.ctx[i + 2] = this.semi[s * SEMI];
      this.semi[s * SEMI] = c;
    }
    let size = 16;
    while (size < 2 * this.nSemis) size *= 2;
    this.table = EMPTY_U16;
    if (this.nSemis > 0) this.rehash(size);
    this.left = json.left.slice();
    this.sinceHigh = json.sinceHigh;
  }
}

function grow<T extends Int32Array | Uint16Array>(a: T, n: number): T {
  const b = new (a.constructor as new (n: number) => T)(n);
  b.set(a);
  return b;
}
