/**
 * Scaling out on NATS JetStream: events/s of `seqstream worker` processes draining a backlog
 * (1 worker, 2 workers, 1 worker with checkpoints off) against `recurrentByKey` in this process
 * over the same events; takeover time (SIGKILL a worker, until the survivor has resumed every one
 * of its partitions) over repeated kills with the default lease; checkpoint cost. LSTM I=40,
 * H=128, head 4, 512 keys, 4 partitions, one local nats-server (file storage).
 *
 *   npx tsx bench/cluster.ts [--quick]
 *
 * Needs nats-server and the optional @nats-io packages. Workers are real processes
 * (SEQSTREAM_THREADS=1 each); on a shared 2-core machine the scaling figure is noisy.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Subject } from 'rxjs';
import { RecurrentModel } from '../src/cells/model.js';
import { connectJetStreamEngine } from '../src/cluster/jetstream/connectJetStreamEngine.js';
import { jetStreamNames } from '../src/cluster/jetstream/jetStreamNames.js';
import { loadNats } from '../src/cluster/jetstream/loadNats.js';
import { PartitionedPublisher } from '../src/cluster/jetstream/partitionedPublisher.js';
import { recurrentByKey, type KeyedEvent } from '../src/streams/recurrentByKey.js';
import { findNatsServer, startNatsServer, type NatsServer } from '../test/support/natsServer.js';
import { WorkerProcess } from '../test/cluster/clusterHarness.js';
import { percentile, printTable } from './stats.js';

const P = 4;
const I = 40;
const H = 128;
const KEYS = 512;

function makeEvents(n: number): { key: string; x: number[] }[] {
  let s = 12345;
  const rnd = (): number => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
  return Array.from({ length: n }, (_, i) => ({ key: `s${i % KEYS}`, x: Array.from({ length: I }, rnd) }));
}

/** CPU time (user + system) of a process so far, in ms, from /proc (Linux); NaN elsewhere. */
function cpuMs(pid: number | undefined): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // clock ticks of 10 ms
  } catch {
    return NaN;
  }
}

interface Rate {
  /** Events per second. */
  rate: number;
  /** CPU µs per event of the workers (sum) and of nats-server: robust to other load, unlike the rate. */
  workerUs: number;
  serverUs: number;
}

function inProcess(model: RecurrentModel, events: { key: string; x: number[] }[]): Rate {
  const input = new Subject<KeyedEvent<string>>();
  let outs = 0;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const sub = input.pipe(recurrentByKey<string>(model, { maxBatch: 1024 })).subscribe(() => outs++);
  for (const e of events) input.next(e);
  input.complete();
  sub.unsubscribe();
  if (outs !== events.length) throw new Error(`in-process run emitted ${outs} of ${events.length}`);
  const c = process.cpuUsage(c0);
  return { rate: events.length / ((performance.now() - t0) / 1000), workerUs: (c.user + c.system) / events.length, serverUs: 0 };
}

async function outputCount(url: string, stream: string): Promise<number> {
  const nats = await loadNats();
  const nc = await nats.transport.connect({ servers: url });
  try {
    const jsm = await nats.jetstream.jetstreamManager(nc);
    return (await jsm.streams.info(jetStreamNames(stream).outputStream)).state.messages;
  } finally {
    await nc.close();
  }
}

/** Deletes a topology's streams and buckets: JetStream reserves each stream's byte limit, so the bench's many topologies would run out. */
async function deleteTopology(url: string, stream: string): Promise<void> {
  const nats = await loadNats();
  const nc = await nats.transport.connect({ servers: url });
  try {
    const jsm = await nats.jetstream.jetstreamManager(nc);
    const n = jetStreamNames(stream);
    const names = [...Array.from({ length: P }, (_, p) => n.partitionStream(p)), n.outputStream, n.deadStream, `KV_${n.groupBucket}`, `KV_${n.checkpointBucket}`, `OBJ_${n.stateStore}`];
    for (const s of names) await jsm.streams.delete(s).catch(() => undefined);
  } finally {
    await nc.close();
  }
}

async function prepublish(url: string, stream: string, events: { key: string; x: number[] }[]): Promise<void> {
  const engine = await connectJetStreamEngine({ servers: url, stream, partitions: P });
  await engine.close();
  const pub = await PartitionedPublisher.connect(url, { stream, partitions: P, maxInFlight: 512 });
  for (const e of events) {
    await pub.ready();
    void pub.publish(e);
  }
  await pub.close();
}

/**
 * Drains a backlog with `workers` processes; events/s over the window where all of them run. The
 * group settles on the empty topology first (every worker holds its share of the partitions),
 * then is paused (SIGSTOP, with a lease far longer than the pause) while the backlog is
 * published, so the window starts with all workers running and the whole backlog waiting.
 */
async function drain(server: NatsServer, stream: string, modelFile: string, events: { key: string; x: number[] }[], workers: number, extra: string[] = []): Promise<Rate> {
  const n = events.length;
  const engine = await connectJetStreamEngine({ servers: server.url, stream, partitions: P });
  await engine.close();
  const args = (id: string): string[] => ['--nats', server.url, '--stream', stream, '--partitions', String(P), '--model', modelFile, '--status-ms', '0', '--lease-ms', '60000', '--id', id, ...extra];
  const procs = Array.from({ length: workers }, (_, i) => new WorkerProcess(args(`${stream}-${i}`)));
  const held = (p: WorkerProcess): number => p.lines.filter((l) => /: acquired/.test(l)).length - p.lines.filter((l) => /released|lost/.test(l)).length;
  try {
    const t0 = performance.now();
    while (!procs.every((p) => held(p) === P / workers)) {
      if (performance.now() - t0 > 120_000) throw new Error('the worker group did not settle in 120 s');
      await new Promise((r) => setTimeout(r, 50));
    }
    for (const p of procs) p.kill('SIGSTOP');
    await prepublish(server.url, stream, events);
    const cpu0 = procs.reduce((s, p) => s + cpuMs(p.proc.pid), 0);
    const server0 = cpuMs(server.pid);
    const t1 = performance.now();
    for (const p of procs) p.kill('SIGCONT');
    let c2 = 0;
    let t2 = t1;
    while (c2 < n) {
      await new Promise((r) => setTimeout(r, 50));
      c2 = await outputCount(server.url, stream);
      t2 = performance.now();
      if (t2 - t1 > 300_000) throw new Error(`only ${c2} of ${n} outputs after 300 s`);
    }
    const workerUs = ((procs.reduce((s, p) => s + cpuMs(p.proc.pid), 0) - cpu0) * 1000) / n;
    return { rate: n / ((t2 - t1) / 1000), workerUs, serverUs: ((cpuMs(server.pid) - server0) * 1000) / n };
  } finally {
    await Promise.all(procs.map((p) => p.stop()));
    await deleteTopology(server.url, stream);
  }
}

async function takeovers(server: NatsServer, modelFile: string, kills: number): Promise<number[]> {
  const stream = 'takeover';
  const args = (id: string): string[] => ['--nats', server.url, '--stream', stream, '--partitions', String(P), '--model', modelFile, '--status-ms', '0', '--id', id];
  const pub = await PartitionedPublisher.connect(server.url, { stream, partitions: P });
  const engine = await connectJetStreamEngine({ servers: server.url, stream, partitions: P });
  await engine.close();
  let flowing = true;
  const events = makeEvents(KEYS);
  const feeder = (async () => {
    for (let i = 0; flowing; i++) {
      await pub.publish(events[i % KEYS]);
      if (i % 20 === 0) await new Promise((r) => setTimeout(r, 10));
    }
  })();
  let n = 0;
  const survivor = new WorkerProcess(args(`t${n++}`));
  await survivor.waitFor(/acquired/, 120_000, 0);
  const times: number[] = [];
  try {
    for (let k = 0; k < kills; k++) {
      const from = survivor.lines.length;
      const victim = new WorkerProcess(args(`t${n++}`));
      await victim.waitFor(/partition \d+: acquired/, 120_000, 0);
      await survivor.waitFor(/released at seq/, 30_000, from);
      await new Promise((r) => setTimeout(r, 500 + Math.random() * 1000));
      const held = new Set(victim.lines.filter((l) => /acquired/.test(l)).map((l) => l.match(/partition (\d+)/)![1]));
      const killedAt = performance.now();
      const mark = survivor.lines.length;
      victim.kill('SIGKILL');
      // Done when every partition the victim held has an 'acquired' line from the survivor.
      for (;;) {
        const got = new Map<string, number>();
        for (let i = mark; i < survivor.lines.length; i++) {
          const m = survivor.lines[i].match(/partition (\d+): acquired/);
          if (m && !got.has(m[1])) got.set(m[1], survivor.times[i]);
        }
        if ([...held].every((p) => got.has(p))) {
          times.push(Math.max(...[...held].map((p) => got.get(p)!)) - killedAt);
          break;
        }
        if (performance.now() - killedAt > 30_000) throw new Error('no takeover within 30 s');
        await new Promise((r) => setTimeout(r, 20));
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    flowing = false;
    await feeder.catch(() => undefined);
    await pub.close();
    await survivor.stop();
  }
  return times;
}

/** Runs the cluster benchmark (see the file comment). */
export async function run({ quick = false }: { quick?: boolean } = {}): Promise<void> {
  if (!findNatsServer()) {
    console.log('bench/cluster: nats-server is not installed (apt-get install nats-server), skipped');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'seqstream-bench-cluster-'));
  const server = await startNatsServer({ stream: 'bench', partitions: P });
  try {
    const model = RecurrentModel.create({ cell: 'lstm', inputSize: I, hiddenSize: H, head: { outputSize: 4 }, seed: 3 });
    const modelFile = join(dir, 'model.json');
    writeFileSync(modelFile, JSON.stringify(model));
    const n = quick ? 30_000 : 80_000;
    const events = makeEvents(n);
    process.env.SEQSTREAM_THREADS = '1';
    inProcess(model, events.slice(0, 5000)); // warm-up
    // Rounds interleave the configurations, so a change in the machine's other load hits each alike.
    const rounds = quick ? 2 : 3;
    const off = ['--checkpoint-ms', '3600000', '--checkpoint-events', '100000000'];
    const runs: { single: Rate; one: Rate; two: Rate; off: Rate }[] = [];
    for (let r = 0; r < rounds; r++) {
      const single = inProcess(model, events);
      const one = await drain(server, `one${r}`, modelFile, events, 1);
      const two = await drain(server, `two${r}`, modelFile, events, 2);
      const nockpt = await drain(server, `nockpt${r}`, modelFile, events, 1, off);
      runs.push({ single, one, two, off: nockpt });
    }
    const each = (f: (x: (typeof runs)[number]) => number, digits = 2): string => runs.map((x) => f(x).toFixed(digits)).join(', ');
    const cpu = (x: Rate): number => x.workerUs + x.serverUs;
    const us = (x: Rate): string => (x.serverUs > 0 ? `${x.workerUs.toFixed(1)} + ${x.serverUs.toFixed(1)}` : x.workerUs.toFixed(1));
    const row = (name: string, f: (x: (typeof runs)[number]) => Rate): (string | number)[] => [name, ...runs.map((x) => Math.round(f(x).rate)), each((x) => f(x).rate / x.one.rate), runs.map((x) => us(f(x))).join('; ')];
    printTable(
      ['run (LSTM H=128, 512 keys, 4 partitions)', ...runs.map((_, i) => `events/s r${i + 1}`), 'vs 1 worker, per round', 'CPU µs/event worker + server, per round'],
      [
        row('recurrentByKey in this process (no NATS)', (x) => x.single),
        row('1 worker, checkpoints every 1 s (default)', (x) => x.one),
        row('2 workers, checkpoints every 1 s', (x) => x.two),
        row('1 worker, checkpoints off', (x) => x.off),
      ],
    );
    console.log(`checkpoint cost per round: ${each((x) => ((x.off.rate - x.one.rate) / x.off.rate) * 100, 1)}% of throughput; ${each((x) => ((cpu(x.one) - cpu(x.off)) / cpu(x.one)) * 100, 1)}% of CPU per event, worker + server (goal <= 10%)`);
    console.log(`2 workers / 1 worker per round: ${each((x) => x.two.rate / x.one.rate)}x (goal >= 1.6x); 1 worker + server use ${each((x) => (cpu(x.one) * x.one.rate) / 1e6)} cores at full drain`);
    console.log(`worker CPU per event / recurrentByKey alone per round: ${each((x) => x.one.workerUs / x.single.workerUs, 1)}x`);
    const kills = 10; // the takeover figure needs at least 10 kills even in a quick run
    const t = await takeovers(server, modelFile, kills);
    console.log(`takeover times (ms): ${t.map((x) => Math.round(x)).join(', ')}`);
    printTable(['takeover, default lease 1500 ms', 'kills', 'p50 ms', 'max ms'], [['SIGKILL -> survivor resumed all the victim\'s partitions', t.length, Math.round(percentile(t, 0.5)), Math.round(Math.max(...t))]]);
  } finally {
    await server.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && /bench[\\/]cluster\.ts$/.test(process.argv[1])) {
  await run({ quick: process.argv.includes('--quick') });
}
