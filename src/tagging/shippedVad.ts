import { readFileSync } from 'node:fs';
import { taggerFromJSON, type Tagger } from './taggerModel.js';

/** Where the shipped voice-activity model lives (in the package: `models/vad.json`). */
export const SHIPPED_VAD_URL = new URL('../../models/vad.json', import.meta.url);

let cached: Tagger | undefined;

/**
 * The voice-activity tagger shipped with seqstream (`models/vad.json`: log-mel features, a small
 * GRU, one `speech` output), loaded once. See the README's audio section for how it was trained
 * and what it scores.
 *
 * @example
 * ```ts
 * const vad = loadShippedVad();
 * vad.labels; // ['speech']
 * ```
 */
export function loadShippedVad(): Tagger {
  cached ??= taggerFromJSON(JSON.parse(readFileSync(SHIPPED_VAD_URL, 'utf8')));
  return cached;
}
