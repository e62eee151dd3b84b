import type { JetStreamManager } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import type { ObjectStore } from '@nats-io/obj';
import type { NatsConnection } from '@nats-io/nats-core';
import { InvalidOptionError, SeqstreamError } from '../../errors.js';
import type { NatsModules } from './loadNats.js';
import type { JetStreamNames } from './jetStreamNames.js';

/** Sizes and replication of a topology, with defaults. */
export interface JetStreamTopologyOptions {
  /** Partition count; fixed when the topology is first created (a different count later is `SEQ_CLUSTER_PARTITIONS`). */
  partitions: number;
  /** Replicas of every stream and bucket (1, or 3 on a 3-node cluster). Default 1. */
  replicas?: number;
  /** `'file'` or `'memory'`. Default `'file'`. */
  storage?: 'file' | 'memory';
  /** Most bytes held by one partition stream; beyond it publishes are refused (nothing is dropped). Default 1 GiB. */
  maxPartitionBytes?: number;
  /** Most bytes of the output stream; the oldest outputs go first. Default 1 GiB. */
  maxOutputBytes?: number;
  /** Window in which an output id seen before is dropped, in ms. Default 120000. */
  duplicateWindowMs?: number;
}

/** The opened buckets of a topology. */
export interface JetStreamTopology {
  group: KV;
  pointers: KV;
  bodies: ObjectStore;
}

const NOT_FOUND = 10059;
const MS = 1_000_000;

/**
 * Creates what is missing of a cluster topology (partition streams, output and dead-letter
 * streams, group and checkpoint buckets) and checks the partition count of an existing one.
 *
 * @example
 * ```ts
 * const topo = await ensureJetStreamTopology(nats, nc, jsm, jetStreamNames('sensors'), { partitions: 8 });
 * ```
 */
export async function ensureJetStreamTopology(
  nats: NatsModules,
  nc: NatsConnection,
  jsm: JetStreamManager,
  names: JetStreamNames,
  options: JetStreamTopologyOptions,
): Promise<JetStreamTopology> {
  const P = options.partitions;
  if (!Number.isInteger(P) || P < 1 || P > 1024) throw new InvalidOptionError('partitions', 'an integer from 1 to 1024', P);
  const replicas = options.replicas ?? 1;
  if (!Number.isInteger(replicas) || replicas < 1 || replicas > 5) throw new InvalidOptionError('replicas', 'an integer from 1 to 5', replicas);
  const storage = options.storage === 'memory' ? nats.jetstream.StorageType.Memory : nats.jetstream.StorageType.File;
  const { DiscardPolicy } = nats.jetstream;

  // Both buckets are read from the stream leader (no direct gets): a direct get is answered by
  // any replica, which on a degraded cluster can lag or even hold writes the leader never
  // committed, and a compare-and-set retried on such a revision never succeeds.
  const group = await new nats.kv.Kvm(nc).create(names.groupBucket, { history: 1, replicas, storage, allow_direct: false });
  const config = JSON.stringify({ partitions: P });
  const existing = await group.get('config');
  if (existing && existing.operation === 'PUT') {
    const had = existing.json<{ partitions: number }>().partitions;
    if (had !== P) {
      throw new SeqstreamError('SEQ_CLUSTER_PARTITIONS', `stream '${names.stream}' was created with ${had} partitions, not ${P}: the count is fixed (re-partition by replaying into a new stream name)`, { had, asked: P });
    }
  } else {
    await group.create('config', config).catch(() => undefined);
  }

  const ensureStream = async (cfg: Parameters<JetStreamManager['streams']['add']>[0]): Promise<void> => {
    try {
      await jsm.streams.info(cfg.name as string);
    } catch (e) {
      if ((e as { code?: number }).code !== NOT_FOUND && !/not found/i.test((e as Error).message)) throw e;
      await jsm.streams.add(cfg).catch(async (err: Error) => {
        if (!/already in use|exists/i.test(err.message)) throw err;
      });
    }
  };
  const maxPartitionBytes = options.maxPartitionBytes ?? 1024 ** 3;
  for (let p = 0; p < P; p++) {
    await ensureStream({
      name: names.partitionStream(p),
      subjects: [names.partitionSubject(p), `${names.partitionSubject(p)}.*`],
      num_replicas: replicas,
      storage,
      max_bytes: maxPartitionBytes,
      discard: DiscardPolicy.New,
    });
  }
  const window = (options.duplicateWindowMs ?? 120_000) * MS;
  await ensureStream({
    name: names.outputStream,
    subjects: [`${names.stream}.out.*`],
    num_replicas: replicas,
    storage,
    max_bytes: options.maxOutputBytes ?? 1024 ** 3,
    discard: DiscardPolicy.Old,
    duplicate_window: window,
  });
  await ensureStream({
    name: names.deadStream,
    subjects: [`${names.stream}.dead.*`],
    num_replicas: replicas,
    storage,
    max_bytes: 256 * 1024 ** 2,
    discard: DiscardPolicy.Old,
    duplicate_window: window,
  });
  const pointers = await new nats.kv.Kvm(nc).create(names.checkpointBucket, { history: 1, replicas, storage, allow_direct: false });
  const bodies = await new nats.obj.Objm(nc).create(names.stateStore, { replicas, storage });
  return { group, pointers, bodies };
}
