import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JetStreamClient } from '@nats-io/jetstream';
import { jetStreamNames } from '../../../src/cluster/jetstream/jetStreamNames.js';
import { JetStreamPartitionLog } from '../../../src/cluster/jetstream/jetStreamPartitionLog.js';
import { loadNats } from '../../../src/cluster/jetstream/loadNats.js';
import { natsSkipReason, startNatsServer, type NatsServer } from '../../support/natsServer.js';

const skip = natsSkipReason();
if (skip) console.warn(skip);

describe.skipIf(skip !== null)('JetStreamPartitionLog reading a replica with a hole', () => {
  let server: NatsServer | undefined;
  beforeAll(async () => {
    server = await startNatsServer({ stream: 'hole', partitions: 1 });
  });
  afterAll(async () => {
    await server?.dispose();
  });

  // Seen in the R3 failover test (nats-server 2.9.10, a server SIGKILLed and restarted while
  // partitions were trimmed): a worker's ordered consumer, served from a replica whose catch-up
  // left holes, jumped over records the stream leader held, and the worker applied later events
  // to a state missing them (outputs off from the single-process run; fine with trimming off).
  // Here the first consumer reads a copy of the partition stream with record 5 deleted, standing
  // for that replica; the leader reads (and any later consumer) see the real stream.
  it('a jump over a record the leader holds is not skipped: the read starts again from it', async () => {
    const nats = await loadNats();
    const nc = await nats.transport.connect({ servers: server!.url });
    const names = jetStreamNames('hole');
    const jsm = await nats.jetstream.jetstreamManager(nc);
    const real = names.partitionStream(0);
    const holed = 'hole-replica';
    await jsm.streams.add({ name: real, subjects: [names.partitionSubject(0)] });
    await jsm.streams.add({ name: holed, subjects: ['hole-replica.in'] });
    const js = nats.jetstream.jetstream(nc);
    for (let i = 1; i <= 10; i++) {
      await js.publish(names.partitionSubject(0), new TextEncoder().encode(`{"key":"k","x":[${i}]}`));
      await js.publish('hole-replica.in', new TextEncoder().encode(`{"key":"k","x":[${i}]}`));
    }
    await jsm.streams.deleteMessage(holed, 5);
    let opened = 0;
    const firstOnReplica = new Proxy(js, {
      get: (t, k) =>
        k === 'consumers'
          ? { get: (stream: string, opts: object) => t.consumers.get(opened++ === 0 && stream === real ? holed : stream, opts) }
          : Reflect.get(t, k, t),
    }) as JetStreamClient;
    const lines: string[] = [];
    const log = new JetStreamPartitionLog(nats, nc, firstOnReplica, jsm, names, { status: (l) => lines.push(l) });
    const reader = await log.read(0, 1);
    const seqs: number[] = [];
    try {
      for await (const batch of reader.batches) {
        for (const r of batch) seqs.push(r.seq);
        if (seqs.at(-1) === 10) break;
      }
    } finally {
      reader.stop();
      log.close();
    }
    // Every record once, in order: 5 read from the second consumer, nothing after it taken from the holed one.
    expect(seqs).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(opened).toBe(2);
    expect(lines.some((l) => /jumped from seq 4 to 6.*reading again from 5/.test(l)), lines.join('\n')).toBe(true);

    // A jump over a record the leader does not hold either (purged, deleted) is read through, once.
    await jsm.streams.deleteMessage(real, 7);
    const again = new JetStreamPartitionLog(nats, nc, js, jsm, names);
    const r2 = await again.read(0, 6);
    const seqs2: number[] = [];
    for await (const batch of r2.batches) {
      for (const r of batch) seqs2.push(r.seq);
      if (seqs2.at(-1) === 10) break;
    }
    r2.stop();
    again.close();
    expect(seqs2).toEqual([6, 8, 9, 10]);
    await nc.close();
  }, 30_000);
});
