import * as tf from '@tensorflow/tfjs';
import { InvalidOptionError } from './errors.js';

/** Compute backends seqstream can run tfjs ops on, fastest first. */
export type BackendName = 'tensorflow' | 'wasm' | 'cpu';

const ORDER: readonly BackendName[] = ['tensorflow', 'wasm', 'cpu'];

async function tryBackend(name: BackendName): Promise<boolean> {
  try {
    if (name === 'tensorflow') {
      // Optional dependency: its install downloads libtensorflow and fails on closed networks.
      const nodeModule = '@tensorflow/tfjs-node';
      await import(/* @vite-ignore */ nodeModule);
    } else if (name === 'wasm') {
      await import('@tensorflow/tfjs-backend-wasm');
    }
    if (!(await tf.setBackend(name))) return false;
    await tf.ready();
    return tf.getBackend() === name;
  } catch {
    return false;
  }
}

/**
 * Selects and initialises the tfjs backend: `SEQSTREAM_BACKEND` (or `preferred`) if given, else
 * the first that loads of `tensorflow` (optional `@tensorflow/tfjs-node`), `wasm`, `cpu`.
 * Returns the backend in use. Asking for one that cannot load throws `SEQ_BACKEND_UNAVAILABLE`.
 *
 * @example
 * ```ts
 * import { initBackend } from 'seqstream';
 * const name = await initBackend(); // 'wasm' on a machine without tfjs-node
 * ```
 */
export async function initBackend(preferred: BackendName | undefined = envBackend()): Promise<BackendName> {
  if (preferred !== undefined) {
    if (!ORDER.includes(preferred)) throw new InvalidOptionError('SEQSTREAM_BACKEND', `one of ${ORDER.join(', ')}`, preferred);
    if (await tryBackend(preferred)) return preferred;
    const err = new InvalidOptionError('SEQSTREAM_BACKEND', 'a backend that loads here', preferred);
    Object.assign(err, { code: 'SEQ_BACKEND_UNAVAILABLE' });
    throw err;
  }
  for (const name of ORDER) if (await tryBackend(name)) return name;
  throw new InvalidOptionError('backend', 'one of tensorflow, wasm, cpu that loads', 'none');
}

/**
 * The tfjs backend in use now.
 *
 * @example
 * ```ts
 * await initBackend();
 * console.log(currentBackend()); // 'wasm'
 * ```
 */
export function currentBackend(): string {
  return tf.getBackend();
}

/**
 * Which of the known backends can load on this machine (tries each; restores nothing).
 *
 * @example
 * ```ts
 * await availableBackends(); // ['wasm', 'cpu']
 * ```
 */
export async function availableBackends(): Promise<BackendName[]> {
  const out: BackendName[] = [];
  for (const name of ORDER) if (await tryBackend(name)) out.push(name);
  return out;
}

function envBackend(): BackendName | undefined {
  const v = process.env.SEQSTREAM_BACKEND;
  return v ? (v as BackendName) : undefined;
}
