import type { StateSnapshot } from '../cells/stateSnapshot.js';
import { SeqstreamError } from '../errors.js';

/** What a running `recurrent()` subscription exposes to its control. */
export interface ControlBinding {
  snapshot(): StateSnapshot;
  restore(snapshot: StateSnapshot): void;
  reset(): void;
}

/**
 * A handle on the hidden state of a running `recurrent()` subscription: read it as a plain,
 * serialisable snapshot, restore one, or reset. Pass it as the `control` option; it binds to
 * one subscription at a time and unbinds on teardown. Calls while nothing is bound throw
 * `SEQ_CONTROL_UNBOUND`; binding a second subscription throws `SEQ_CONTROL_IN_USE`.
 *
 * @example
 * ```ts
 * import { RecurrentControl, recurrent } from 'seqstream/streams';
 * const control = new RecurrentControl();
 * source$.pipe(recurrent(model, { control })).subscribe(console.log);
 * const saved = JSON.stringify(control.snapshot());
 * control.restore(JSON.parse(saved));
 * ```
 */
export class RecurrentControl {
  private binding: ControlBinding | null = null;

  /** Whether a subscription is bound now. */
  get bound(): boolean {
    return this.binding !== null;
  }

  /** The bound stream's current state as a plain JSON-safe object. */
  snapshot(): StateSnapshot {
    return this.current().snapshot();
  }

  /** Replaces the bound stream's state; the next event steps from it. Validates first. */
  restore(snapshot: StateSnapshot): void {
    this.current().restore(snapshot);
  }

  /** Returns the bound stream to its initial state. */
  reset(): void {
    this.current().reset();
  }

  /** @internal Binds a subscription; returns the unbind function. */
  bind(binding: ControlBinding): () => void {
    if (this.binding) {
      throw new SeqstreamError('SEQ_CONTROL_IN_USE', 'This RecurrentControl is already bound to a running subscription; create one control per subscription');
    }
    this.binding = binding;
    return () => {
      if (this.binding === binding) this.binding = null;
    };
  }

  private current(): ControlBinding {
    if (!this.binding) throw new SeqstreamError('SEQ_CONTROL_UNBOUND', 'This RecurrentControl is not bound to a running subscription');
    return this.binding;
  }
}
