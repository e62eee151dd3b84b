import { Observable, type OperatorFunction, type Subscription } from 'rxjs';
import type { RecurrentModel } from '../../cells/model.js';
import { SeqstreamError } from '../../errors.js';
import type { KeyedCheckpoint } from './keyedCheckpoint.js';
import { KeyedSlab } from './keyedSlab.js';
import { subscribeLinked } from './subscribeLinked.js';
import { handleInvalidInput } from './handleInvalidInput.js';
import type { RecurrentByKeyOptions, ResolvedKeyedOptions } from './keyedOptions.js';

/**
 * What the scheduling shell lends a driver: step the queue now, or once the current synchronous run is over (`maxWaitMs`).
 *
 * @example
 * ```ts
 * const next = (event: unknown, s: KeyedScheduling) => (slab.add(event) ? s.flushNow() : s.schedule());
 * ```
 */
export interface KeyedScheduling {
  flushNow(): void;
  schedule(): void;
  /** Tells the shell rows were stepped outside {@link flushNow} (a periodic checkpoint may be due). */
  stepped(): void;
}

/**
 * How one keyed operator feeds its slab: what a source value does, and what stepping "everything that waits" means.
 *
 * @example
 * ```ts
 * const driver: KeyedDriver<KeyedBlock<string>> = { next: (block) => runner.push(block), flush: () => undefined };
 * ```
 */
export interface KeyedDriver<In> {
  /** Handles one source value (validate, queue, maybe step). Throws only for stream-ending failures. */
  next(value: In): void;
  /** Steps what waits (before control calls, checkpoints and completion). */
  flush(): void;
}

/**
 * The subscription shell shared by `recurrentByKey` (one event at a time) and
 * `recurrentByKeyBatch` (blocks of rows): per subscription it creates the {@link KeyedSlab}, binds
 * the control, runs the idle and checkpoint timers and the `reset` stream, saves checkpoints (one
 * at a time; a request while one waits joins it), routes bad input through the one error channel,
 * and completes after the last checkpoint. `makeDriver` decides how source values reach the slab.
 *
 * @example
 * ```ts
 * return keyedOperator(model, options, resolveKeyedOptions(model, options), (slab, emit, s) => ({
 *   next: (event) => (slab.add(event) ? s.flushNow() : s.schedule()),
 *   flush: () => slab.flush(),
 * }));
 * ```
 */
export function keyedOperator<K, In, Out>(
  model: RecurrentModel,
  options: RecurrentByKeyOptions<K>,
  o: ResolvedKeyedOptions,
  makeDriver: (slab: KeyedSlab<K>, emit: (out: Out) => void, scheduling: KeyedScheduling) => KeyedDriver<In>,
): OperatorFunction<In, Out> {
  return (source) =>
    new Observable<Out>((subscriber) => {
      let closed = false;
      let flushScheduled = false;
      let flushTimer: ReturnType<typeof setTimeout> | undefined;
      let idleTimer: ReturnType<typeof setInterval> | undefined;
      let checkpointTimer: ReturnType<typeof setInterval> | undefined;
      let resetSub: Subscription | undefined;

      const emit = (out: Out): void => {
        if (!closed) subscriber.next(out);
      };
      const fail = (err: unknown): void => {
        if (closed) return;
        closed = true;
        subscriber.error(err);
      };

      const slab = new KeyedSlab<K>(model, {
        maxKeys: o.maxKeys,
        maxBatch: o.maxBatch,
        idleTtlMs: o.idleTtlMs,
        emit: o.emit,
        clock: o.clock,
        profile: o.profile,
        engine: options.engine,
        initialState: options.initialState,
        knownKeys: options.knownKeys,
        onEvict: options.onEvict,
        onInvalid: (error, event) => handleInvalidInput(o.invalidInput, options.onError, error, event, fail),
        output: (out) => emit(out as Out),
      });

      // --- checkpoints: one save at a time; a request while one waits joins it ---
      const cpo = options.checkpoint;
      let saveTail: Promise<unknown> = Promise.resolve();
      let waiting: Promise<KeyedCheckpoint<K>> | null = null;
      let eventsAtRequest = 0;
      const requestCheckpoint = (): Promise<KeyedCheckpoint<K>> => {
        if (!cpo) {
          return Promise.reject(new SeqstreamError('SEQ_KEYED_NO_STORE', "recurrentByKey has no 'checkpoint.store' to save to", {}));
        }
        if (waiting) return waiting;
        eventsAtRequest = slab.events;
        const p = saveTail.then(async () => {
          waiting = null;
          if (closed) throw new SeqstreamError('SEQ_KEYED_NOT_RUNNING', 'recurrentByKey stopped before the checkpoint was taken', {});
          let cp: KeyedCheckpoint<K>;
          try {
            cp = slab.capture(o.includeModel);
            if (cpo.extra) cp.extra = cpo.extra();
          } catch (e) {
            const err = new SeqstreamError('SEQ_KEYED_CHECKPOINT', `Taking a keyed checkpoint failed: ${(e as Error)?.message ?? String(e)}`, { cause: e });
            fail(err);
            throw err;
          }
          try {
            await cpo.store.save(cp);
          } catch (e) {
            const err = new SeqstreamError('SEQ_STORE_WRITE', `Saving a keyed checkpoint failed: ${(e as Error)?.message ?? String(e)}`, { cause: e });
            fail(err);
            throw err;
          }
          return cp;
        });
        waiting = p;
        saveTail = p.catch(() => undefined);
        return p;
      };
      const periodic = (): void => {
        requestCheckpoint().catch(() => undefined); // failures already went to subscriber.error
      };

      const afterFlush = (): void => {
        if (o.everyEvents > 0 && slab.events - eventsAtRequest >= o.everyEvents) periodic();
      };
      const flushNow = (): void => {
        if (closed) return;
        try {
          driver.flush();
          afterFlush();
        } catch (e) {
          fail(e);
        }
      };
      const runScheduled = (): void => {
        flushScheduled = false;
        flushTimer = undefined;
        flushNow();
      };
      const schedule = (): void => {
        if (flushScheduled) return;
        flushScheduled = true;
        if (o.maxWaitMs === 0) queueMicrotask(runScheduled);
        else flushTimer = setTimeout(runScheduled, o.maxWaitMs);
      };

      const driver = makeDriver(slab, emit, { flushNow, schedule, stepped: afterFlush });
      const binding = {
        slab,
        flush: flushNow,
        checkpoint: () => {
          flushNow();
          return requestCheckpoint();
        },
        includeModel: o.includeModel,
      };
      // Registered first: a synchronous source may close this subscriber before subscribe returns.
      subscriber.add(() => {
        closed = true;
        resetSub?.unsubscribe();
        if (flushTimer) clearTimeout(flushTimer);
        if (idleTimer) clearInterval(idleTimer);
        if (checkpointTimer) clearInterval(checkpointTimer);
        options.control?.unbind(binding);
        slab.release();
      });

      // 1. State, control, timers.
      try {
        if (options.resumeFrom) slab.load(options.resumeFrom);
        options.control?.bind(binding);
      } catch (e) {
        fail(e);
        return;
      }
      // Periodic checkpoints count from the resumed event count, not from zero.
      eventsAtRequest = slab.events;
      if (o.idleTtlMs !== Infinity) {
        idleTimer = setInterval(() => {
          try {
            slab.evictIdle();
          } catch (e) {
            fail(e);
          }
        }, Math.max(10, Math.min(o.idleTtlMs / 2, 60_000)));
        idleTimer.unref?.();
      }
      if (cpo && o.everyMs > 0) {
        checkpointTimer = setInterval(periodic, o.everyMs);
        checkpointTimer.unref?.();
      }
      if (options.reset) {
        resetSub = options.reset.subscribe({
          next: (key) => {
            try {
              slab.reset(key);
            } catch (e) {
              fail(e);
            }
          },
          error: fail,
        });
      }

      // 2.-7.
      subscribeLinked(source, subscriber, {
        next: (value) => {
          if (closed) return;
          try {
            driver.next(value);
          } catch (e) {
            fail(e);
          }
        },
        error: fail,
        complete: () => {
          flushNow();
          if (closed) return;
          if (cpo && o.checkpointOnComplete) {
            requestCheckpoint().then(
              () => {
                if (!closed) {
                  closed = true;
                  subscriber.complete();
                }
              },
              () => undefined,
            );
          } else {
            closed = true;
            subscriber.complete();
          }
        },
      });
    });
}
