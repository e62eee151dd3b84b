import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { natsSkipReason, startNatsCluster, type NatsServer } from '../support/natsServer.js';
import { caughtUp, expectSameAsOneProcess, makeEvents, publishAll, referenceInStreamOrder, until, WorkerProcess, writeModel } from './clusterHarness.js';

// Runs by default (it was opt-in while it stalled under load). What it found, each fixed and
// tested on its own (README "Scaling out", Guarantees): the lease table's watcher froze with its
// server; a replica of the group bucket held lease writes the leader never committed, and the view
// never came back down to the leader's revision; a replica's store had holes after the restart,
// and a worker's read jumped over them. On failure the message shows both workers' lines.
const skip = natsSkipReason();
if (skip) console.warn(skip);

describe.skipIf(skip !== null)('seqstream worker on a 3-node JetStream cluster, R3 streams and buckets', () => {
  const STREAM = 'r3';
  const P = 3;
  let servers: NatsServer[] = [];
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'seqstream-r3-'));
    servers = await startNatsCluster({ stream: STREAM, partitions: P });
  });
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.dispose()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('one server killed mid-run and restarted: every output once, every final state bit-identical', async () => {
    const urls = servers.map((s) => s.url);
    const { model, file } = writeModel(dir);
    const events = makeEvents(2000, 40, 12);
    const args = (id: string, url: string): string[] => ['--nats', url, '--stream', STREAM, '--partitions', String(P), '--replicas', '3', '--model', file, '--lease-ms', '1500', '--checkpoint-ms', '100', '--status-ms', '2000', '--trace', '--id', id];
    // Each worker prefers another server; both know all three.
    const a = new WorkerProcess(args('a', [urls[0], urls[1], urls[2]].join(',')));
    await a.waitFor(/partition \d: acquired/, 90_000); // the cluster elects its meta leader, then R3 assets are created
    const b = new WorkerProcess(args('b', [urls[1], urls[2], urls[0]].join(',')));
    await b.waitFor(/connected to/, 60_000);
    const publishing = publishAll([urls[2], urls[0], urls[1]], STREAM, P, events, { every: 100, ms: 100 });
    await new Promise((r) => setTimeout(r, 1000));
    await servers[0].stop('SIGKILL');
    await new Promise((r) => setTimeout(r, 2000));
    await servers[0].start();
    const ids = await publishing;
    await until(() => caughtUp(urls, STREAM, ids, events.length), 90_000, 'outputs and checkpoints').catch((e: Error) => {
      const tail = (w: WorkerProcess): string => [...w.lines.filter((l) => !/checkpoint seq|partitions \[/.test(l)).slice(-30), ...w.lines.slice(-2)].join('\n');
      throw new Error(`${e.message}\n--- a:\n${tail(a)}\n--- b:\n${tail(b)}`);
    });
    await Promise.all([a.stop(), b.stop()]);
    // One process over the same events in the order the streams stored them (a publish in flight
    // when its stream leader died is retried and can land after later ones).
    const ref = referenceInStreamOrder(model, events, ids);
    console.log(`r3: ${ref.reordered} events stored out of publish order by retries`);
    await expectSameAsOneProcess(urls, STREAM, P, ref, ids, expect);
  }, 240_000);
});
