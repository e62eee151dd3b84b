import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import type { PartitionLog, PartitionReader, PartitionRecord } from '../clusterEngine.js';
import type { NatsModules } from './loadNats.js';
import type { JetStreamNames } from './jetStreamNames.js';

/** Settings of {@link JetStreamPartitionLog}. */
export interface JetStreamPartitionLogOptions {
  /** Messages a partition's consumer asks for at a time. Default 1024. */
  fetchBatch?: number;
  /** Publish acknowledgement timeout, in ms (then the publish is retried). Default 5000. */
  publishTimeoutMs?: number;
}

/**
 * A {@link PartitionLog} on JetStream: partition p is the stream `<stream>-p<p>`, read by an
 * ordered consumer starting at a sequence (no server-side acks: where to resume is the
 * checkpoint's business, see nats-server#4786); outputs and dead letters are published with
 * `Nats-Msg-Id = <p>:<seq>` into streams that drop repeats within their duplicate window; trim
 * purges a partition stream below a checkpointed sequence.
 *
 * @example
 * ```ts
 * const log = new JetStreamPartitionLog(nats, js, jsm, jetStreamNames('sensors'));
 * const reader = await log.read(0, 1);
 * ```
 */
export class JetStreamPartitionLog implements PartitionLog {
  private readonly fetchBatch: number;
  private readonly timeout: number;

  constructor(
    private readonly nats: NatsModules,
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly names: JetStreamNames,
    options: JetStreamPartitionLogOptions = {},
  ) {
    this.fetchBatch = options.fetchBatch ?? 1024;
    this.timeout = options.publishTimeoutMs ?? 5000;
  }

  async read(partition: number, fromSeq: number): Promise<PartitionReader> {
    const consumer = await this.js.consumers.get(this.names.partitionStream(partition), {
      deliver_policy: this.nats.jetstream.DeliverPolicy.StartSequence,
      opt_start_seq: Math.max(1, fromSeq),
    });
    // Short pulls with heartbeats: when the server holding the ordered consumer dies, the client
    // notices within seconds (the default 30 s pull would stall the partition that long) and recreates it.
    const messages = await consumer.consume({ max_messages: this.fetchBatch, expires: 5000, idle_heartbeat: 1000 });
    async function* records(): AsyncGenerator<PartitionRecord> {
      for await (const m of messages) {
        const dot = m.subject.indexOf('.', m.subject.indexOf('.in.') + 4);
        yield { seq: m.seq, subject: m.subject, data: m.data, subjectKey: dot > 0 ? m.subject.slice(dot + 1) : undefined };
      }
    }
    return { records: records(), stop: () => void messages.stop() };
  }

  async emit(partition: number, seq: number, payload: Uint8Array): Promise<void> {
    await this.js.publish(this.names.outputSubject(partition), payload, { msgID: `${partition}:${seq}`, timeout: this.timeout });
  }

  async deadLetter(partition: number, seq: number, code: string, reason: string, payload: Uint8Array): Promise<void> {
    const h = this.nats.transport.headers();
    h.set('Seqstream-Code', code);
    h.set('Seqstream-Reason', reason.replace(/[\r\n]+/g, ' ').slice(0, 512));
    h.set('Seqstream-Partition', String(partition));
    h.set('Seqstream-Seq', String(seq));
    await this.js.publish(this.names.deadSubject(partition), payload, { msgID: `${partition}:${seq}`, headers: h, timeout: this.timeout });
  }

  async trim(partition: number, uptoSeq: number): Promise<void> {
    await this.jsm.streams.purge(this.names.partitionStream(partition), { seq: uptoSeq + 1 });
  }
}
