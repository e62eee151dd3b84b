import type { ContextMemoryJSON, ContextMemoryOptions } from '../../src/detection/contextMemory.js';

/**
 * ContextMemory written the plain way (objects, arrays, string keys; every left half visited on
 * every step), to pin the typed-array memory and its indexes: same scores, same state.
 */
export class ReferenceContextMemory {
  private readonly o: Required<ContextMemoryOptions>;
  private halves: { facts: number[]; ctxs: number[] }[] = [];
  private ctxs: { half: number; right: number; count: number; zero: number }[] = [];
  private left: number[] = [];
  private sinceHigh = 0;

  constructor(options: ContextMemoryOptions = {}) {
    this.o = { bits: 3, maxLeft: 7, maxActive: 15, rest: 60, restThreshold: 0.75, maxContexts: 1024, ...options };
  }

  private find(facts: number[], right: number): number {
    const h = this.halves.find((x) => x.facts.join() === facts.join());
    return h?.ctxs.find((c) => this.ctxs[c].right === right) ?? -1;
  }

  private store(facts: number[], right: number, zero: number): number {
    if (this.ctxs.length >= this.o.maxContexts) return -1;
    let half = this.halves.findIndex((x) => x.facts.join() === facts.join());
    if (half < 0) half = this.halves.push({ facts: facts.slice(), ctxs: [] }) - 1;
    const id = this.ctxs.push({ half, right, count: 0, zero }) - 1;
    this.halves[half].ctxs.unshift(id);
    return id;
  }

  score(u: number): number {
    const top = 2 ** this.o.bits - 1;
    const level = Math.min(top, Math.max(0, Math.floor((Number.isFinite(u) ? u : 0) * top)));
    let current = 0;
    for (let b = 0; b < this.o.bits; b++) current |= 1 << (2 * b + ((level >> b) & 1));
    let newFlag = false;
    let newContext = -1;
    if (this.left.length > 0) {
      const found = this.find(this.left, current);
      if (found >= 0) this.ctxs[found].zero = 1;
      else {
        newFlag = true;
        newContext = this.store(this.left, current, 1);
      }
    }
    const growing = newContext >= 0;
    const potentials = new Map<string, [number[], number]>();
    if (growing) potentials.set(`${this.left}|${current}`, [this.left, current]);
    const inLeft = new Set(this.left);
    const active: number[] = [];
    let predicted = 0;
    for (const h of this.halves) {
      const crossed = h.facts.filter((f) => inLeft.has(f));
      if (crossed.length === 0) continue;
      const full = crossed.length === h.facts.length;
      for (const c of h.ctxs) {
        if (c === newContext) continue;
        const x = this.ctxs[c];
        if (full) predicted++;
        const hit = x.right & current;
        if (hit === 0) continue;
        if (full && hit === x.right) {
          x.count++;
          active.push(c);
        } else if (growing && crossed.length <= this.o.maxLeft && x.zero === 1) potentials.set(`${crossed}|${hit}`, [crossed, hit]);
      }
    }
    const fractionActive = predicted > 0 ? active.length / predicted : 0;
    const rank = (a: number, b: number) => this.ctxs[b].count - this.ctxs[a].count || b - a;
    const carried = active.sort(rank).slice(0, this.o.maxActive).sort((a, b) => a - b);
    const next: number[] = [];
    for (let b = 0; b < 2 * this.o.bits; b++) if (current & (1 << b)) next.push(b);
    this.left = next.concat(carried.map((c) => 64 + c));
    let added = newFlag ? 1 : 0;
    let first = true;
    for (const [facts, right] of potentials.values()) {
      if (first || this.find(facts, right) >= 0) {
        first = false;
        continue;
      }
      this.store(facts, right, 0);
      added++;
    }
    const fractionNew = !newFlag ? 0 : growing ? added / potentials.size : 1;
    const raw = (1 - fractionActive + fractionNew) / 2;
    const out = this.sinceHigh >= this.o.rest ? raw : 0;
    this.sinceHigh = raw >= this.o.restThreshold ? 0 : this.sinceHigh + 1;
    return out;
  }

  toJSON(): ContextMemoryJSON {
    const offsets: number[] = [];
    let at = 0;
    for (const h of this.halves) {
      offsets.push(at);
      at += h.facts.length;
    }
    return {
      contexts: this.ctxs.length,
      semis: this.halves.length,
      ctxLeft: this.ctxs.map((c) => c.half),
      ctxRight: this.ctxs.map((c) => c.right),
      ctxCount: this.ctxs.map((c) => c.count),
      ctxZero: this.ctxs.map((c) => c.zero),
      semiOffset: offsets,
      semiLength: this.halves.map((h) => h.facts.length),
      facts: this.halves.flatMap((h) => h.facts),
      left: this.left.slice(),
      sinceHigh: this.sinceHigh,
    };
  }
}
