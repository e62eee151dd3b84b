import { lastValueFrom, type Observable } from 'rxjs';
import { SeqstreamError } from '../../src/errors.js';

/** The `code` of what `fn` throws, a note when it is not a SeqstreamError, or undefined when it does not throw. */
export function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return e instanceof SeqstreamError ? e.code : `not a SeqstreamError: ${String(e)}`;
  }
  return undefined;
}

/** The error an Observable ends with; fails the test if it completes instead. */
export async function errorOf(o: Observable<unknown>): Promise<SeqstreamError> {
  try {
    await lastValueFrom(o, { defaultValue: undefined });
  } catch (err) {
    return err as SeqstreamError;
  }
  throw new Error('expected an error');
}
