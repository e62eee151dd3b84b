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
  /** Most publishes awaiting their acknowledgement; `publish` waits beyond it. Default 256. */
  maxInFlight?: number;
  /** Larger payloads are refused with `SEQ_CLUSTER_OVERSIZE`. Default 65536. */
  maxEventBytes?: number;
  /** Tries per event (backoff 50 ms doubling to 2 s between them) before `SEQ_CLUSTER_PUBLISH`. Default 20. */
  retries?: number;
  /** Acknowledgement timeout per try, in ms. Default 5000. */
  timeoutMs?: number;
  /** Prefix of each event's `Nats-Msg-Id` (`<prefix>:<n>`), so a retried publish is stored once. Default a random id. */
  idPrefix?: string;
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
 * Each event carries a `Nats-Msg-Id`, so a retry after a lost acknowledgement is stored once.
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
  private readonly o: Required<PartitionedPublisherOptions>;

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
    };
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
   * it is stored. Waits first while `maxInFlight` publishes are unacknowledged. Events of one key
   * keep their order as long as no acknowledgement is lost; a retried one may land after later ones.
   */
  publish(event: { key: string | number; x?: unknown; reset?: boolean } | string, key?: string | number): Promise<PublishedEvent> {
    const p = this.publishOne(event, key);
    this.unsettled.add(p);
    const done = (): void => void this.unsettled.delete(p);
    p.then(done, done);
    return p;
  }

  private async publishOne(event: { key: string | number; x?: unknown; reset?: boolean } | string, key?: string | number): Promise<PublishedEvent> {
    const k = typeof event === 'string' ? key : event.key;
    if (k === undefined || k === null || k === '') throw new SeqstreamError('SEQ_CLUSTER_MALFORMED', "event has no 'key'", {});
    const data = encoder.encode(typeof event === 'string' ? event : JSON.stringify(event));
    if (data.length > this.o.maxEventBytes) {
      throw new SeqstreamError('SEQ_CLUSTER_OVERSIZE', `event of ${data.length} bytes is over maxEventBytes (${this.o.maxEventBytes})`, { bytes: data.length });
    }
    await this.ready();
    const partition = this.partitionOf(k);
    const msgID = `${this.o.idPrefix}:${++this.n}`;
    const p = this.send(this.names.partitionSubject(partition), data, msgID).then((seq) => ({ partition, seq }));
    this.inFlight.add(p);
    const done = (): void => void this.inFlight.delete(p);
    p.then(done, done);
    return p;
  }

  private async send(subject: string, data: Uint8Array, msgID: string): Promise<number> {
    let wait = 50;
    for (let attempt = 1; ; attempt++) {
      try {
        return (await this.js.publish(subject, data, { msgID, timeout: this.o.timeoutMs })).seq;
      } catch (e) {
        if (attempt >= this.o.retries) throw new SeqstreamError('SEQ_CLUSTER_PUBLISH', `publishing to ${subject} failed ${attempt} times: ${(e as Error).message}`, { subject });
        await new Promise((r) => setTimeout(r, wait));
        wait = Math.min(2000, wait * 2);
      }
    }
  }

  /** Resolves once fewer than `maxInFlight` publishes are unacknowledged. */
  async ready(): Promise<void> {
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
