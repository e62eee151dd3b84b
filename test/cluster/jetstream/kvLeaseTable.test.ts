import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectJetStreamEngine, type JetStreamEngine } from '../../../src/cluster/jetstream/connectJetStreamEngine.js';
import { KvLeaseTable } from '../../../src/cluster/jetstream/kvLeaseTable.js';
import { loadNats } from '../../../src/cluster/jetstream/loadNats.js';
import { PartitionOwnership } from '../../../src/cluster/partitionOwnership.js';
import { natsSkipReason, startNatsCluster, startNatsServer, type NatsServer } from '../../support/natsServer.js';
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

describe.skipIf(skip !== null)('KvLeaseTable when its view holds a revision the stream leader does not', () => {
  let server: NatsServer | undefined;
  beforeAll(async () => {
    server = await startNatsServer({ stream: 'la', partitions: 1 });
  });
  afterAll(async () => {
    await server?.dispose();
  });

  // Seen on a 3-node cluster after a SIGKILL and restart (nats-server 2.9.10): one replica of the
  // group bucket kept writes the leader never committed (lease.0 at 120 there, 117 on the leader),
  // the watcher's consumer sat on that replica, so the view showed lease.0 at 120. Every takeover's
  // compare-and-set on 120 lost, and the refresh after it only ever moved the view up: the
  // partition stayed unowned for good. Here the watcher reads a second bucket standing for the
  // diverged replica, the writes and reads go to the first, standing for the leader.
  it('a lost compare-and-set takes the leader revision, lower or not, and the expired lease is taken', async () => {
    const nats = await loadNats();
    const nc = await nats.transport.connect({ servers: server!.url });
    const kvm = new nats.kv.Kvm(nc);
    const leader = await kvm.create('leader', { history: 1, allow_direct: false });
    const replica = await kvm.create('replica', { history: 1 });
    const diverged = new Proxy(leader, { get: (t, k) => (k === 'watch' ? replica.watch.bind(replica) : Reflect.get(t, k, t)) });
    // staleMs: the table's own writes never reach this stand-in replica; restarting its watch would change nothing.
    const table = await KvLeaseTable.open(diverged, { staleMs: 60_000 });
    const acquired: number[] = [];
    const own = new PartitionOwnership(table, { memberId: 'w', partitions: 1, leaseMs: 300, onAcquire: async (p) => void acquired.push(p), onRelease: async () => undefined, onLost: () => undefined });
    const dead = JSON.stringify({ owner: 'gone' });
    /** `key` once on the leader, three times on the replica: the view shows a revision the leader does not hold. */
    const diverge = async (key: string): Promise<{ led: number; shown: number }> => {
      const led = await leader.put(key, dead);
      let shown = 0;
      for (let i = 0; i < 3; i++) shown = await replica.put(key, dead);
      await until(() => table.entries().get(key)?.revision === shown, 10_000, `the watcher to deliver ${key}`);
      return { led, shown };
    };
    try {
      // The table: the compare-and-set on the view's revision loses, and the refresh after it takes the leader's.
      const l1 = await diverge('lease.1');
      expect(l1.shown).toBeGreaterThan(l1.led);
      await expect(table.update('lease.1', dead, l1.shown)).rejects.toMatchObject({ code: 'SEQ_CLUSTER_FENCED' });
      await table.refresh('lease.1');
      expect(table.entries().get('lease.1')?.revision, 'the view after refresh').toBe(l1.led);

      // A worker in that state takes the expired lease within a few leases instead of never.
      await diverge('lease.0');
      own.start();
      await until(() => acquired.length === 1, 10_000, 'the partition to be taken');
      expect(own.owned()).toEqual([0]);
      expect((await leader.get('lease.0'))?.json<{ owner: string }>().owner).toBe('w');
    } finally {
      await own.stop();
      table.close();
      await nc.close();
    }
  }, 30_000);
});
