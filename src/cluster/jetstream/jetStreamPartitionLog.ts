import type { JetStreamClient, JetStreamManager, JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { InvalidOptionError } from '../../errors.js';
import { integerOption, numberOption } from '../../options.js';
import type { PartitionLog, PartitionReader, PartitionRecord } from '../clusterEngine.js';
import type { NatsModules } from './loadNats.js';
import type { JetStreamNames } from './jetStreamNames.js';
import { JetStreamPublishWindow } from './jetStreamPublishWindow.js';

const IDLE = Symbol('idle');

/** Settings of {@link JetStreamPartitionLog}. */
export interface JetStreamPartitionLogOptions {
  /** Messages a partition's consumer asks for at a time (also the largest batch handed on). Default 2048. */
  fetchBatch?: number;
  /** An output or dead letter with no acknowledgement after this many ms is sent again. Default 5000. */
  publishTimeoutMs?: number;
  /** Refusals of one output or dead letter (stream full with discard new, no stream, no leader) before its partition fails with `SEQ_CLUSTER_REFUSED` and is given up. Default 20. */
  maxPublishRefusals?: number;
  /** Status lines (each refusal reason once; a read that found a hole in its replica and reads again). Default none. */
  status?: (line: string) => void;
}

/**
 * A {@link PartitionLog} on JetStream: partition p is the stream `<stream>-p<p>`, read by an
 * ordered consumer starting at a sequence (no server-side acks: where to resume is the
 * checkpoint's business, see nats-server#4786) and handed on in batches of what has arrived;
 * outputs and dead letters go through a {@link JetStreamPublishWindow} with
 * `Nats-Msg-Id = <p>:<seq>` into streams that drop repeats within their duplicate window; trim
 * purges a partition stream below a checkpointed sequence.
 *
 * @example
 * ```ts
 * const log = new JetStreamPartitionLog(nats, nc, js, jsm, jetStreamNames('sensors'));
 * const reader = await log.read(0, 1);
 * ```
 *
 * The constructor throws `SEQ_INVALID_OPTION` on the old call without the connection,
 * `new JetStreamPartitionLog(nats, js, jsm, names, options)`: every argument would land one place
 * off and fail later, far from the call.
 */
export class JetStreamPartitionLog implements PartitionLog {
  private readonly fetchBatch: number;
  private readonly window: JetStreamPublishWindow;
  private readonly status: ((line: string) => void) | undefined;

  constructor(
    private readonly nats: NatsModules,
    nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly names: JetStreamNames,
    options: JetStreamPartitionLogOptions = {},
  ) {
    const c = nc as Partial<NatsConnection> | undefined;
    if (typeof c?.subscribe !== 'function' || typeof c.isClosed !== 'function') {
      throw new InvalidOptionError('JetStreamPartitionLog(nats, nc, js, jsm, names, options)', 'a NatsConnection as the second argument (the old call without it is gone)', nc);
    }
    if (typeof (names as Partial<JetStreamNames> | undefined)?.partitionStream !== 'function') throw new InvalidOptionError('names', 'jetStreamNames(stream)', names);
    if (typeof options !== 'object' || options === null) throw new InvalidOptionError('JetStreamPartitionLog options', 'an object', options);
    this.fetchBatch = integerOption('fetchBatch', options.fetchBatch, 2048, 1);
    this.status = options.status;
    this.window = new JetStreamPublishWindow(nats, nc, {
      ackTimeoutMs: numberOption('publishTimeoutMs', options.publishTimeoutMs, 5000, { min: 1 }),
      maxRefusals: integerOption('maxPublishRefusals', options.maxPublishRefusals, 20, 1),
      status: options.status,
    });
  }

  async read(partition: number, fromSeq: number): Promise<PartitionReader> {
    const stream = this.names.partitionStream(partition);
    // Short pulls with heartbeats: when the server holding the ordered consumer dies, the client
    // notices within seconds (the default 30 s pull would stall the partition that long) and recreates it.
    const open = async (seq: number) =>
      (await this.js.consumers.get(stream, { deliver_policy: this.nats.jetstream.DeliverPolicy.StartSequence, opt_start_seq: Math.max(1, seq) })).consume({ max_messages: this.fetchBatch, expires: 5000, idle_heartbeat: 1000 });
    let messages = await open(fromSeq);
    let stopped = false;
    const max = this.fetchBatch;
    const status = this.status;
    const holds = (seq: number): Promise<boolean> => this.holds(stream, seq);
    const idleTurn = (): Promise<typeof IDLE> => new Promise((r) => setImmediate(() => r(IDLE)));
    async function* batches(): AsyncGenerator<PartitionRecord[]> {
      let expected = Math.max(1, fromSeq);
      for (let restarts = 0; !stopped; ) {
        const it = messages[Symbol.asyncIterator]();
        let next = it.next();
        let batch: PartitionRecord[] = [];
        let idle: Promise<typeof IDLE> | undefined;
        let hole = false;
        for (;;) {
          // Hand on what has arrived: a batch ends when the iterator holds nothing more now. Its
          // pending count can overstate (pull requests queued in it are counted), so an event-loop
          // turn without a message ends the batch too.
          let r: IteratorResult<JsMsg> | typeof IDLE;
          if (batch.length === 0) r = await next;
          else if (batch.length >= max || messages.getPending() === 0) r = IDLE;
          else r = await Promise.race([next, (idle ??= idleTurn())]);
          if (r === IDLE) {
            yield batch;
            batch = [];
            idle = undefined;
            continue;
          }
          if (r.done) break;
          const m = r.value;
          // A partition stream's sequences are contiguous but for what was purged below a
          // checkpoint, so a jump means this consumer's replica misses records the leader holds
          // (seen after a server restart on nats-server 2.9.10, whose catch-up can leave holes in
          // a replica's store). Skipping them would apply later events to the wrong state: stop
          // here and read again from the first missing one, on a new consumer.
          if (m.seq > expected && (await holds(expected).catch(() => true))) {
            hole = true;
            status?.(`partition ${partition}: the stream read jumped from seq ${expected - 1} to ${m.seq}, and the stream leader holds ${expected}; reading again from ${expected}`);
            break;
          }
          expected = Math.max(expected, m.seq + 1);
          const dot = m.subject.indexOf('.', m.subject.indexOf('.in.') + 4);
          batch.push({ seq: m.seq, subject: m.subject, data: m.data, subjectKey: dot > 0 ? m.subject.slice(dot + 1) : undefined });
          next = it.next();
        }
        if (batch.length > 0) yield batch;
        if (!hole) return;
        messages.stop();
        for (;;) {
          await new Promise((r) => setTimeout(r, Math.min(2000, 100 * 2 ** Math.min(restarts++, 5))));
          if (stopped) return;
          try {
            const reopened = await open(expected);
            if (stopped) return void reopened.stop();
            messages = reopened;
            break;
          } catch {
            // the cluster may still be electing leaders: try again
          }
        }
      }
    }
    return {
      batches: batches(),
      stop: () => {
        stopped = true;
        messages.stop();
      },
    };
  }

  /** Whether the stream leader still holds `seq` of `stream` (a leader read, not a direct get from any replica). */
  private async holds(stream: string, seq: number): Promise<boolean> {
    try {
      return (await this.jsm.streams.getMessage(stream, { seq })) !== null;
    } catch (e) {
      if ((e as { code?: number }).code === 10037 || /no message found/i.test((e as Error).message)) return false;
      throw e;
    }
  }

  emit(partition: number, seq: number, payload: Uint8Array): void {
    this.window.publish(partition, this.names.outputSubject(partition), payload, `${partition}:${seq}`);
  }

  deadLetter(partition: number, seq: number, code: string, reason: string, payload: Uint8Array): void {
    this.window.publish(partition, this.names.deadSubject(partition), payload, `${partition}:${seq}`, {
      'Seqstream-Code': code,
      'Seqstream-Reason': reason.replace(/[\r\n]+/g, ' ').slice(0, 512),
      'Seqstream-Partition': String(partition),
      'Seqstream-Seq': String(seq),
    });
  }

  stored(partition: number): Promise<void> {
    return this.window.stored(partition);
  }

  below(partition: number, atMost: number): Promise<void> {
    return this.window.below(partition, atMost);
  }

  drop(partition: number): void {
    this.window.drop(partition);
  }

  async trim(partition: number, uptoSeq: number): Promise<void> {
    await this.jsm.streams.purge(this.names.partitionStream(partition), { seq: uptoSeq + 1 });
  }

  /** Stops resending outputs and dead letters. */
  close(): void {
    this.window.close();
  }
}
