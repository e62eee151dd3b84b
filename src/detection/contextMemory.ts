import { integerOption, numberOption } from '../options.js';
import { checkContextMemoryJSON, CONTEXT_NEXT_SHIFT, contextMemoryToJSON, HALF_FIELDS, type ContextMemoryJSON } from './contextMemoryState.js';
import { bucketsFor, grown, hashFacts } from './contextMemoryArrays.js';
import { ContextPotentials } from './contextPotentials.js';
import { strongestContexts } from './strongestContexts.js';

export type { ContextMemoryJSON } from './contextMemoryState.js';

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

/** Sensor facts are 0..2*bits-1; a carried context with id i is fact NEURON + i. */
const NEURON = 64;
/**
 * Per context one Int32 link word, right mask | zero-level << 8 | (next context of the same left
 * half + 1) << 16 (its left half is the chain it is on), and its times active in a separate array:
 * walking a half's chain reads 4 bytes per context (a 10,000-key stream finds them out of cache).
 */
const NEXT_SHIFT = CONTEXT_NEXT_SHIFT;
/**
 * Int32 fields per left half: first context, facts offset, facts length | (OR of the right masks
 * of its zero-level contexts) << 8 | (next half in the same last-fact bucket + 1) << 16.
 */
const SEMI = HALF_FIELDS;
const MAX_CONTEXTS = 65_000;
const EMPTY_I32 = new Int32Array(0);
const EMPTY_U16 = new Uint16Array(0);
// Scratch shared by every memory (one thread; a step never yields).
/** 1 at each fact of the group being crossed, else 0. */
const MARK = new Uint8Array(NEURON + MAX_CONTEXTS);
/** 1 at each last-fact bucket already walked this step. */
const SEEN = new Uint8Array(bucketsFor(MAX_CONTEXTS));
/** The contexts active at one step, and the strongest of them. */
const ACTIVE = new Int32Array(MAX_CONTEXTS);
const BEST = new Int32Array(200);
/** The potential new contexts of one step (the zero-level one first), and its left group at 0. */
const POTENTIALS = new ContextPotentials();

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
 * Memory: at most `maxContexts` contexts (8 bytes each) and as many left halves (12 bytes each,
 * plus 2 per fact, an index of at most 8 bytes per half and 2 bytes per 4 contexts of last-fact
 * buckets), in typed arrays that grow on demand (a fresh memory has none) and lose their slack
 * once the memory is full. Facts within a half ascend, so a half lies wholly in a group only if
 * its last fact does: when no potential contexts are built, only the buckets of the group's
 * facts are walked.
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
  private counts = EMPTY_I32;
  private semi = EMPTY_I32;
  private facts = EMPTY_U16;
  private nFacts = 0;
  /** Per last-fact bucket, the newest left half in it + 1 (0 none). */
  private heads = EMPTY_U16;
  /** Open-addressing index of the left halves by their facts (slot = half + 1, 0 = free). */
  private table = EMPTY_U16;
  private left: number[] = [];
  private sinceHigh = 0;
  // Per-step values read by the visits.
  private current = 0;
  private newContext = -1;
  private predicted = 0;
  private nActive = 0;

  constructor(options: ContextMemoryOptions = {}, restored?: ContextMemoryJSON) {
    this.bits = integerOption('contextBits', options.bits, 3, 1, 4);
    this.levels = 2 ** this.bits;
    this.maxLeft = integerOption('contextMaxLeft', options.maxLeft, 7, 1);
    this.maxActive = integerOption('contextMaxActive', options.maxActive, 15, 0, 200);
    this.rest = integerOption('contextRest', options.rest, 60, 0);
    this.restThreshold = numberOption('contextRestThreshold', options.restThreshold, 0.75, { above: 0 });
    this.maxContexts = integerOption('maxContexts', options.maxContexts, 1024, 1, MAX_CONTEXTS);
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
    const left = this.left;
    const nLeft = left.length;
    const pot = POTENTIALS;
    pot.clear();
    pot.reserve(nLeft);
    for (let i = 0; i < nLeft; i++) pot.facts[i] = left[i];
    pot.commit(nLeft);
    let newFlag = false;
    let newContext = -1;
    if (nLeft > 0) {
      const s = this.findSemi(pot.facts, 0, nLeft);
      const found = s >= 0 ? this.onChain(s, current) : -1;
      if (found >= 0) {
        this.ctx[found] |= 1 << 8;
        this.semi[s * SEMI + 2] |= current << 8;
      } else {
        newFlag = true;
        newContext = this.store(pot.facts, 0, nLeft, current, 1, s);
      }
    }
    // Potential contexts (crossings of the zero-level ones) are built only when the zero-level
    // context was new and could be stored: once the memory is full, that new context is the one
    // new thing counted, and no partial left half is visited.
    const growing = newContext >= 0;
    if (growing) pot.add(0, nLeft, current);
    this.current = current;
    this.newContext = newContext;
    this.predicted = 0;
    this.nActive = 0;
    for (let i = 0; i < nLeft; i++) MARK[left[i]] = 1;
    if (growing) this.visitAll();
    else if (this.nSemis > 0) this.visitFull();
    for (let i = 0; i < nLeft; i++) MARK[left[i]] = 0;
    const fractionActive = this.predicted > 0 ? this.nActive / this.predicted : 0;
    // The strongest active contexts (most often active; the newer on ties) join the next left group.
    let n = 0;
    for (let b = 0; b < 2 * this.bits; b++) if (current & (1 << b)) left[n++] = b;
    const carried = strongestContexts(this.counts, ACTIVE, this.nActive, this.maxActive, BEST);
    for (let i = 0; i < carried; i++) left[n++] = NEURON + BEST[i];
    left.length = n;
    let added = newFlag ? 1 : 0;
    // Potential contexts are stored unless known (the zero-level one, first, was stored above);
    // when the memory fills up meanwhile they still count as new, they are only not kept.
    for (let p = 1; p < pot.count; p++) {
      const o = pot.off[p];
      const len = pot.len[p];
      const right = pot.right[p];
      const s = this.findSemi(pot.facts, o, len);
      if (s >= 0 && this.onChain(s, right) >= 0) continue;
      this.store(pot.facts, o, len, right, 0, s);
      added++;
    }
    const fractionNew = !newFlag ? 0 : growing ? added / pot.count : 1;
    const raw = (1 - fractionActive + fractionNew) / 2;
    const out = this.sinceHigh >= this.rest ? raw : 0;
    this.sinceHigh = raw >= this.restThreshold ? 0 : this.sinceHigh + 1;
    return out;
  }

  /** Without potentials: every half wholly in the marked group, found through the buckets of the group's facts. */
  private visitFull(): void {
    const left = this.left;
    const semi = this.semi;
    const facts = this.facts;
    const heads = this.heads;
    const mask = heads.length - 1;
    for (let i = 0; i < left.length; i++) {
      const b = left[i] & mask;
      if (SEEN[b] === 1) continue;
      SEEN[b] = 1;
      for (let s = heads[b] - 1; s >= 0; s = (semi[s * SEMI + 2] >>> 16) - 1) {
        const o = semi[s * SEMI + 1];
        const end = o + (semi[s * SEMI + 2] & 0xff) - 1;
        // The last fact first: it tells the bucket's other facts apart.
        if (end < o || MARK[facts[end]] === 0) continue;
        let k = o;
        while (k < end && MARK[facts[k]] === 1) k++;
        if (k === end) this.predict(s);
      }
    }
    for (let i = 0; i < left.length; i++) SEEN[left[i] & mask] = 0;
  }

  /** With potentials: every half, in order (the order potentials are met in gives their ids). */
  private visitAll(): void {
    const semi = this.semi;
    const facts = this.facts;
    const current = this.current;
    for (let s = 0; s < this.nSemis; s++) {
      const o = semi[s * SEMI + 1];
      const len = semi[s * SEMI + 2] & 0xff;
      if (len === 0) continue;
      if (((semi[s * SEMI + 2] >>> 8) & current) !== 0) this.cross(s);
      else {
        // No zero-level context of it meets the current facts: only a whole match counts.
        let k = o;
        while (k < o + len && MARK[facts[k]] === 1) k++;
        if (k === o + len) this.predict(s);
      }
    }
  }

  /** Left half s lies wholly in the group: its contexts are predicted, those whose right half is current are active. */
  private predict(s: number): void {
    const ctx = this.ctx;
    const current = this.current;
    for (let c = this.semi[s * SEMI]; c >= 0; c = (ctx[c] >>> NEXT_SHIFT) - 1) {
      if (c === this.newContext) continue;
      this.predicted++;
      const r = ctx[c] & 0xff;
      if ((r & current) === r && r !== 0) {
        this.counts[c]++;
        ACTIVE[this.nActive++] = c;
      }
    }
  }

  /** One left half against the marked group: counts predictions, collects active and potential contexts. */
  private cross(s: number): void {
    const semi = this.semi;
    const facts = this.facts;
    const o = semi[s * SEMI + 1];
    const len = semi[s * SEMI + 2] & 0xff;
    let crossed = 0;
    for (let i = o; i < o + len; i++) crossed += MARK[facts[i]];
    if (crossed === 0) return;
    const full = crossed === len;
    const potential = crossed <= this.maxLeft;
    // A partial left half only matters for potential new contexts.
    if (!full && !potential) return;
    const ctx = this.ctx;
    const pot = POTENTIALS;
    let at = -1;
    for (let c = semi[s * SEMI]; c >= 0; c = (ctx[c] >>> NEXT_SHIFT) - 1) {
      if (c === this.newContext) continue;
      const r = ctx[c] & 0xff;
      const hit = r & this.current;
      if (full) this.predicted++;
      if (hit === 0) continue;
      if (full && hit === r) {
        this.counts[c]++;
        ACTIVE[this.nActive++] = c;
      } else if (potential && ((ctx[c] >> 8) & 1) === 1) {
        // The half's crossed facts, written once for all its potentials.
        if (at < 0) {
          at = pot.reserve(crossed);
          for (let i = o, j = at; i < o + len; i++) if (MARK[facts[i]] === 1) pot.facts[j++] = facts[i];
          pot.commit(crossed);
        }
        pot.add(at, crossed, hit);
      }
    }
  }

  /** The context of half s with this right mask, or -1. */
  private onChain(s: number, right: number): number {
    for (let c = this.semi[s * SEMI]; c >= 0; c = (this.ctx[c] >>> NEXT_SHIFT) - 1) if ((this.ctx[c] & 0xff) === right) return c;
    return -1;
  }

  /** The stored left half with exactly the facts a[o .. o+len), or -1. */
  private findSemi(a: Uint16Array, o: number, len: number): number {
    if (this.nSemis === 0) return -1;
    const mask = this.table.length - 1;
    for (let slot = hashFacts(a, o, o + len) & mask; ; slot = (slot + 1) & mask) {
      const s = this.table[slot] - 1;
      if (s < 0) return -1;
      if ((this.semi[s * SEMI + 2] & 0xff) !== len) continue;
      const so = this.semi[s * SEMI + 1];
      let same = true;
      for (let i = 0; i < len && same; i++) same = this.facts[so + i] === a[o + i];
      if (same) return s;
    }
  }

  /** Stores a new context on half s (-1: add the half a[o .. o+len)); returns its id, or -1 when the memory is full. */
  private store(a: Uint16Array, o: number, len: number, right: number, zero: number, s: number): number {
    if (this.nContexts >= this.maxContexts) return -1;
    if (s < 0) s = this.addSemi(a, o, len);
    const c = this.nContexts++;
    if (c + 1 > this.ctx.length) {
      const n = Math.min(this.maxContexts, Math.max(4, 2 * c));
      this.ctx = grown(this.ctx, n);
      this.counts = grown(this.counts, n);
    }
    this.ctx[c] = right | (zero << 8) | ((this.semi[s * SEMI] + 1) << NEXT_SHIFT);
    this.counts[c] = 0;
    this.semi[s * SEMI] = c;
    if (zero === 1) this.semi[s * SEMI + 2] |= right << 8;
    // Full: no half or fact can be added any more, so the growth slack goes.
    if (this.nContexts === this.maxContexts) {
      this.semi = this.semi.slice(0, this.nSemis * SEMI);
      this.facts = this.facts.slice(0, this.nFacts);
    }
    return c;
  }

  private addSemi(a: Uint16Array, o: number, len: number): number {
    const s = this.nSemis++;
    if ((s + 1) * SEMI > this.semi.length) this.semi = grown(this.semi, Math.min(this.maxContexts, Math.max(4, Math.ceil(1.5 * s))) * SEMI);
    while (this.nFacts + len > this.facts.length) this.facts = grown(this.facts, Math.max(32, Math.ceil(this.facts.length * 1.5)));
    this.semi[s * SEMI] = -1;
    this.semi[s * SEMI + 1] = this.nFacts;
    this.semi[s * SEMI + 2] = len;
    this.facts.set(a.subarray(o, o + len), this.nFacts);
    this.nFacts += len;
    this.index(s);
    if (2 * this.nSemis > this.table.length) this.rehash(Math.max(16, this.table.length * 2));
    else this.insert(s);
    return s;
  }

  /** Puts half s at the head of its last fact's bucket (the link in its facts-length field). */
  private index(s: number): void {
    if (this.heads.length === 0) this.heads = new Uint16Array(bucketsFor(this.maxContexts));
    const len = this.semi[s * SEMI + 2] & 0xff;
    const b = len > 0 ? this.facts[this.semi[s * SEMI + 1] + len - 1] & (this.heads.length - 1) : 0;
    this.semi[s * SEMI + 2] = (this.semi[s * SEMI + 2] & 0xffff) | (this.heads[b] << 16);
    this.heads[b] = s + 1;
  }

  private insert(s: number): void {
    const mask = this.table.length - 1;
    const o = this.semi[s * SEMI + 1];
    let slot = hashFacts(this.facts, o, o + (this.semi[s * SEMI + 2] & 0xff)) & mask;
    while (this.table[slot] !== 0) slot = (slot + 1) & mask;
    this.table[slot] = s + 1;
  }

  private rehash(size: number): void {
    this.table = new Uint16Array(size);
    for (let s = 0; s < this.nSemis; s++) this.insert(s);
  }

  /** The state as plain JSON; `new ContextMemory(options, json)` continues exactly from it. */
  toJSON(): ContextMemoryJSON {
    return contextMemoryToJSON(this.nContexts, this.nSemis, this.ctx, this.counts, this.semi, this.facts.subarray(0, this.nFacts), this.left, this.sinceHigh);
  }

  private restore(json: ContextMemoryJSON): void {
    checkContextMemoryJSON(json, this.maxContexts, this.bits, NEURON);
    this.nContexts = json.contexts;
    this.nSemis = json.semis;
    this.ctx = new Int32Array(Math.max(4, json.contexts));
    this.counts = new Int32Array(Math.max(4, json.contexts));
    this.semi = new Int32Array(Math.max(4, json.semis) * SEMI);
    this.facts = Uint16Array.from(json.facts);
    this.nFacts = json.facts.length;
    this.heads = EMPTY_U16;
    for (let s = 0; s < this.nSemis; s++) {
      this.semi[s * SEMI] = -1;
      this.semi[s * SEMI + 1] = json.semiOffset[s];
      this.semi[s * SEMI + 2] = json.semiLength[s];
      this.index(s);
    }
    // Chains are rebuilt in creation order, so they come out as store() and addSemi() built them.
    for (let c = 0; c < this.nContexts; c++) {
      const s = json.ctxLeft[c];
      this.ctx[c] = json.ctxRight[c] | (json.ctxZero[c] << 8) | ((this.semi[s * SEMI] + 1) << NEXT_SHIFT);
      this.counts[c] = json.ctxCount[c];
      this.semi[s * SEMI] = c;
      if (json.ctxZero[c] === 1) this.semi[s * SEMI + 2] |= json.ctxRight[c] << 8;
    }
    let size = 16;
    while (size < 2 * this.nSemis) size *= 2;
    this.table = EMPTY_U16;
    if (this.nSemis > 0) this.rehash(size);
    this.left = json.left.slice();
    this.sinceHigh = json.sinceHigh;
  }
}

