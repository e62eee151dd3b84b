import { SeqstreamError } from '../errors.js';
import type { AnomalyDetectorJSON } from './anomalyDetector.js';
import type { DetectorCheckpoint } from './detectorCheckpoint.js';

/** Counters of a running `detectAnomalies` subscription. */
export interface DetectorStats {
  /** Keys with a live detector. */
  keys: number;
  /** Events scored (all keys, carried across a resume). */
  events: number;
  /** Events rejected as bad input. */
  rejected: number;
  /** Keys evicted so far (LRU, idle, deleted). */
  evicted: number;
}

/** What a running subscription lends its control. */
export interface DetectorBinding<K> {
  snapshot(key: K): AnomalyDetectorJSON | undefined;
  restore(key: K, state: AnomalyDetectorJSON): void;
  delete(key: K): boolean;
  keys(): K[];
  stats(): DetectorStats;
  capture(): DetectorCheckpoint<K>;
  checkpoint(): Promise<DetectorCheckpoint<K>>;
}

/**
 * A handle on the per-key detectors of a running `detectAnomalies` subscription: snapshot,
 * restore or delete one key, list keys, read counters, capture every key or take a durable checkpoint now. It binds
 * on subscribe and unbinds on teardown; one subscription at a time (`SEQ_DETECT_CONTROL_IN_USE`),
 * calls while none runs throw `SEQ_DETECT_NOT_RUNNING`.
 *
 * @example
 * ```ts
 * const control = new DetectorControl<string>();
 * readings$.pipe(detectAnomalies({ control })).subscribe();
 * const saved = control.snapshot('pump-3');   // JSON-safe, or undefined
 * if (saved) control.restore('pump-4', saved);
 * ```
 */
export class DetectorControl<K = string | number> {
  private binding: DetectorBinding<K> | null = null;

  /** @internal Called by `detectAnomalies` on subscribe. */
  bind(binding: DetectorBinding<K>): void {
    if (this.binding) throw new SeqstreamError('SEQ_DETECT_CONTROL_IN_USE', 'This DetectorControl is already bound to a running detectAnomalies subscription', {});
    this.binding = binding;
  }

  /** @internal Called by `detectAnomalies` on teardown. */
  unbind(binding: DetectorBinding<K>): void {
    if (this.binding === binding) this.binding = null;
  }

  private get live(): DetectorBinding<K> {
    if (!this.binding) throw new SeqstreamError('SEQ_DETECT_NOT_RUNNING', 'No detectAnomalies subscription is running with this control', {});
    return this.binding;
  }

  /** The key's detector state as plain JSON, or undefined for an unknown key. */
  snapshot(key: K): AnomalyDetectorJSON | undefined {
    return this.live.snapshot(key);
  }

  /** Replaces (or creates) the key's detector from a snapshot. */
  restore(key: K, state: AnomalyDetectorJSON): void {
    this.live.restore(key, state);
  }

  /** Drops the key's detector (reported to `onEvict` as `'deleted'`); false if unknown. */
  delete(key: K): boolean {
    return this.live.delete(key);
  }

  /** Live keys, least recently used first. */
  keys(): K[] {
    return this.live.keys();
  }

  /** Counters. */
  stats(): DetectorStats {
    return this.live.stats();
  }

  /**
   * Every key's state now, after the last event scored, as a new JSON-safe object (nothing is
   * saved: for a caller that stores checkpoints itself, e.g. the cluster worker).
   */
  capture(): DetectorCheckpoint<K> {
    return this.live.capture();
  }

  /** Captures every key now and saves it to the configured store (resolves once durable). */
  checkpoint(): Promise<DetectorCheckpoint<K>> {
    return this.live.checkpoint();
  }
}
