import { createRequire } from 'node:module';
import { installTensorSequencePath } from '../cells/runSequence.js';
import { runSequenceTensors } from './runSequenceTensors.js';
import { installTfjs, tfjsInstalled } from './tfjsRuntime.js';

let loading: Promise<void> | null = null;

/**
 * Loads TensorFlow.js (once per process) for the paths that run on it: `engine: 'tfjs'` in
 * `recurrent`, `trainOnline` and `runSequence`, the tfjs TBPTT engine and `seqstream/tensors`.
 * Nothing else in seqstream needs it, so importing `seqstream/cells` or `seqstream/streams` stays
 * fast. `initBackend()` awaits this first; call it yourself only to use tfjs without choosing a
 * backend (tfjs then picks its default). Where `@tensorflow/tfjs-node` is not installed, it also
 * silences tfjs's "install tfjs-node" console hint, which cannot be acted on there.
 *
 * @example
 * ```ts
 * import { loadTfjs } from 'seqstream';
 * await loadTfjs();
 * runSequence(model, x, { engine: 'tfjs' });
 * ```
 */
export function loadTfjs(): Promise<void> {
  loading ??= import('@tensorflow/tfjs').then(
    (tf) => {
      installTfjs(tf);
      if (!tfjsNodeInstalled()) silenceNodeHint(tf);
      installTensorSequencePath(runSequenceTensors);
    },
    (err: unknown) => {
      loading = null; // a later call may try again
      throw err;
    },
  );
  return loading;
}

/**
 * Whether TensorFlow.js is loaded (by {@link loadTfjs} or `initBackend()`), so the tfjs paths
 * can run synchronously.
 *
 * @example
 * ```ts
 * import { isTfjsLoaded } from 'seqstream';
 * isTfjsLoaded(); // false until `await initBackend()`
 * ```
 */
export function isTfjsLoaded(): boolean {
  return tfjsInstalled();
}

function tfjsNodeInstalled(): boolean {
  try {
    createRequire(import.meta.url).resolve('@tensorflow/tfjs-node');
    return true;
  } catch {
    return false;
  }
}

/**
 * The cpu backend prints "Hi, looks like you are running TensorFlow.js in Node.js ... install our
 * node backend" on its first tensor, into test output and the CLI's stderr. It checks a
 * `firstUse` flag on the backend instance: initialise the backend now and clear it. If a later
 * tfjs renames the flag, the hint simply comes back.
 */
function silenceNodeHint(tf: typeof import('@tensorflow/tfjs')): void {
  const cpu = tf.findBackend('cpu') as { firstUse?: boolean } | null;
  if (cpu && 'firstUse' in cpu) cpu.firstUse = false;
}
