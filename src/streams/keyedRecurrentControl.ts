import type { StateSnapshot } from '../cells/stateSnapshot.js';
import { SeqstreamError } from '../errors.js';
import type { KeyedSlab, KeyedStats } from './internal/keyedSlab.js';
import type { KeyedCheckpoint } from './internal/keyedCheckpoint.js';

/** What a running `recurrentByKey` subscription lends its control. */
interface Binding<K> {
  slab: KeyedSlab<K>;
  flush(): void;
  checkpoint(): Promise<KeyedCheckpoint<K>>;
  includeModel: boolean;
}

/**
 * A handle on the per-key states of a running `recurrentByKey` subscription: inspect, snapshot,
 * restore, reset or delete one key, take a checkpoint of all keys. Pass it as the `control`
 * option; it binds when the operator is subscribed and unbinds on teardown. One subscription at
 * a time (a second one errors with `SEQ_KEYED_CONTROL_IN_USE`); calls while none runs throw
 * `SEQ_KEYED_NOT_RUNNING`. Every call first steps the events already queued, so it sees (and
 * changes) state in event order.
 *
 * @example
 * ```ts
 * const control = new KeyedRecurrentControl<string>();
 * events$.pipe(recurrentByKey(model, { control })).subscribe(console.log);
 * const saved = control.snapshot('sensor-7');       // StateSnapshot | undefined
 * control.restore('sensor-7', saved!);              // put it back (or into another key)
 * control.reset('sensor-7');                        // zero state
 * ```
 */
export class KeyedRecurrentControl<K = string | number> {
  private binding: Binding<K> | null = null;

  /** @internal Called by `recurrentByKey` on subscribe. */
  bind(binding: Binding<K>): void {
    if (this.binding) {
      throw new SeqstreamError('SEQ_KEYED_CONTROL_IN_USE', 'This KeyedRecurrentControl is already bound to a running recurrentByKey subscription', {});
    }
    this.binding = binding;
  }

  /** @internal Called by `recurrentByKey` on teardown. */
  unbind(binding: Binding<K>): void {
    if (this.binding === binding) this.binding = null;
  }

  /** Whether a subscription is bound. */
  get running(): boolean {
    return this.binding !== null;
  }

  private get b(): Binding<K> {
    if (!this.binding) throw new SeqstreamError('SEQ_KEYED_NOT_RUNNING', 'No recurrentByKey subscription is using this control', {});
    this.binding.flush();
    return this.binding;
  }

  /** Number of keys held. */
  get size(): number {
    return this.b.slab.size;
  }

  /** Keys held, least recently used first. */
  keys(): K[] {
    return this.b.slab.keys();
  }

  /** Whether `key` has state. */
  has(key: K): boolean {
    return this.b.slab.has(key);
  }

  /** A JSON-safe copy of one key's state, or `undefined` when the key is not held. */
  snapshot(key: K): StateSnapshot | undefined {
    return this.b.slab.snapshot(key);
  }

  /** Sets one key's state (creating the key). Throws `SEQ_STATE_FORMAT` when the snapshot does not fit the model. */
  restore(key: K, snapshot: StateSnapshot): void {
    this.b.slab.restore(key, snapshot);
  }

  /** Zeroes one key's state (no-op for an unknown key). */
  reset(key: K): void {
    this.b.slab.reset(key);
  }

  /**
   * Removes one key; it is reported to `onEvict` with reason `'deleted'`. Returns whether it was
   * held. Called from inside an emission while the key still has queued events, the removal waits
   * for them (they step and are emitted under the key, as `reset` waits); a new event for the key
   * meanwhile starts it afresh.
   */
  delete(key: K): boolean {
    return this.b.slab.delete(key);
  }

  /** All keys' states, the model (unless `includeModel: false`) and the offset of the last event stepped. */
  capture(options: { includeModel?: boolean } = {}): KeyedCheckpoint<K> {
    const b = this.b;
    return b.slab.capture(options.includeModel ?? b.includeModel);
  }

  /** Captures and saves a checkpoint to the configured `checkpoint.store`; resolves once it is durable. */
  checkpoint(): Promise<KeyedCheckpoint<K>> {
    return this.b.checkpoint();
  }

  /** Counters and sizes: keys, slab bytes, events, steps, rejects, evictions, time in the stepper. */
  stats(): KeyedStats {
    return this.b.slab.stats();
  }
}
