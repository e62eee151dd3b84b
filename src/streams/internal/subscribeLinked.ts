import { Subject, takeUntil, type Observable, type Subscriber } from 'rxjs';

/** What an operator does with its source's notifications. */
export interface SourceObserver<T> {
  next(value: T): void;
  error(err: unknown): void;
  complete(): void;
}

/**
 * Subscribes an operator to its source so that the source stops the moment the operator's own
 * `subscriber` closes (downstream unsubscribe, or the operator erroring), even in the middle of
 * a synchronous source, and `observer` hears nothing after that. Register the operator's own
 * teardown with `subscriber.add` BEFORE calling this: a synchronous source can run to its end
 * inside this call.
 *
 * (A plain `source.subscribe(...)` returns its Subscription only after a synchronous source has
 * finished, so `take(1)` downstream would not stop it, and a trainer would go on changing shared
 * weights for a consumer that has gone.)
 */
export function subscribeLinked<T>(source: Observable<T>, subscriber: Subscriber<unknown>, observer: SourceObserver<T>): void {
  // Already closed (e.g. a side stream errored during set-up): never touch the source.
  if (subscriber.closed) return;
  const closed = new Subject<void>();
  subscriber.add(() => {
    closed.next();
    closed.complete();
  });
  source.pipe(takeUntil(closed)).subscribe({
    next: (value) => {
      if (!subscriber.closed) observer.next(value);
    },
    error: (err) => {
      if (!subscriber.closed) observer.error(err);
    },
    complete: () => {
      if (!subscriber.closed) observer.complete();
    },
  });
}
