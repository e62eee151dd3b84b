import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { natsSkipReason, startNatsServer, type NatsServer } from '../support/natsServer.js';
import { caughtUp, checkpointedStates, makeEvents, publishAll, readOutputs, referenceRun, until, WorkerProcess, writeModel } from './clusterHarness.js';

const skip = natsSkipReason();
if (skip) console.warn(skip);

describe.skipIf(skip !== null)('seqstream worker on one JetStream server: SIGKILL at random points', () => {
  const STREAM = 'killtest';
  const P = 4;
  let server: NatsServer;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'seqstream-cluster-'));
    server = await startNatsServer({ stream: STREAM, partitions: P });
  });
  afterAll(async () => {
    await server?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('every output once and every final state bit-identical to one process, across 10 kills (some mid-checkpoint)', async () => {
    const t0 = Date.now();
    const { model, file } = writeModel(dir);
    const events = makeEvents(4000, 60, 5);
    const ref = referenceRun(model, events);
    const args = ['--nats', server.url, '--stream', STREAM, '--partitions', String(P), '--model', file, '--lease-ms', '1500', '--checkpoint-ms', '40', '--checkpoint-events', '300', '--status-ms', '0', '--trace'];
    // Three workers in rotation: each victim has been up (and owning partitions) for a while.
    let spawned = 0;
    const spawnWorker = (): WorkerProcess => new WorkerProcess([...args, '--id', `w${spawned++}`]);
    const workers = [spawnWorker(), spawnWorker(), spawnWorker()];
    await Promise.all(workers.map((w) => w.waitFor(/connected to/, 60_000)));
    const publishing = publishAll(server.url, STREAM, P, events, { every: 100, ms: 500 });
    let rnd = 7;
    const next = (): number => ((rnd = (Math.imul(rnd, 1103515245) + 12345) >>> 0) / 2 ** 32);
    let midCheckpoint = 0;
    for (let k = 0; k < 10; k++) {
      const i = k % workers.length;
      const w = workers[i];
      await w.waitFor(/partition \d+: acquired/, 60_000, 0);
      if (k % 3 === 0) {
        await w.waitFor(/checkpoint seq \d+ writing/, 60_000); // SIGKILL while its body is being written
        midCheckpoint++;
      } else {
        await new Promise((r) => setTimeout(r, 100 + next() * 400));
      }
      w.kill('SIGKILL');
      await until(() => w.exited, 10_000, 'the worker to die');
      workers[i] = spawnWorker();
    }
    const ids = await publishing;
    await until(() => caughtUp(server.url, STREAM, ids, events.length), 60_000, 'every output and checkpoint');
    await Promise.all(workers.map((w) => w.stop()));
    const { byId, duplicates } = await readOutputs(server.url, STREAM);
    expect(duplicates).toBe(0);
    expect(byId.size).toBe(events.length);
    ids.forEach((id, i) => expect(byId.get(id), `event ${i} (${id})`).toEqual(ref.ys[i]));
    const states = await checkpointedStates(server.url, STREAM, P);
    expect(states.size).toBe(ref.states.size);
    for (const [key, row] of ref.states) expect(states.get(key), key).toEqual(row);
    expect(midCheckpoint).toBeGreaterThanOrEqual(3);
    console.log(`kill test: ${Date.now() - t0} ms`);
  }, 240_000);
});
