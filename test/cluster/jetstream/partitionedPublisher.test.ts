import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jetStreamNames } from '../../../src/cluster/jetstream/jetStreamNames.js';
import { loadNats } from '../../../src/cluster/jetstream/loadNats.js';
import { PartitionedPublisher } from '../../../src/cluster/jetstream/partitionedPublisher.js';
import { connectJetStreamEngine } from '../../../src/cluster/jetstream/connectJetStreamEngine.js';
import { natsSkipReason, startNatsServer, type NatsServer } from '../../support/natsServer.js';

const skip = natsSkipReason();
if (skip) console.warn(skip);

/** Every stored event of every partition stream, in stream order: its key and its publish index. */
async function storedOrder(url: string, stream: string, partitions: number): Promise<{ key: string; i: number }[][]> {
  const nats = await loadNats();
  const nc = await nats.transport.connect({ servers: url });
  const js = nats.jetstream.jetstream(nc);
  const jsm = await nats.jetstream.jetstreamManager(nc);
  const names = jetStreamNames(stream);
  const out: { key: string; i: number }[][] = [];
  for (let p = 0; p < partitions; p++) {
    const rows: { key: string; i: number }[] = [];
    if ((await jsm.streams.info(names.partitionStream(p))).state.messages > 0) {
      for await (const m of await (await js.consumers.get(names.partitionStream(p))).consume()) {
        const e = m.json<{ key: string; x: number[] }>();
        rows.push({ key: e.key, i: e.x[0] });
        if (m.info.pending === 0) break;
      }
    }
    out.push(rows);
  }
  await nc.close();
  return out;
}

describe.skipIf(skip !== null)('PartitionedPublisher on a real nats-server', () => {
  const STREAM = 'pubord';
  const P = 2;
  let server: NatsServer;
  beforeAll(async () => {
    server = await startNatsServer({ stream: STREAM, partitions: P });
    const engine = await connectJetStreamEngine({ servers: server.url, stream: STREAM, partitions: P }); // creates the topology
    await engine.close();
  });
  afterAll(async () => {
    await server?.dispose();
  });

  it('the server SIGKILLed and restarted mid-publish: every event stored once, and each key\'s events in publish order (retries included)', async () => {
    const keys = 6;
    const n = 2400;
    const pub = await PartitionedPublisher.connect(server.url, { stream: STREAM, partitions: P, maxInFlight: 64, timeoutMs: 800, retries: 40 });
    const done: Promise<unknown>[] = [];
    let retried = 0;
    for (let i = 0; i < n; i++) {
      if (i === 800) {
        await server.stop('SIGKILL'); // publishes in flight are lost with their acks: they are retried
        setTimeout(() => void server.start(), 300);
      }
      await pub.ready();
      done.push(pub.publish({ key: `k${i % keys}`, x: [i] }));
    }
    const settled = await Promise.allSettled(done);
    await pub.close();
    expect(settled.filter((s) => s.status === 'rejected')).toEqual([]);
    retried = pub.stats().retries;
    const streams = await storedOrder(server.url, STREAM, P);
    const seen = streams.flat().map((r) => r.i).sort((a, b) => a - b);
    expect(seen).toEqual(Array.from({ length: n }, (_, i) => i)); // each once
    let outOfOrder = 0;
    for (const rows of streams) {
      const last = new Map<string, number>();
      for (const r of rows) {
        if ((last.get(r.key) ?? -1) > r.i) outOfOrder++;
        last.set(r.key, r.i);
      }
    }
    expect(retried, 'publishes were retried (the outage hit publishes in flight)').toBeGreaterThan(0);
    expect(outOfOrder, 'events stored after a later event of their key').toBe(0);
  }, 120_000);

  it('one hot key cannot queue more than maxInFlight events behind ready(), and its events are stored in order', async () => {
    const pub = await PartitionedPublisher.connect(server.url, { stream: STREAM, partitions: P, maxInFlight: 16 });
    let most = 0;
    const done: Promise<{ seq: number }>[] = [];
    for (let i = 0; i < 400; i++) {
      await pub.ready();
      done.push(pub.publish({ key: 'hot', x: [i] }));
      most = Math.max(most, pub.stats().unsettled);
    }
    const acks = await Promise.all(done);
    await pub.close();
    expect(most).toBeLessThanOrEqual(16);
    expect(acks.every((a, i) => i === 0 || a.seq > acks[i - 1].seq)).toBe(true);
  });
});
