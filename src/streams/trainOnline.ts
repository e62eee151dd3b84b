import { Observable, type OperatorFunction } from 'rxjs';
import { adam } from '../training/optimizers/adam.js';
import { createTbpttEngine } from '../training/createTbpttEngine.js';
import { tfjs } from '../tensors/tfjsRuntime.js';
import { learnWindow } from '../training/learnWindow.js';
import { LOSS_HEADS, outputLoss, type LossKind } from '../training/losses.js';
import type { RecurrentModel } from '../cells/model.js';
import type { Optimizer } from '../training/optimizers/optimizer.js';
import { restoreState, type StateSnapshot } from '../cells/stateSnapshot.js';
import { validateInput } from '../cells/validateInput.js';
import { describe, InvalidInputError, InvalidOptionError, SeqstreamError, type ErrorCallback } from '../errors.js';
import { readTarget } from './internal/trainTarget.js';
import { subscribeLinked } from './internal/subscribeLinked.js';
import { booleanOption, functionOption, oneOfOption, INVALID_INPUT } from '../options.js';
import { handleInvalidInput } from './internal/handleInvalidInput.js';

/** One labelled event: input `x` and, optionally, what the model should have output for it. */
export interface TrainInput {
  /** Input vector, `inputSize` numbers. */
  x: ArrayLike<number>;
  /**
   * Desired output (`outputSize` numbers; a class index for cross-entropy). Absent or null:
   * no loss for this step, but it still advances the state and sits in the BPTT window.
   */
  target?: ArrayLike<number> | number | null;
}

/** Emitted for every event, before the model learns from it (prequential, test-then-train). */
export interface TrainPrediction {
  kind: 'prediction';
  /** 0-based event number. */
  step: number;
  /** The model's output for this event (head output, or top `h` without a head); a fresh copy. */
  y: Float32Array;
  /** Loss of `y` against this event's target, or null without one (always null when self-supervised). */
  loss: number | null;
}

/** Emitted after the prediction of every k1-th event, when the weights were updated. */
export interface TrainUpdate {
  kind: 'update';
  /** Event after which the update happened. */
  step: number;
  /** Number of updates this subscription made so far, including this one. */
  update: number;
  /** Mean loss of the window (its last k1 steps), before the update. */
  loss: number;
  /** Global L2 norm of the gradients before clipping. */
  gradNorm: number;
  /** Whether `clipGradNorm` scaled the gradients down. */
  clipped: boolean;
  /** Learning rate used. */
  lr: number;
  /** First event of the BPTT window and its length (`min(k2, events since reset)`). */
  windowStart: number;
  windowLength: number;
  /** Copies the online hidden state as of this update (for checkpoints); call it before the next event. */
  snapshot: () => StateSnapshot;
}

/** Emitted instead of an update when the loss or the gradients were not finite. */
export interface TrainSkip {
  kind: 'skip';
  step: number;
  reason: 'non_finite';
  loss: number;
  gradNorm: number;
  /** The hidden state was reset to zeros and the BPTT history dropped; the weights are untouched. */
  stateReset: true;
}

/** What {@link trainOnline} emits: predictions, interleaved with training telemetry. */
export type TrainEvent = TrainPrediction | TrainUpdate | TrainSkip;

/** Options of {@link trainOnline}. */
export interface TrainOnlineOptions {
  /** Update every `k1` events. Default 32. */
  k1?: number;
  /** Backpropagate through the last `k2` events (`k2 >= k1`). Default `k1` (PyTorch's "detach every k steps"). */
  k2?: number;
  /** `'mse'`, `'cross_entropy'` (softmax or identity head) or `'binary_cross_entropy'` (sigmoid or identity head). Default `'mse'`. */
  loss?: LossKind;
  /** Optimizer (`adam()`, `sgd()`, `rmsprop()`, or restored with `optimizerFromJSON`). Default `adam({ lr: 1e-3 })`, one per subscription. */
  optimizer?: Optimizer;
  /** Clip the gradients' global L2 norm to this (PyTorch `clip_grad_norm_`). Default `null` (no clipping). */
  clipGradNorm?: number | null;
  /** Learn to predict the next input: the target of event t is `x[t+1]`. Events may be bare vectors. Default false. */
  selfSupervised?: boolean;
  /** `'fused'` (hand-derived gradients, fast) or `'tfjs'` (autograd on the current tfjs backend; `await initBackend()` first). Default `'fused'`. */
  engine?: 'fused' | 'tfjs';
  /** Hidden state to start from (see `snapshotState`). Default zeros. */
  initialState?: StateSnapshot;
  /** Bad event (`x` or `target`): `'error'` ends the stream with the error, `'skip'` drops the event. Default `'error'`. */
  invalidInput?: 'error' | 'skip';
  /** Called with each skipped bad event when `invalidInput` is `'skip'`. Default none. */
  onError?: ErrorCallback;
}

const LOSSES: readonly LossKind[] = ['mse', 'cross_entropy', 'binary_cross_entropy'];

/**
 * Online learning inside the stream: serves a prediction for every event, then learns from it
 * with truncated backpropagation through time (Williams & Peng's k1/k2), updating the shared
 * `model` in place.
 *
 * Algorithm, per subscription (own state, own history, own optimizer buffers unless shared):
 * 1. Validate the event (`x`: `SEQ_INPUT_*`; `target`: `SEQ_TARGET_*`). In self-supervised
 *    mode, `x` first becomes the target of the previous step, and a window that came due at
 *    the previous step is learned now (step 4), before stepping `x`.
 * 2. Step the model online with its current weights, recording the step (the ring keeps the
 *    last k2 steps and the state before each).
 * 3. Emit `{ kind: 'prediction', y, loss }`: the output made before learning from this event.
 * 4. After every k1-th event: gradients over the last `min(k2, events)` steps from the saved
 *    state at the window start (detached), loss over the last k1 steps' targets only;
 *    non-finite loss or gradient: emit `skip`, reset the state to zeros, keep the weights; no
 *    target in range: nothing; else clip by global norm, step the optimizer inside
 *    `model.updateParameters` (other operators on the model see the new weights at their next
 *    step, never mid-step) and emit `{ kind: 'update', ... }`.
 * 5. The online state carries on. Teardown frees the engine (tfjs tensors included).
 *
 * With k1 = k2 the recorded online pass is exactly the window's re-run, so the fused engine
 * backpropagates straight from it: one forward per event, one backward per window.
 *
 * @example
 * ```ts
 * import { from, filter } from 'rxjs';
 * import { RecurrentModel } from 'seqstream/cells';
 * import { adam } from 'seqstream/training';
 * import { trainOnline } from 'seqstream/streams';
 * const model = RecurrentModel.create({ cell: 'lstm', inputSize: 1, hiddenSize: 16, head: { outputSize: 1 }, seed: 1 });
 * const events = Array.from({ length: 500 }, (_, t) => ({ x: [Math.sin(t / 5)], target: [Math.sin((t + 1) / 5)] }));
 * from(events).pipe(trainOnline(model, { k1: 16, optimizer: adam({ lr: 0.01 }) }))
 *   .subscribe((e) => { if (e.kind === 'update' && e.update % 10 === 0) console.log(e.step, e.loss); });
 * ```
 */
export function trainOnline(model: RecurrentModel, options: TrainOnlineOptions = {}): OperatorFunction<TrainInput | ArrayLike<number>, TrainEvent> {
  if (!model || typeof model !== 'object' || typeof (model as RecurrentModel).updateParameters !== 'function') {
    throw new InvalidOptionError('model', 'a RecurrentModel', model);
  }
  const k1 = options.k1 ?? 32;
  if (!Number.isInteger(k1) || k1 < 1) throw new InvalidOptionError('k1', 'a positive integer', k1);
  const k2 = options.k2 ?? k1;
  if (!Number.isInteger(k2) || k2 < k1) throw new InvalidOptionError('k2', `an integer >= k1 (${k1})`, k2);
  const loss = options.loss ?? 'mse';
  if (!LOSSES.includes(loss)) throw new InvalidOptionError('loss', LOSSES.join(', '), loss);
  const activation = model.head ? model.head.activation : 'identity';
  if (!LOSS_HEADS[loss].includes(activation)) {
    throw new InvalidOptionError('loss', `a loss that fits a '${activation}' head (${LOSSES.filter((l) => LOSS_HEADS[l].includes(activation)).join(', ')})`, loss);
  }
  if (options.optimizer !== undefined && (typeof options.optimizer !== 'object' || typeof options.optimizer?.step !== 'function')) {
    throw new InvalidOptionError('optimizer', 'an Optimizer (adam(), sgd(), rmsprop())', options.optimizer);
  }
  const clip = options.clipGradNorm ?? null;
  if (clip !== null && (typeof clip !== 'number' || !(clip > 0))) throw new InvalidOptionError('clipGradNorm', 'a positive number or null', clip);
  const selfSupervised = booleanOption('selfSupervised', options.selfSupervised, false);
  const { inputSize: I, hiddenSize: H } = model.config;
  const O = model.head ? model.head.outputSize : H;
  if (selfSupervised && O !== I) throw new InvalidOptionError('selfSupervised', `a model whose output size (${O}) equals its input size (${I})`, selfSupervised);
  const engineKind = oneOfOption('engine', options.engine, ['fused', 'tfjs'] as const, 'fused');
  if (engineKind === 'tfjs') tfjs("trainOnline() with engine 'tfjs'"); // SEQ_TFJS_NOT_LOADED now, not at subscribe
  const invalidInput = oneOfOption('invalidInput', options.invalidInput, INVALID_INPUT, 'error');
  functionOption('onError', options.onError);
  let initial: { h: number[][]; c: number[][] | null } | null = null;
  if (options.initialState !== undefined) {
    try {
      restoreState(model, model.createState(), options.initialState); // validates the snapshot
    } catch (e) {
      throw new InvalidOptionError('initialState', `a state snapshot of this model (${(e as Error).message})`, options.initialState);
    }
    // the snapshot's own numbers (float64), not a float32 copy, so a resumed run continues bit for bit
    initial = { h: options.initialState.h, c: options.initialState.c ?? null };
  }

  return (source) =>
    new Observable<TrainEvent>((subscriber) => {
      const engine = createTbpttEngine(model, engineKind, { k1, k2, loss, batch: 1 });
      if (initial) engine.reset(initial.h, initial.c);
      const optimizer = options.optimizer ?? adam({ lr: 1e-3 });
      const params = model.parameters();
      const grads = params.map((p) => new Float64Array(p.data.length));
      const target = new Float64Array(O);
      const y = new Float32Array(O);
      let step = 0;
      let updates = 0;
      // Registered first: a synchronous source may close this subscriber before subscribe returns.
      subscriber.add(() => engine.dispose());

      const learn = (): void => {
        // A consumer that left (e.g. take(n)) must not go on changing the shared weights.
        if (subscriber.closed) return;
        const out = learnWindow(model, engine, grads, { optimizer, clipGradNorm: clip });
        if (out.status === 'non_finite') {
          engine.reset();
          subscriber.next({ kind: 'skip', step: step - 1, reason: 'non_finite', loss: out.window.loss, gradNorm: out.gradNorm, stateReset: true });
        } else if (out.status === 'updated') {
          updates++;
          subscriber.next({
            kind: 'update',
            step: step - 1,
            update: updates,
            loss: out.window.loss,
            gradNorm: out.gradNorm,
            clipped: out.clipped,
            lr: optimizer.lr,
            windowStart: out.window.start,
            windowLength: out.window.length,
            snapshot: () => {
              const st = engine.state();
              const snap: StateSnapshot = { format: 'seqstream-state', version: 1, cell: model.config.cell, hiddenSize: H, numLayers: model.config.numLayers, h: st.h.map((a) => Array.from(a)) };
              if (st.c) snap.c = st.c.map((a) => Array.from(a));
              return snap;
            },
          });
        }
      };

      subscribeLinked(source, subscriber, {
        next(event) {
          let x: ArrayLike<number>;
          let hasTarget = false;
          try {
            const isBare = Array.isArray(event) || ArrayBuffer.isView(event);
            if (!isBare && (event === null || typeof event !== 'object')) {
              throw new InvalidInputError('SEQ_INPUT_TYPE', `Event must be { x, target? }${selfSupervised ? ' or a numeric vector' : ''}, received ${describe(event)}`, { received: describe(event) });
            }
            const ev = isBare ? { x: event as ArrayLike<number> } : (event as TrainInput);
            x = validateInput(ev.x, I, 'x');
            if (!selfSupervised && ev.target !== undefined && ev.target !== null) {
              readTarget(ev.target, loss, target);
              hasTarget = true;
            }
          } catch (err) {
            if (!(err instanceof SeqstreamError)) throw err;
            handleInvalidInput(invalidInput, options.onError, err, event, (e) => subscriber.error(e));
            return;
          }
          try {
            if (selfSupervised && engine.stepsSinceReset > 0) {
              for (let k = 0; k < I; k++) target[k] = x[k];
              engine.labelLast(target);
              if (engine.windowDue()) learn();
            }
            engine.step(x, hasTarget ? target : null, y);
            const prediction: TrainPrediction = { kind: 'prediction', step, y: y.slice(), loss: hasTarget ? outputLoss(loss, activation, y, target) : null };
            step++;
            subscriber.next(prediction);
            if (!selfSupervised && engine.windowDue()) learn();
          } catch (err) {
            subscriber.error(err);
          }
        },
        error: (err) => subscriber.error(err),
        complete: () => subscriber.complete(),
      });
    });
}
