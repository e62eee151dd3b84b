import { Observable, type OperatorFunction, type Subscription } from 'rxjs';
import type { RecurrentModel } from '../cells/model.js';
import { restoreState, type StateSnapshot } from '../cells/stateSnapshot.js';
import { validateInput } from '../cells/validateInput.js';
import { InvalidInputError, InvalidOptionError, type ErrorCallback } from '../errors.js';
import { tfjs } from '../tensors/tfjsRuntime.js';
import { createStreamEngine, type EngineName } from './internal/streamEngine.js';
import { subscribeLinked } from './internal/subscribeLinked.js';
import type { RecurrentControl } from './recurrentControl.js';
import { oneOfOption, functionOption, INVALID_INPUT } from '../options.js';
import { handleInvalidInput } from './internal/handleInvalidInput.js';

/** An input event: a vector, or a vector marked as the start of a new sequence. */
export type RecurrentInput = ArrayLike<number> | SequenceEvent;

/** A vector with an optional flag that resets the state before it is stepped. */
export interface SequenceEvent {
  x: ArrayLike<number>;
  /** Reset the hidden state to the initial state before stepping this event. */
  reset?: boolean;
}

/** What `recurrent()` emits per event. */
export type RecurrentEmit = 'hidden' | 'output' | 'all';

/** The `emit: 'all'` output: top-layer `h`, head output (or null) and the state after the step. */
export interface RecurrentStep {
  h: Float32Array;
  y: Float32Array | null;
  state: StateSnapshot;
}

/** Options of {@link recurrent}. */
export interface RecurrentOptions {
  /**
   * What to emit: `'hidden'` (top layer `h`), `'output'` (head output; needs a head) or `'all'`
   * ({@link RecurrentStep}). Default: `'output'` when the model has a head, else `'hidden'`.
   */
  emit?: RecurrentEmit;
  /**
   * `'fused'` (float loops, fastest for one stream; default) or `'tfjs'` (tensor ops on the tfjs
   * backend; load TensorFlow.js first with `await initBackend()`, else `SEQ_TFJS_NOT_LOADED` here).
   */
  engine?: EngineName;
  /** State every subscription starts from and resets to. Default: zeros. Checked at creation (`SEQ_INVALID_OPTION`). */
  initialState?: StateSnapshot;
  /** Each emission resets the state to the initial state. Its error errors the stream. Default: none. */
  reset?: Observable<unknown>;
  /** Handle to read, restore or reset the running subscription's state. Default: none. */
  control?: RecurrentControl;
  /**
   * `'error'` (default): a bad event errors the stream with an `InvalidInputError`.
   * `'skip'`: the event is dropped, the state is untouched, and the error goes to `onError`.
   */
  invalidInput?: 'error' | 'skip';
  /** Side channel for skipped events (`invalidInput: 'skip'`). A throw here errors the stream. */
  onError?: ErrorCallback<unknown, InvalidInputError>;
}

/**
 * Runs a recurrent model over a stream, one step per event, carrying the hidden state from event
 * to event. Feeding a sequence event by event gives the outputs of running it whole.
 *
 * Per subscription:
 * 1. Create a fresh state (from `initialState`, or zeros) on the chosen engine.
 * 2. For each event: if it is `{ x, reset: true }`, or `reset` emitted since, return to the initial state.
 * 3. Validate `x` (length `inputSize`, finite numbers); on failure error the stream, or with
 *    `invalidInput: 'skip'` report it to `onError` and leave the state as it was.
 * 4. Step every layer with the model's current weights, then the head; emit per `emit`.
 * 5. On completion, error or unsubscribe, free the state (tensors included) and unbind `control`;
 *    the source is unsubscribed at once, even mid-way through a synchronous source.
 *
 * The model's own tfjs copies of its weights (used by `engine: 'tfjs'`) outlive subscriptions so
 * that many streams share them; call `model.dispose()` when no stream uses the model any more.
 *
 * @example
 * ```ts
 * import { from } from 'rxjs';
 * import { RecurrentModel } from 'seqstream/cells';
 * import { recurrent } from 'seqstream/streams';
 *
 * const model = RecurrentModel.create({ cell: 'gru', inputSize: 2, hiddenSize: 4, head: { outputSize: 1, activation: 'sigmoid' }, seed: 1 });
 * from([[0, 1], [1, 0], { x: [0, 0], reset: true }])
 *   .pipe(recurrent(model))
 *   .subscribe((y) => console.log(y[0]));
 * ```
 */
export function recurrent(model: RecurrentModel, options: RecurrentOptions & { emit: 'all' }): OperatorFunction<RecurrentInput, RecurrentStep>;
export function recurrent(model: RecurrentModel, options?: RecurrentOptions & { emit?: 'hidden' | 'output' }): OperatorFunction<RecurrentInput, Float32Array>;
export function recurrent(model: RecurrentModel, options?: RecurrentOptions): OperatorFunction<RecurrentInput, Float32Array | RecurrentStep>;
export function recurrent(model: RecurrentModel, options: RecurrentOptions = {}): OperatorFunction<RecurrentInput, Float32Array | RecurrentStep> {
  const emit: RecurrentEmit = options.emit ?? (model.head ? 'output' : 'hidden');
  if (!['hidden', 'output', 'all'].includes(emit)) throw new InvalidOptionError('emit', "'hidden', 'output' or 'all'", emit);
  if (emit === 'output' && !model.head) throw new InvalidOptionError('emit', "'hidden' or 'all' for a model without a head", emit);
  const engine = options.engine ?? 'fused';
  oneOfOption('engine', engine, ['fused', 'tfjs'] as const, undefined);
  if (engine === 'tfjs') tfjs("recurrent() with engine 'tfjs'"); // SEQ_TFJS_NOT_LOADED now, not at subscribe
  const invalidInput = oneOfOption('invalidInput', options.invalidInput, INVALID_INPUT, 'error');
  functionOption('onError', options.onError);
  if (options.reset !== undefined && !(options.reset instanceof Observable)) throw new InvalidOptionError('reset', 'an Observable', options.reset);
  const initial = options.initialState ?? null;
  if (initial) {
    try {
      restoreState(model, model.createState(1), initial);
    } catch (e) {
      throw new InvalidOptionError('initialState', `a state snapshot of this model (${(e as Error).message})`, initial);
    }
  }
  const inputSize = model.config.inputSize;

  return (source) =>
    new Observable<Float32Array | RecurrentStep>((subscriber) => {
      const state = createStreamEngine(model, engine, initial);
      let unbind: (() => void) | null = null;
      let resetSub: Subscription | null = null;
      // Registered first: a synchronous source may close this subscriber before subscribe returns.
      subscriber.add(() => {
        unbind?.();
        resetSub?.unsubscribe();
        state.dispose();
      });
      try {
        unbind = options.control ? options.control.bind(state) : null;
      } catch (err) {
        subscriber.error(err);
        return;
      }
      if (options.reset) {
        resetSub = options.reset.subscribe({ next: () => state.reset(), error: (err) => subscriber.error(err) });
      }
      subscribeLinked(source, subscriber, {
        next(event) {
          let x: ArrayLike<number>;
          const flagged = isSequenceEvent(event);
          try {
            x = validateInput(flagged ? event.x : event, inputSize);
          } catch (err) {
            if (err instanceof InvalidInputError) handleInvalidInput(invalidInput, options.onError, err, event, (e) => subscriber.error(e));
            else subscriber.error(err);
            return;
          }
          let step: { h: Float32Array; y: Float32Array | null };
          let snapshot: StateSnapshot | null = null;
          try {
            if (flagged && event.reset) state.reset();
            step = state.step(x);
            if (emit === 'all') snapshot = state.snapshot();
          } catch (err) {
            subscriber.error(err);
            return;
          }
          if (emit === 'hidden') subscriber.next(step.h);
          else if (emit === 'output') subscriber.next(step.y as Float32Array);
          else subscriber.next({ h: step.h, y: step.y, state: snapshot as StateSnapshot });
        },
        error: (err) => subscriber.error(err),
        complete: () => subscriber.complete(),
      });
    });
}

function isSequenceEvent(event: unknown): event is SequenceEvent {
  return typeof event === 'object' && event !== null && !Array.isArray(event) && !ArrayBuffer.isView(event) && 'x' in event;
}
