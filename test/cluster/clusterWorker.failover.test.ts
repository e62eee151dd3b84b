import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { partitionOf } from '../../src/cluster/partitionOf.js';
import { natsSkipReason, startNatsServer, type NatsServer } from '../support/natsServer.js';
import { caughtUp, expectSameAsOneProcess, makeEvents, publishAll, publishRaw, readDeadLetters, referenceRun, until, WorkerProcess, writeModel } from './clusterHarness.js';

const skip = natsSkipReason();
if (skip) console.warn(skip);
const P = 4;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe.skipIf(skip !== null)('seqstream worker: stalls, resizes, bad events, server outages (one JetStream server)', () => {
  let dir: string;
  const servers: NatsServer[] = [];
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'seqstream-cluster-'));
  });
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.dispose()));
    rmSync(dir, { recursive: true, force: true });
  });
  const setUp = async (stream: string) => {
    const server = await startNatsServer({ stream, partitions: P });
    servers.push(server);
    const { model, file } = writeModel(dir);
    const args = (id: string): string[] => ['--nats', server.url, '--stream', stream, '--partitions', String(P), '--model', file, '--lease-ms', '1000', '--checkpoint-ms', '50', '--status-ms', '0', '--trace', '--id', id];
    return { server, model, args };
  };

  it('SIGSTOP past the lease: the partitions move; after SIGCONT the stalled worker sees it lost them and writes nothing more', async () => {
    const { server, model, args } = await setUp('stall');
    const events = makeEvents(2500, 40, 9);
    const ref = referenceRun(model, events);
    const a = new WorkerProcess(args('a'));
    await a.waitFor(/partition \d: acquired/);
    const b = new WorkerProcess(args('b'));
    await b.waitFor(/partition \d: acquired/, 30_000);
    const publishing = publishAll(server.url, 'stall', P, events, { every: 100, ms: 40 });
    await sleep(500);
    const heldByA = a.lines.filter((l) => /acquired/.test(l)).length - a.lines.filter((l) => /released|lost/.test(l)).length;
    expect(heldByA).toBeGreaterThan(0);
    const bFrom = b.lines.length;
    a.kill('SIGSTOP');
    await b.waitFor(/partition \d: acquired/, 20_000, bFrom); // b takes a's partitions once the lease is judged expired
    await sleep(300);
    const aFrom = a.lines.length;
    a.kill('SIGCONT');
    await a.waitFor(/lost \((lease not renewed|lease expired locally|checkpoint fenced|lease taken over)/, 20_000, aFrom);
    const ids = await publishing;
    await until(() => caughtUp(server.url, 'stall', ids, events.length), 60_000, 'outputs and checkpoints').catch((e: Error) => {
      throw new Error(`${e.message}\n--- a:\n${a.lines.slice(-25).join('\n')}\n--- b:\n${b.lines.slice(-25).join('\n')}`);
    });
    // Between SIGCONT and noticing, the stalled worker started no checkpoint of a partition it had
    // lost. (One whose commit reached the server before SIGSTOP may report 'committed' after
    // SIGCONT: it was written while the lease held. One whose body was written across the stop
    // fails its lease check before the commit point.)
    const lostAt = a.lines.findIndex((l, i) => i >= aFrom && /lost/.test(l));
    const lostParts = new Set(a.lines.slice(aFrom).filter((l) => /lost/.test(l)).map((l) => l.match(/partition (\d+)/)![1]));
    const startedAfter = new Set(a.lines.slice(aFrom, lostAt + 1).map((l) => l.match(/partition (\d+): checkpoint seq (\d+) writing/)?.slice(1).join(':')).filter((x) => x !== undefined));
    for (const l of a.lines.slice(aFrom, lostAt + 1)) {
      const m = l.match(/partition (\d+): checkpoint seq (\d+) committed/);
      if (m && !startedAfter.has(`${m[1]}:${m[2]}`)) continue;
      if (m) expect(lostParts.has(m[1]), `stalled worker committed after SIGCONT: ${l}\n--- a since SIGCONT:\n${a.lines.slice(aFrom, lostAt + 3).join('\n')}`).toBe(false);
    }
    await Promise.all([a.stop(), b.stop()]);
    await expectSameAsOneProcess(server.url, 'stall', P, ref, ids, expect);
  }, 120_000);

  it('bad events go to the dead-letter subject with a coded reason, oversize ones truncated, and the partition goes on', async () => {
    const { server, model, args } = await setUp('badin');
    const events = makeEvents(600, 12, 3);
    const ref = referenceRun(model, events);
    const w = new WorkerProcess([...args('w'), '--max-event-bytes', '2048']);
    await w.waitFor(/connected/);
    const first = await publishAll(server.url, 'badin', P, events.slice(0, 300));
    const p = partitionOf(events[0].key, P);
    const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
    const bad = await publishRaw(server.url, 'badin', p, [
      enc('{not json'),
      enc('{"x":[1,2,3]}'),
      enc('{"key":"k1","x":[1,2]}'),
      enc('{"key":"k1","x":[1,null,3]}'),
      enc(JSON.stringify({ key: 'k1', x: [1, 2, 3], pad: 'x'.repeat(10_000) })),
      new Uint8Array([0xff, 0xfe, 0x7b]),
    ]);
    const rest = await publishAll(server.url, 'badin', P, events.slice(300));
    const ids = [...first, ...rest];
    await until(() => caughtUp(server.url, 'badin', [...ids, ...bad], events.length), 60_000, 'outputs and checkpoints');
    await w.stop();
    const dead = await readDeadLetters(server.url, 'badin');
    expect(dead.map((d) => d.id)).toEqual(bad);
    expect(dead.map((d) => d.code)).toEqual(['SEQ_CLUSTER_MALFORMED', 'SEQ_CLUSTER_MALFORMED', 'SEQ_INPUT_SHAPE', 'SEQ_INPUT_TYPE', 'SEQ_CLUSTER_OVERSIZE', 'SEQ_CLUSTER_MALFORMED']);
    expect(dead[4].bytes).toBeLessThanOrEqual(4096);
    for (const d of dead) expect(d.reason.length).toBeGreaterThan(0);
    await expectSameAsOneProcess(server.url, 'badin', P, ref, ids, expect);
  }, 120_000);

  it('resize 1 -> 2 -> 1 workers while events flow', async () => {
    const { server, model, args } = await setUp('resize');
    const events = makeEvents(3000, 50, 4);
    const ref = referenceRun(model, events);
    const a = new WorkerProcess(args('a'));
    await a.waitFor(/connected/);
    const publishing = publishAll(server.url, 'resize', P, events, { every: 100, ms: 50 });
    await sleep(800);
    const aFrom = a.lines.length;
    const b = new WorkerProcess(args('b'));
    await b.waitFor(/partition \d: acquired/, 30_000);
    await a.waitFor(/released at seq/, 10_000, aFrom);
    await sleep(500);
    await b.stop(); // graceful: final checkpoints, leases deleted, a takes them at once
    expect(b.lines.some((l) => /released at seq/.test(l))).toBe(true);
    const ids = await publishing;
    await until(() => caughtUp(server.url, 'resize', ids, events.length), 60_000, 'outputs and checkpoints');
    await a.stop();
    await expectSameAsOneProcess(server.url, 'resize', P, ref, ids, expect);
  }, 120_000);

  it('server down: workers report it, retry with backoff, and lose nothing once it is back', async () => {
    const { server, model, args } = await setUp('outage');
    const events = makeEvents(1600, 30, 6);
    const ref = referenceRun(model, events);
    const w = new WorkerProcess(args('w'));
    await w.waitFor(/partition \d: acquired/);
    const first = await publishAll(server.url, 'outage', P, events.slice(0, 800));
    await until(() => caughtUp(server.url, 'outage', first, 800), 30_000, 'the first half');
    const from = w.lines.length;
    await server.stop('SIGKILL');
    await w.waitFor(/disconnected|unreachable/, 10_000, from);
    await sleep(1500);
    await server.start();
    await w.waitFor(/reconnected/, 20_000, from);
    const rest = await publishAll(server.url, 'outage', P, events.slice(800));
    const ids = [...first, ...rest];
    await until(() => caughtUp(server.url, 'outage', ids, events.length), 60_000, 'outputs and checkpoints after the outage');
    await w.stop();
    await expectSameAsOneProcess(server.url, 'outage', P, ref, ids, expect);
  }, 120_000);
});
