import type { ErrorCallback, SeqstreamError } from '../../errors.js';

/**
 * What every operator does with a bad input, by its `invalidInput` policy: `'error'` ends the
 * stream with it (through `fail`); `'skip'` reports it to `onError(error, input)` and the stream
 * goes on — unless the callback throws, which ends the stream with what it threw (a bug in the
 * handler is not hidden).
 *
 * @example
 * ```ts
 * handleInvalidInput(invalidInput, options.onError, err, event, (e) => subscriber.error(e));
 * ```
 */
export function handleInvalidInput<E extends SeqstreamError>(
  policy: 'error' | 'skip',
  onError: ErrorCallback<unknown, E> | undefined,
  error: E,
  input: unknown,
  fail: (reason: unknown) => void,
): void {
  if (policy === 'error') return fail(error);
  try {
    onError?.(error, input);
  } catch (thrown) {
    fail(thrown);
  }
}
