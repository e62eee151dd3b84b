import { InvalidOptionError } from '../errors.js';
import { loadTfjs } from './loadTfjs.js';
import { tfjs } from './tfjsRuntime.js';

/** Compute backends seqstream can run tfjs ops on, fastest first. */
export type BackendName = 'tensorflow' | 'wasm' | 'cpu';

const ORDER: readonly BackendName[] = ['tensorflow', 'wasm', 'cpu'];

async function tryBackend(name: BackendName): Promise<boolean> {
  await loadTfjs();
  const tf = tfjs('initBackend');
  const restore = keepProcessHandlers();
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
  } finally {
    restore();
  }
}

/**
 * The WebAssembly backend's emscripten runtime adds process-wide `uncaughtException` and
 * `unhandledRejection` listeners that rethrow, so after it a user's own uncaught error is reported
 * from inside tf-backend-wasm and the process exits 7 instead of 1. Take back every listener that
 * appeared while a backend loaded and looks like emscripten's (it rethrows), leaving the
 * process's error handling as it was. Returns the function that does it.
 */
function keepProcessHandlers(): () => void {
  const before = { uncaught: new Set(process.listeners('uncaughtException')), rejection: new Set(process.listeners('unhandledRejection')) };
  const rethrows = (listener: unknown, known: Set<unknown>) => !known.has(listener) && /\bthrow\b/.test(String(listener));
  return () => {
    for (const l of process.listeners('uncaughtException')) if (rethrows(l, before.uncaught)) process.removeListener('uncaughtException', l);
    for (const l of process.listeners('unhandledRejection')) if (rethrows(l, before.rejection)) process.removeListener('unhandledRejection', l);
  };
}

/**
 * Loads TensorFlow.js (see `loadTfjs`) and selects its backend: `SEQSTREAM_BACKEND` (or
 * `preferred`) if given, else the first that loads of `tensorflow` (optional
 * `@tensorflow/tfjs-node`), `wasm`, `cpu`. Returns the backend in use. Asking for one that cannot
 * load throws `SEQ_BACKEND_UNAVAILABLE`. Leaves the process's uncaught-exception handling alone.
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
 * The tfjs backend in use now. Throws `SEQ_TFJS_NOT_LOADED` before `initBackend()`/`loadTfjs()`.
 *
 * @example
 * ```ts
 * await initBackend();
 * console.log(currentBackend()); // 'wasm'
 * ```
 */
export function currentBackend(): string {
  return tfjs('currentBackend').getBackend();
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
