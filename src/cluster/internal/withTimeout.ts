import { SeqstreamError } from '../../errors.js';

/**
 * `promise`, or a rejection with `code` once `ms` have passed (the promise itself runs on).
 *
 * @example
 * ```ts
 * const body = await withTimeout(store.getBlob(name), 10_000, 'reading a checkpoint body');
 * ```
 */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string, code = 'SEQ_CLUSTER_CLAIM'): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new SeqstreamError(code, `${what} took over ${ms} ms`, {})), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
