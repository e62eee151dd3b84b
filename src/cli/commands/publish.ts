import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { connectJetStreamEngine } from '../../cluster/jetstream/connectJetStreamEngine.js';
import { PartitionedPublisher } from '../../cluster/jetstream/partitionedPublisher.js';
import { type CliContext, parseInteger } from '../cliContext.js';
import { type TopologyFlags, withTopologyOptions } from '../clusterOptions.js';

interface PublishFlags extends TopologyFlags {
  key: string;
  maxInFlight: number;
  maxEventBytes: number;
  acks?: boolean;
  unordered?: boolean;
}

/**
 * `seqstream publish --nats URL --stream NAME --partitions P`: NDJSON events on stdin, each
 * published into its key's partition, each key's lines stored in input order (unless
 * `--unordered`); bad lines are reported on stderr and skipped; `--acks` prints
 * `{"line","partition","seq"}` per stored event on stdout.
 *
 * @example
 * ```ts
 * registerPublish(program, ctx); // seqstream publish --nats nats://127.0.0.1:4222 --stream sensors --partitions 8 < events.ndjson
 * ```
 */
export function registerPublish(program: Command, ctx: CliContext): void {
  withTopologyOptions(program.command('publish').description('publish NDJSON events from stdin into the partitions of a NATS JetStream topology'))
    .option('--key <field>', 'field holding the key', 'key')
    .option('--max-in-flight <n>', 'most unacknowledged publishes', parseInteger(1), 256)
    .option('--max-event-bytes <n>', 'longer lines are refused', parseInteger(1), 65_536)
    .option('--acks', 'print {"line","partition","seq"} per stored event on stdout')
    .option('--unordered', "pipeline a key's events too: faster for a few hot keys (one key alone: one round trip per event otherwise), but a retry can store an event after a later one of its key")
    .action(async (opts: PublishFlags) => {
      const say = (line: string): void => ctx.err(`seqstream publish: ${line}`);
      // Creates (or checks) the topology, so events published before any worker starts are kept.
      const engine = await connectJetStreamEngine({ servers: opts.nats, stream: opts.stream, partitions: opts.partitions, replicas: opts.replicas, status: say });
      await engine.close();
      const pub = await PartitionedPublisher.connect(opts.nats, { stream: opts.stream, partitions: opts.partitions, maxInFlight: opts.maxInFlight, maxEventBytes: opts.maxEventBytes, orderedKeys: opts.unordered !== true });
      let lineNo = 0;
      let published = 0;
      let rejected = 0;
      const reject = (line: number, code: string, message: string): void => {
        rejected++;
        ctx.err(JSON.stringify({ error: code, message, line }));
      };
      for await (const text of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
        const line = ++lineNo;
        if (text.trim() === '') continue;
        let key: unknown;
        try {
          key = (JSON.parse(text) as Record<string, unknown>)?.[opts.key];
        } catch (e) {
          reject(line, 'SEQ_CLUSTER_MALFORMED', `not JSON: ${(e as Error).message}`);
          continue;
        }
        if (typeof key !== 'string' && typeof key !== 'number') {
          reject(line, 'SEQ_CLUSTER_MALFORMED', `no '${opts.key}' string or number`);
          continue;
        }
        const payload = opts.key === 'key' ? text : JSON.stringify({ ...JSON.parse(text), key });
        await pub.ready();
        pub.publish(payload, key).then(
          (ack) => {
            published++;
            if (opts.acks) ctx.out(JSON.stringify({ line, partition: ack.partition, seq: ack.seq }));
          },
          (e: Error & { code?: string }) => reject(line, e.code ?? 'SEQ_CLUSTER_PUBLISH', e.message),
        );
      }
      await pub.close();
      say(`${published} events published, ${rejected} rejected`);
      if (rejected > 0 && published === 0) ctx.exitCode = 1;
    });
}
