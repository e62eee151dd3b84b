import { Observable, type MonoTypeOperatorFunction } from 'rxjs';
import type { DashboardEvent } from './dashboardStore.js';
import { DashboardServer, resolveOptions, type DashboardOptions } from './dashboardServer.js';

/**
 * Watches a stream of keyed outputs on a local web page: one line in a pipeline. Events pass
 * through unchanged; a copy of each goes to a {@link DashboardServer} started for the
 * subscription.
 *
 * 1. On subscribe, the server starts listening (`port`, default any free port; `host` default
 *    127.0.0.1) and calls `onListening(url)`. Events that arrive before it listens are kept.
 * 2. Each event (`{ key, timestamp?, x?, y?, score?, alert?, threshold? }`) is recorded in the
 *    bounded store: `historyPoints` (default 300) recent points per key, `maxKeys` (default
 *    20,000) keys. A bad event (no key) is counted under `SEQ_DASHBOARD_EVENT` and still passed on.
 * 3. When the source completes or errors, or the subscriber leaves, the server closes. A listen
 *    failure errors the stream with `SEQ_DASHBOARD_LISTEN`.
 *
 * Options are those of {@link DashboardServer} (checked here, `SEQ_INVALID_OPTION`).
 *
 * @example
 * ```ts
 * import { dashboard } from 'seqstream/dashboard';
 * readings$.pipe(recurrentByKey(model), dashboard({ port: 8080, onListening: (url) => console.error(`dashboard: ${url}`) })).subscribe();
 * ```
 */
export function dashboard<T extends DashboardEvent>(options: DashboardOptions = {}): MonoTypeOperatorFunction<T> {
  resolveOptions(options);
  return (source) =>
    new Observable<T>((subscriber) => {
      const server = new DashboardServer(options);
      let closed = false;
      server.listen().catch((e: unknown) => {
        if (!closed) subscriber.error(e);
      });
      const subscription = source.subscribe({
        next: (event) => {
          server.push(event);
          subscriber.next(event);
        },
        error: (e) => subscriber.error(e),
        complete: () => subscriber.complete(),
      });
      return () => {
        closed = true;
        subscription.unsubscribe();
        void server.close();
      };
    });
}
