import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectJetStreamEngine, type JetStreamEngine } from '../../../src/cluster/jetstream/connectJetStreamEngine.js';
import type { KvLeaseTable } from '../../../src/cluster/jetstream/kvLeaseTable.js';
import { natsSkipReason, startNatsCluster, type NatsServer } from '../../support/natsServer.js';
import { until } from '../clusterHarness.js';

const skip = natsSkipReason();
if (skip) console.warn(skip);

describe.skipIf(skip !== null)('KvLeaseTable on a 3-node JetStream cluster', () => {
  let servers: NatsServer[] = [];
  let engine: JetStreamEngine | undefined;
  beforeAll(async () => {
    servers = await startNatsCluster({ stream: 'lt', partitions: 2 });
  });
  afterAll(async () => {
    await engine?.close().catch(() => undefined);
    await Promise.all(servers.map((s) => s.dispose()));
  });

  it('the view keeps up when the server holding its watcher dies: the watcher restarts on missing its own writes', async () => {
    engine = await connectJetStreamEngine({ servers: servers.map((s) => s.url), stream: 'lt', partitions: 2, replicas: 3 });
    const table = engine.leases as KvLeaseTable;
    // Right after the cluster forms, the bucket's first writes can time out while it elects a leader.
    let first = 0;
    await until(async () => (first = await table.put('member.x', '0').catch(() => 0)) > 0, 30_000, 'a first write');
    await until(() => table.entries().get('member.x')?.revision === first, 20_000, 'the watcher to deliver the first write');

    // The watcher is an R1 consumer on one server; kill that one (the bucket keeps a quorum of two).
    const jsm = await engine.nats.jetstream.jetstreamManager(engine.nc);
    const consumers = await jsm.consumers.list(`KV_${engine.names.groupBucket}`).next();
    expect(consumers.length, 'one consumer on the bucket: the watcher').toBe(1);
    const watcher = consumers[0];
    expect(watcher.cluster?.leader, 'the server holding the watcher').toMatch(/^n\d$/);
    await servers[Number(watcher!.cluster!.leader!.slice(1))].stop('SIGKILL');

    // Write through the table as the heartbeat does every tick, until the view shows the newest write.
    let last = 0;
    await until(
      async () => {
        last = await table.put('member.x', String(Date.now())).catch(() => last);
        await new Promise((r) => setTimeout(r, 200));
        return last > first && table.entries().get('member.x')?.revision === last;
      },
      60_000,
      'the view to show writes made after the watcher server died',
    );
    expect(table.restarts).toBeGreaterThanOrEqual(1);
    expect(table.entries().get('member.x')?.value).not.toBe('0');
  }, 120_000);
});
