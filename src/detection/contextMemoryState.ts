import { ModelFormatError } from '../errors.js';

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
  /** Facts of the current left group (sensor facts, then `neuron` + id of each carried context). */
  left: number[];
  sinceHigh: number;
}

/**
 * Throws `SEQ_STATE_FORMAT` unless `json` is a well-formed {@link ContextMemoryJSON} of a memory
 * with these settings: at most `maxContexts` contexts, right masks over `2 * bits` sensor facts,
 * facts below `neuron + maxContexts`.
 *
 * @example
 * ```ts
 * checkContextMemoryJSON(new ContextMemory().toJSON(), 1024, 3, 64); // passes
 * checkContextMemoryJSON({ contexts: 5 } as ContextMemoryJSON, 1024, 3, 64); // throws SEQ_STATE_FORMAT
 * ```
 */
export function checkContextMemoryJSON(json: ContextMemoryJSON, maxContexts: number, bits: number, neuron: number): void {
  const ok =
    json && Number.isInteger(json.contexts) && Number.isInteger(json.semis) && json.contexts <= maxContexts && json.semis <= json.contexts &&
    [json.ctxLeft, json.ctxRight, json.ctxCount, json.ctxZero].every((a) => Array.isArray(a) && a.length === json.contexts) &&
    [json.semiOffset, json.semiLength].every((a) => Array.isArray(a) && a.length === json.semis) && Array.isArray(json.facts) && Array.isArray(json.left) &&
    json.ctxLeft.every((l) => Number.isInteger(l) && l >= 0 && l < json.semis) &&
    json.semiLength.every((n) => Number.isInteger(n) && n >= 0 && n < 256) &&
    json.semiOffset.every((o, i) => Number.isInteger(o) && o >= 0 && o + json.semiLength[i] <= json.facts.length) &&
    json.facts.concat(json.left).every((f) => Number.isInteger(f) && f >= 0 && f < neuron + maxContexts) &&
    json.ctxRight.every((r) => Number.isInteger(r) && r > 0 && r < 1 << (2 * bits)) &&
    json.ctxZero.every((z) => z === 0 || z === 1) && json.ctxCount.every((n) => Number.isInteger(n) && n >= 0 && n < 2 ** 31) &&
    Number.isInteger(json.sinceHigh) && json.sinceHigh >= 0;
  if (!ok) throw new ModelFormatError('SEQ_STATE_FORMAT', `Context-memory state is malformed or holds more than maxContexts (${maxContexts}) contexts`, { maxContexts });
}

/** Where a context's link word keeps (next context of its left half + 1). */
export const CONTEXT_NEXT_SHIFT = 16;
/** Int32 fields per left half in `semi`. */
export const HALF_FIELDS = 3;

/**
 * The plain JSON of a memory's typed arrays: per context one Int32 link word in `ctx` (right mask
 * | zero-level << 8 | (next context of its half + 1) << {@link CONTEXT_NEXT_SHIFT}) and its times
 * active in `counts`, per half {@link HALF_FIELDS} in `semi` (first context, facts offset, facts
 * length in the low 8 bits).
 *
 * @example
 * ```ts
 * const json = contextMemoryToJSON(0, 0, new Int32Array(0), new Int32Array(0), new Int32Array(0), new Uint16Array(0), [], 0);
 * json.contexts; // 0
 * ```
 */
export function contextMemoryToJSON(contexts: number, semis: number, ctx: Int32Array, counts: Int32Array, semi: Int32Array, facts: Uint16Array, left: number[], sinceHigh: number): ContextMemoryJSON {
  const ids = Array.from({ length: contexts }, (_, c) => c);
  const ctxLeft = new Array<number>(contexts);
  for (let s = 0; s < semis; s++) for (let c = semi[s * HALF_FIELDS]; c >= 0; c = (ctx[c] >>> CONTEXT_NEXT_SHIFT) - 1) ctxLeft[c] = s;
  const halves = Array.from({ length: semis }, (_, s) => s * HALF_FIELDS);
  return {
    contexts,
    semis,
    ctxLeft,
    ctxRight: ids.map((i) => ctx[i] & 0xff),
    ctxCount: ids.map((i) => counts[i]),
    ctxZero: ids.map((i) => (ctx[i] >> 8) & 1),
    semiOffset: halves.map((i) => semi[i + 1]),
    semiLength: halves.map((i) => semi[i + 2] & 0xff),
    facts: Array.from(facts),
    left: left.slice(),
    sinceHigh,
  };
}
