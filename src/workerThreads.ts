import type { Worker } from 'node:worker_threads';

/** What Node's `worker_threads` lends the pools that start threads (read through `process.getBuiltinModule`, so bundles for other runtimes do not pull it in). */
export interface WorkerThreadsBits {
  Worker: typeof Worker;
  MessageChannel: typeof import('node:worker_threads').MessageChannel;
  receiveMessageOnPort: typeof import('node:worker_threads').receiveMessageOnPort;
}

/**
 * Node's `worker_threads`, or null where there is none (browsers, runtimes without
 * `process.getBuiltinModule`).
 *
 * @example
 * ```ts
 * const bits = workerThreads();
 * if (bits) new bits.Worker(entry.entry, { eval: entry.eval });
 * ```
 */
export function workerThreads(): WorkerThreadsBits | null {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const wt = proc?.getBuiltinModule?.('node:worker_threads') as WorkerThreadsBits | undefined;
  return wt?.Worker && wt.MessageChannel ? wt : null;
}

/**
 * What a worker thread runs, given the module that starts it (`import.meta.url`) and the worker
 * file's name beside it without extension: `<name>.js` next to the module in the compiled package,
 * or, when the module runs from TypeScript source (tsx, vitest), a two-line bootstrap that
 * registers tsx's loader in the worker and then imports `<name>.ts` (Node 20 does not apply a
 * parent's `--import` loader to a worker's entry file, measured: ERR_UNKNOWN_FILE_EXTENSION).
 * Pass `eval` on to the `Worker` constructor.
 *
 * @example
 * ```ts
 * const entry = workerEntry(import.meta.url, 'stepWorker');
 * const worker = new Worker(entry.entry, { eval: entry.eval, workerData });
 * ```
 */
export function workerEntry(here: string, name: string): { entry: URL | string; eval: boolean } {
  if (!here.endsWith('.ts')) return { entry: new URL(`./${name}.js`, here), eval: false };
  const proc = globalThis.process;
  const { createRequire } = proc.getBuiltinModule('node:module') as typeof import('node:module');
  const { pathToFileURL } = proc.getBuiltinModule('node:url') as typeof import('node:url');
  const require = createRequire(here);
  // tsx's ESM API by its package exports (its CommonJS build cannot be imported from a worker).
  const pkgPath = require.resolve('tsx/package.json');
  const pkg = require(pkgPath) as { exports: Record<string, { import: { default: string } }> };
  const tsx = new URL(pkg.exports['./esm/api'].import.default, pathToFileURL(pkgPath)).href;
  const worker = new URL(`./${name}.ts`, here).href;
  const boot = `import(${JSON.stringify(tsx)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(worker)}); });`;
  return { entry: boot, eval: true };
}
