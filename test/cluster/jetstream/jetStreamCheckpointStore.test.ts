import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectJetStreamEngine, type JetStreamEngine } from '../../../src/cluster/jetstream/connectJetStreamEngine.js';
import { JetStreamCheckpointStore } from '../../../src/cluster/jetstream/jetStreamCheckpointStore.js';
import { JetStreamPartitionLog } from '../../../src/cluster/jetstream/jetStreamPartitionLog.js';
import { natsSkipReason, startNatsServer, type NatsServer } from '../../support/natsServer.js';
import { until } from '../clusterHarness.js';
import type { KeyedCheckpoint } from '../../../src/streams/stateStore.js';

const skip = natsSkipReason();
if (skip) console.warn(skip);

describe.skipIf(skip !== null)('JetStreamCheckpointStore (and JetStreamPartitionLog construction) on a real nats-server', () => {
  const STREAM = 'ckstore';
  let server: NatsServer;
  let engine: JetStreamEngine;
  beforeAll(async () => {
    server = await startNatsServer({ stream: STREAM, partitions: 2 });
    engine = await connectJetStreamEngine({ servers: server.url, stream: STREAM, partitions: 2 });
  });
  afterAll(async () => {
    await engine?.close();
    await server?.dispose();
  });

  const chunkSubjects = async (): Promise<string[]> => {
    const jsm = await engine.nats.jetstream.jetstreamManager(engine.nc);
    const info = await jsm.streams.info(`OBJ_${engine.names.stateStore}`, { subjects_filter: `$O.${engine.names.stateStore}.C.>` });
    return Object.keys(info.state.subjects ?? {});
  };

  it('a claim purges chunks that no object names once they are old enough, and keeps the live body and fresh chunks', async () => {
    const kvm = new engine.nats.kv.Kvm(engine.nc);
    const objm = new engine.nats.obj.Objm(engine.nc);
    const pointers = await kvm.open(engine.names.checkpointBucket);
    const bodies = await objm.open(engine.names.stateStore);
    const jsm = await engine.nats.jetstream.jetstreamManager(engine.nc);
    const js = engine.nats.jetstream.jetstream(engine.nc);
    const store = new JetStreamCheckpointStore(pointers, bodies, { jsm, bucket: engine.names.stateStore, orphanChunkAgeMs: 300 });

    // A committed checkpoint: its body's chunks are named by its metadata.
    const { fence } = await store.claim(0, 'w1');
    const state = Float32Array.from({ length: 2 * 8 }, (_, i) => i / 7);
    await store.commit(0, fence, { format: 'seqstream-keyed-checkpoint', version: 1, offset: 42, events: 42, cell: 'lstm', hiddenSize: 4, numLayers: 1, keys: ['a', 'b'], state, modelVersion: 0, model: null });
    const live = await chunkSubjects();
    expect(live.length).toBe(1);

    // A put cut short (SIGKILL between chunks and metadata): chunks under a nuid nothing names.
    const orphan = `$O.${engine.names.stateStore}.C.ORPHANORPHANORPHAN0001`;
    await js.publish(orphan, new Uint8Array(1000));
    expect((await chunkSubjects()).sort()).toEqual([...live, orphan].sort());
    expect(await store.removeOrphanChunks()).toBe(0); // too fresh: could be another worker's put in progress

    await new Promise((r) => setTimeout(r, 400));
    const again = await store.claim(0, 'w2'); // the claim starts the sweep (in the background)
    await until(async () => (await chunkSubjects()).length === live.length, 10_000, 'the orphan chunks to be purged');
    expect(await chunkSubjects()).toEqual(live);
    expect(again.checkpoint?.offset).toBe(42);
    expect(again.checkpoint?.format).toBe('seqstream-keyed-checkpoint');
    expect(Array.from((again.checkpoint as KeyedCheckpoint<string>).state)).toEqual(Array.from(state));
  });

  it('refuses the old positional call (kv, obj, readTimeoutMs) and bad option values with SEQ_INVALID_OPTION', async () => {
    const pointers = await new engine.nats.kv.Kvm(engine.nc).open(engine.names.checkpointBucket);
    const bodies = await new engine.nats.obj.Objm(engine.nc).open(engine.names.stateStore);
    const make = (...args: unknown[]) => () => new (JetStreamCheckpointStore as unknown as new (...a: unknown[]) => unknown)(...args);
    expect(make(pointers, bodies, 5000)).toThrow(expect.objectContaining({ code: 'SEQ_INVALID_OPTION' }));
    expect(make(pointers, bodies, null)).toThrow(expect.objectContaining({ code: 'SEQ_INVALID_OPTION' }));
    expect(make(bodies, pointers)).toThrow(expect.objectContaining({ code: 'SEQ_INVALID_OPTION' }));
    expect(make(pointers, bodies, { readTimeoutMs: -1 })).toThrow(expect.objectContaining({ code: 'SEQ_INVALID_OPTION' }));
    expect(make(pointers, bodies, { readTimeoutMs: 5000 })).not.toThrow();
  });

  it('JetStreamPartitionLog refuses the old call without the connection (nats, js, jsm, names) with SEQ_INVALID_OPTION', async () => {
    const js = engine.nats.jetstream.jetstream(engine.data);
    const jsm = await engine.nats.jetstream.jetstreamManager(engine.data);
    const make = (...args: unknown[]) => () => new (JetStreamPartitionLog as unknown as new (...a: unknown[]) => { close(): void })(...args);
    expect(make(engine.nats, js, jsm, engine.names, {})).toThrow(expect.objectContaining({ code: 'SEQ_INVALID_OPTION' }));
    expect(make(engine.nats, js, jsm, engine.names)).toThrow(expect.objectContaining({ code: 'SEQ_INVALID_OPTION' }));
    expect(make(engine.nats, engine.data, js, jsm, engine.names, 2048)).toThrow(expect.objectContaining({ code: 'SEQ_INVALID_OPTION' }));
    expect(make(engine.nats, engine.data, js, jsm, engine.names, { fetchBatch: 0 })).toThrow(expect.objectContaining({ code: 'SEQ_INVALID_OPTION' }));
    const log = make(engine.nats, engine.data, js, jsm, engine.names, { fetchBatch: 16 })();
    log.close();
  });
});
