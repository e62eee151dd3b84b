import type { JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { InvalidOptionError, SeqstreamError } from '../../errors.js';
import { partitionOf } from '../partitionOf.js';
import { jetStreamNames, type JetStreamNames } from './jetStreamNames.js';
import { loadNats } from './loadNats.js';

/** Options of {@link PartitionedPublisher}. */
export interface PartitionedPublisherOptions {
  /** Topology name. */
  stream: string;
  /** Partition count (must match the topology's). */
  partitions: number;
  /** Most publishes awaiting their acknowledgement; `publish` waits beyond it, and `ready()` counts those queued behind their key too. Default 256. */
  maxInFlight?: number;
  /** Larger payloads are refused with `SEQ_CLUSTER_OVERSIZE`. Default 65536. */
  maxEventBytes?: number;
  /** Tries per event (backoff 50 ms doubling to 2 s between them) before `SEQ_CLUSTER_PUBLISH`. Default 20. */
  retries?: number;
  /** Acknowledgement timeout per try, in ms. Default 5000. */
  timeoutMs?: number;
  /** Prefix of each event's `Nats-Msg-Id` (`<prefix>:<n>`), so a retried publish is stored once. Default a random id. */
  idPrefix?: string;
  /**
   * Keep each key's events in `publish` order in its partition, retries included: a key's event
   * is sent once the one before it is stored (or failed for good), so a publish retried after a
   * lost acknowledgement (a server or stream leader died) cannot land after a later event of its
   * key. Events of different keys are still pipelined up to `maxInFlight`; one key alone
   * publishes one round trip at a time. `false` pipelines a key's events too (faster for a few hot
   * keys; a retry can then reorder them). Default true.
   */
  orderedKeys?: boolean;
}

/** Where an event was stored. */
export interface PublishedEvent {
  partition: number;
  seq: number;
}

const encoder = new TextEncoder();

/**
 * Publishes keyed events into their partition (`fnv1a32(key) mod P`, the same hash the server's
 * `{{partition(P,1)}}` mapping uses): subject `<stream>.in.<p>`, payload the event's JSON.
 * Each event carries a `Nats-Msg-Id`, so a retry after a lost acknowledgement is stored once,
 * and (with `orderedKeys`, the default) a key's next event waits for it, so the retry cannot
 * land after a later event of its key either.
 *
 * @example
 * ```ts
 * const pub = await PartitionedPublisher.connect('nats://127.0.0.1:4222', { stream: 'sensors', partitions: 8 });
 * const { partition, seq } = await pub.publish({ key: 'sensor-7', x: [0.1, 0.2, 0.3] });
 * await pub.close();
 * ```
 */
export class PartitionedPublisher {
  private readonly names: JetStreamNames;
  private readonly inFlight = new Set<Promise<unknown>>();
  /** Every publish not settled yet, including those still waiting for room: what `flush` waits for. */
  private readonly unsettled = new Set<Promise<unknown>>();
  private n = 0;
  private retries = 0;
  private readonly o: Required<PartitionedPublisherOptions>;
  /** Per key, the last publish not settled yet: the key's next one is sent after it (`orderedKeys`). */
  private readonly lastOfKey = new Map<string, Promise<unknown>>();

  constructor(
    private readonly js: JetStreamClient,
    options: PartitionedPublisherOptions,
    private readonly nc?: NatsConnection,
  ) {
    this.names = jetStreamNames(options.stream);
    partitionOf('', options.partitions);
    this.o = {
      stream: options.stream,
      partitions: options.partitions,
      maxInFlight: options.maxInFlight ?? 256,
      maxEventBytes: options.maxEventBytes ?? 65_536,
      retries: options.retries ?? 20,
      timeoutMs: options.timeoutMs ?? 5000,
      idPrefix: options.idPrefix ?? Math.random().toString(36).slice(2, 10),
      orderedKeys: options.orderedKeys ?? true,
    };
    if (typeof this.o.orderedKeys !== 'boolean') throw new InvalidOptionError('orderedKeys', 'a boolean', options.orderedKeys);
    if (!Number.isInteger(this.o.maxInFlight) || this.o.maxInFlight < 1) throw new InvalidOptionError('maxInFlight', 'an integer >= 1', options.maxInFlight);
  }

  /** Connects (waiting for a server) and returns a publisher that closes its connection on `close()`. */
  static async connect(servers: string | string[], options: PartitionedPublisherOptions): Promise<PartitionedPublisher> {
    const nats = await loadNats();
    const nc = await nats.transport.connect({ servers, maxReconnectAttempts: -1, reconnectTimeWait: 250, waitOnFirstConnect: true, name: 'seqstream-publish' });
    return new PartitionedPublisher(nats.jetstream.jetstream(nc), options, nc);
  }

  /** The partition an event of `key` goes to. */
  partitionOf(key: string | number): number {
    return partitionOf(key, this.o.partitions);
  }

  /**
   * Publishes one event (`{ key, x, reset? }`, or its JSON text with `key` given); resolves once
   * it is stored. Waits first while `maxInFlight` publishes are unacknowledged, and (with
   * `orderedKeys`) until the key's previous event is stored, so a key's events are stored in the
   * order of the calls.
   */
  publish(event: { key: string | number; x?: unknown; reset?: boolean } | string, key?: string | number): Promise<PublishedEvent> {
    let p: Promise<PublishedEvent>;
    try {
      p = this.publishOne(event, key);
    } catch (e) {
      return Promise.reject(e);
    }
    this.unsettled.add(p);
    const done = (): void => void this.unsettled.delete(p);
    p.then(done, done);
    return p;
  }

  /** Checks and numbers the event at once (so a key's chain follows the calls), then sends it in turn. */
  private publishOne(event: { key: string | number; x?: unknown; reset?: boolean } | string, key?: string | number): Promise<PublishedEvent> {
    const k = typeof event === 'string' ? key : event.key;
    if (k === undefined || k === null || k === '') throw new SeqstreamError('SEQ_CLUSTER_MALFORMED', "event has no 'key'", {});
    const data = encoder.encode(typeof event === 'string' ? event : JSON.stringify(event));
    if (data.length > this.o.maxEventBytes) {
      throw new SeqstreamError('SEQ_CLUSTER_OVERSIZE', `event of ${data.length} bytes is over maxEventBytes (${this.o.maxEventBytes})`, { bytes: data.length });
    }
    const partition = this.partitionOf(k);
    const msgID = `${this.o.idPrefix}:${++this.n}`;
    const ks = String(k);
    const before = this.o.orderedKeys ? this.lastOfKey.get(ks) : undefined;
    const p = (async () => {
      if (before) await before;
      await this.room();
      const sent = this.send(this.names.partitionSubject(partition), data, msgID);
      this.inFlight.add(sent);
      const done = (): void => void this.inFlight.delete(sent);
      sent.then(done, done);
      return { partition, seq: await sent };
    })();
    if (this.o.orderedKeys) {
      const settled = p.then(
        () => undefined,
        () => undefined,
      );
      this.lastOfKey.set(ks, settled);
      void settled.then(() => {
        if (this.lastOfKey.get(ks) === settled) this.lastOfKey.delete(ks);
      });
    }
    return p;
  }

  private async send(subject: string, data: Uint8Array, msgID: string): Promise<number> {
    let wait = 50;
    for (let attempt = 1; ; attempt++) {
      try {
        return (await this.js.publish(subject, data, { msgID, timeout: this.o.timeoutMs })).seq;
      } catch (e) {
        this.retries++;
        if (attempt >= this.o.retries) throw new SeqstreamError('SEQ_CLUSTER_PUBLISH', `publishing to ${subject} failed ${attempt} times: ${(e as Error).message}`, { subject });
        await new Promise((r) => setTimeout(r, wait));
        wait = Math.min(2000, wait * 2);
      }
    }
  }

  /** Counters: events published so far, tries that failed and were retried (or gave up), and publishes not settled now. */
  stats(): { published: number; retries: number; unsettled: number } {
    return { published: this.n, retries: this.retries, unsettled: this.unsettled.size };
  }

  /**
   * Resolves once fewer than `maxInFlight` publishes are unsettled: sent and unacknowledged, or
   * queued behind an earlier event of their key. Await it before each `publish` to bound memory
   * (one hot key cannot queue more than `maxInFlight` events either).
   */
  async ready(): Promise<void> {
    while (this.unsettled.size >= this.o.maxInFlight) await Promise.race(this.unsettled).catch(() => undefined);
  }

  /** Resolves once fewer than `maxInFlight` publishes are sent and unacknowledged (the gate before sending). */
  private async room(): Promise<void> {
    while (this.inFlight.size >= this.o.maxInFlight) await Promise.race(this.inFlight).catch(() => undefined);
  }

  /** Waits for every publish in flight. */
  async flush(): Promise<void> {
    while (this.unsettled.size > 0) await Promise.allSettled([...this.unsettled]);
  }

  /** Flushes, then closes the connection this publisher opened (if any). */
  async close(): Promise<void> {
    await this.flush();
    await this.nc?.drain();
  }
}
