import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClusterWorker } from '../../../src/cluster/clusterWorker.js';
import { connectJetStreamEngine } from '../../../src/cluster/jetstream/connectJetStreamEngine.js';
import { JetStreamPublishWindow } from '../../../src/cluster/jetstream/jetStreamPublishWindow.js';
import { natsSkipReason, startNatsServer, type NatsServer } from '../../support/natsServer.js';
import { caughtUp, expectSameAsOneProcess, makeEvents, publishAll, referenceRun, until, writeModel } from '../clusterHarness.js';

const skip = natsSkipReason();
if (skip) console.warn(skip);

describe.skipIf(skip !== null)('JetStreamPublishWindow: refused publishes on a real nats-server', () => {
  const servers: NatsServer[] = [];
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'seqstream-refused-'));
  });
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.dispose()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('a subject no stream takes: reported once with SEQ_CLUSTER_REFUSED, then the lane fails after maxRefusals and stays failed until dropped', async () => {
    const server = await startNatsServer({ stream: 'nostream', partitions: 1 });
    servers.push(server);
    const engine = await connectJetStreamEngine({ servers: server.url, stream: 'nostream', partitions: 1 });
    const lines: string[] = [];
    const window = new JetStreamPublishWindow(engine.nats, engine.data, { maxRefusals: 3, sweepMs: 20, status: (l) => lines.push(l) });
    try {
      for (let i = 0; i < 3; i++) window.publish(7, 'nowhere.at.all', new Uint8Array([1]), `7:${i}`);
      const stored = window.stored(7);
      await expect(stored).rejects.toMatchObject({ code: 'SEQ_CLUSTER_REFUSED', details: { partition: 7, subject: 'nowhere.at.all', refusals: 3 } });
      expect(lines.filter((l) => /SEQ_CLUSTER_REFUSED: no responders/.test(l))).toHaveLength(1); // three messages, three refusals each: one line
      // Failed until dropped: a checkpoint waiting for this lane can never pass.
      await expect(window.stored(7)).rejects.toMatchObject({ code: 'SEQ_CLUSTER_REFUSED' });
      await expect(window.below(7, 100)).rejects.toMatchObject({ code: 'SEQ_CLUSTER_REFUSED' });
      window.publish(7, 'nowhere.at.all', new Uint8Array([1]), '7:9');
      expect(window.unacknowledged(7)).toBe(0);
      window.drop(7);
      await expect(window.stored(7)).resolves.toBeUndefined();
      // Other lanes are untouched: a subject the output stream takes is stored.
      window.publish(8, engine.names.outputSubject(0), new Uint8Array([2]), '0:1');
      await expect(window.stored(8)).resolves.toBeUndefined();
    } finally {
      window.close();
      await engine.close();
    }
  });

  it('a full output stream (max_msgs, discard new): the worker reports it once, gives the partition up instead of spinning, and once there is room every output is there once, bit-identical', async () => {
    const STREAM = 'fullout';
    const P = 2;
    const server = await startNatsServer({ stream: STREAM, partitions: P });
    servers.push(server);
    const lines: string[] = [];
    const engine = await connectJetStreamEngine({ servers: server.url, stream: STREAM, partitions: P, maxPublishRefusals: 3, status: (l) => lines.push(`engine: ${l}`) });
    const jsm = await engine.nats.jetstream.jetstreamManager(engine.nc);
    const { DiscardPolicy } = engine.nats.jetstream;
    await jsm.streams.update(engine.names.outputStream, { max_msgs: 150, discard: DiscardPolicy.New });
    const { model } = writeModel(dir);
    const events = makeEvents(600, 20, 8);
    const ref = referenceRun(model, events);
    const worker = new ClusterWorker(engine, model, { id: 'full', leaseMs: 1500, checkpointEveryMs: 50, status: (l) => lines.push(l) });
    worker.start();
    try {
      const ids = await publishAll(server.url, STREAM, P, events);
      await until(() => lines.some((l) => /lost \(SEQ_CLUSTER_REFUSED/.test(l)), 30_000, 'a partition given up on refused outputs');
      const refusedLines = lines.filter((l) => /SEQ_CLUSTER_REFUSED: maximum messages exceeded/.test(l) && /refused \(/.test(l));
      expect(refusedLines, lines.join('\n')).toHaveLength(1);
      // Given up, then taken again (it is still assigned here) and replayed from its checkpoint.
      await until(() => lines.filter((l) => /lost \(SEQ_CLUSTER_REFUSED/.test(l)).length >= 2, 30_000, 'the partition to be retried');
      expect((await jsm.streams.info(engine.names.outputStream)).state.messages).toBe(150);
      await jsm.streams.update(engine.names.outputStream, { max_msgs: -1, discard: DiscardPolicy.Old });
      await until(() => caughtUp(server.url, STREAM, ids, events.length), 60_000, 'every output and checkpoint once there is room');
      await worker.stop();
      await expectSameAsOneProcess(server.url, STREAM, P, ref, ids, expect);
    } finally {
      await worker.stop();
      await engine.close();
    }
  }, 120_000);
});
