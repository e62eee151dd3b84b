import type * as Tfjs from '@tensorflow/tfjs';
import { tfjsNotLoadedError } from '../errors.js';

/** The TensorFlow.js namespace once {@link installTfjs} has run (by `loadTfjs`), else null. */
let current: typeof Tfjs | null = null;

/**
 * The loaded TensorFlow.js namespace, for the code that runs on it. Nothing in seqstream imports
 * tfjs at module load (it costs over a second): `loadTfjs()` (or `initBackend()`, which awaits it)
 * imports it once and installs it here; a tfjs path reached before that throws
 * `SEQ_TFJS_NOT_LOADED` naming what needed it.
 *
 * @example
 * ```ts
 * await loadTfjs();
 * const tf = tfjs('my tensor code');
 * tf.tidy(() => tf.add(1, 2).dataSync());
 * ```
 */
export function tfjs(what = 'This'): typeof Tfjs {
  if (current) return current;
  throw tfjsNotLoadedError(what);
}

/**
 * Installs the TensorFlow.js namespace `loadTfjs` imported (internal; the first install wins, so
 * every caller shares one tfjs instance).
 *
 * @example
 * ```ts
 * installTfjs(await import('@tensorflow/tfjs'));
 * ```
 */
export function installTfjs(tf: typeof Tfjs): typeof Tfjs {
  current ??= tf;
  return current;
}

/**
 * Whether TensorFlow.js has been loaded into this process by seqstream.
 *
 * @example
 * ```ts
 * if (!tfjsInstalled()) await loadTfjs();
 * ```
 */
export function tfjsInstalled(): boolean {
  return current !== null;
}
