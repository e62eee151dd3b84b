import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Subject } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { decodePartitionCheckpoint } from '../../src/cluster/checkpointCodec.js';
import { jetStreamNames } from '../../src/cluster/jetstream/jetStreamNames.js';
import { loadNats } from '../../src/cluster/jetstream/loadNats.js';
import { detectAnomalies, type DetectAnomaliesOptions } from '../../src/detection/detectAnomalies.js';
import { DetectorControl } from '../../src/detection/detectorControl.js';
import { natsSkipReason, startNatsServer, type NatsServer } from '../support/natsServer.js';
import { partitionOf } from '../../src/cluster/partitionOf.js';
import { caughtUp, inStreamOrder, publishRaw, readDeadLetters, readOutputs, until, WorkerProcess } from './clusterHarness.js';
import { PartitionedPublisher } from '../../src/cluster/jetstream/partitionedPublisher.js';

interface Reading {
  key: string;
  x: number;
  timestamp: number;
}
interface Scored {
  score: number;
  raw: number;
  alert: boolean;
}

/** Sensor readings over `keys` keys: a sine per key, noise, and a spike now and then. */
function makeReadings(n: number, keys: number): Reading[] {
  let s = 17;
  const rnd = (): number => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  return Array.from({ length: n }, (_, i) => {
    const k = Math.floor(rnd() * keys);
    return { key: `s${k}`, x: Math.sin(i / (9 + k)) + 0.1 * rnd() + (rnd() < 0.004 ? 4 : 0), timestamp: 1_700_000_000_000 + i * 60_000 };
  });
}

/** One process: `detectAnomalies` over the readings in the cluster's order; scores by reading index, every key's final state. */
function referenceDetect(options: DetectAnomaliesOptions<string>, readings: Reading[], ids: string[]): { scores: Scored[]; states: Map<string, unknown> } {
  const o = inStreamOrder(readings, ids);
  const control = new DetectorControl<string>();
  const input = new Subject<Reading & { offset: number }>();
  const scores: Scored[] = [];
  const sub = input.pipe(detectAnomalies<string, Reading & { offset: number }>({ ...options, control })).subscribe((d) => (scores[d.event.offset] = { score: d.score, raw: d.raw, alert: d.alert }));
  o.events.forEach((r, k) => input.next({ ...r, offset: o.index[k] }));
  const cp = control.capture();
  sub.unsubscribe();
  // Through JSON, as the checkpoint is stored (-0 prints as 0).
  return { scores, states: new Map(cp.keys.map((k) => [k.key, JSON.parse(JSON.stringify(k.state))])) };
}

/** Every key's detector state from the committed checkpoints of all partitions. */
async function checkpointedDetectors(url: string, stream: string, partitions: number): Promise<Map<string, unknown>> {
  const nats = await loadNats();
  const nc = await nats.transport.connect({ servers: url });
  const names = jetStreamNames(stream);
  const kv = await new nats.kv.Kvm(nc).open(names.checkpointBucket);
  const os = await new nats.obj.Objm(nc).open(names.stateStore);
  const states = new Map<string, unknown>();
  for (let p = 0; p < partitions; p++) {
    const ptr = (await kv.get(`p${p}`))?.json<{ object: string | null }>();
    if (!ptr?.object) continue;
    const cp = decodePartitionCheckpoint((await os.getBlob(ptr.object))!);
    if (cp.format !== 'seqstream-detector-checkpoint') throw new Error(`partition ${p}: a ${cp.format}`);
    for (const k of cp.keys) states.set(k.key, k.state);
  }
  await nc.close();
  return states;
}

describe('seqstream worker --detect: usage', () => {
  const run = async (args: string[]): Promise<{ code: number; err: string }> => {
    const err: string[] = [];
    const code = await main(['worker', '--nats', 'nats://127.0.0.1:1', '--stream', 's', '--partitions', '2', ...args], () => undefined, (l) => err.push(l));
    return { code, err: err.join('\n') };
  };
  it('needs --model or --detect, not both; detector flags need --detect; a bad --range is a usage error', async () => {
    expect((await run([])).code).toBe(2);
    expect((await run(['--detect', '--model', 'm.json'])).code).toBe(2);
    expect((await run(['--threshold', '0.5', '--model', 'm.json'])).code).toBe(2);
    expect((await run(['--detect', '--range', '3,1'])).code).toBe(2);
  });
  it('refuses an unreadable, non-JSON or non-object options file (SEQ_USAGE) and unknown or invalid options (SEQ_INVALID_OPTION), all exit 2 before connecting', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'seqstream-detopts-'));
    try {
      const file = (name: string, text: string): string => (writeFileSync(join(dir, name), text), join(dir, name));
      expect((await run(['--detect', '--detector-options', join(dir, 'missing.json')])).code).toBe(2);
      expect((await run(['--detect', '--detector-options', file('bad.json', '{"hiddenSize": ')])).code).toBe(2);
      expect((await run(['--detect', '--detector-options', file('array.json', '[1]')])).code).toBe(2);
      const unknown = await run(['--detect', '--detector-options', file('unknown.json', '{"hiddenSise": 4}')]);
      expect(unknown.code).toBe(2);
      expect(unknown.err).toMatch(/SEQ_INVALID_OPTION[\s\S]*hiddenSise|hiddenSise[\s\S]*SEQ_INVALID_OPTION/);
      const invalid = await run(['--detect', '--detector-options', file('invalid.json', '{"hiddenSize": 0}')]);
      expect(invalid.code).toBe(2);
      expect(invalid.err).toMatch(/SEQ_INVALID_OPTION.*hiddenSize/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

const skip = natsSkipReason();
if (skip) console.warn(skip);

describe.skipIf(skip !== null)('seqstream worker --detect on one JetStream server', () => {
  const STREAM = 'detectkill';
  const P = 3;
  let server: NatsServer;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'seqstream-detect-'));
    server = await startNatsServer({ stream: STREAM, partitions: P });
  });
  afterAll(async () => {
    await server?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('SIGKILL mid-run: every score once and bit-identical to one detectAnomalies process, every detector state too, across kills (some mid-checkpoint)', async () => {
    const parameters = { hiddenSize: 6, window: 8, learningPeriod: 60, seed: 3 };
    const optionsFile = join(dir, 'detector.json');
    writeFileSync(optionsFile, JSON.stringify(parameters));
    // Readings flow until the kills are done (at least 2400 of them), so every victim has new
    // readings to checkpoint; the reference runs over exactly the ones published.
    const pool = makeReadings(20_000, 12);
    let killsDone = false;
    const args = ['--nats', server.url, '--stream', STREAM, '--partitions', String(P), '--detect', '--detector-options', optionsFile, '--threshold', '0.5'];
    // Lease 1500 ms (the default), as the kill test: on a loaded machine a 600 ms lease flaps and no checkpoint begins.
    const timing = ['--lease-ms', '1500', '--checkpoint-ms', '100', '--checkpoint-events', '200', '--status-ms', '0', '--trace'];
    const all: WorkerProcess[] = [];
    const spawnWorker = (): WorkerProcess => {
      const w = new WorkerProcess([...args, ...timing, '--id', `d${all.length}`]);
      all.push(w);
      return w;
    };
    const workers = [spawnWorker(), spawnWorker()];
    await Promise.all(workers.map((w) => w.waitFor(/connected to .*anomaly detector/, 60_000)));

    const pub = await PartitionedPublisher.connect(server.url, { stream: STREAM, partitions: P, maxInFlight: 64 });
    const publishing = (async () => {
      const ids: Promise<string>[] = [];
      for (let i = 0; i < pool.length && !(killsDone && i >= 2400); i++) {
        await pub.ready();
        ids.push(pub.publish(pool[i]).then((a) => `${a.partition}:${a.seq}`));
        if (i % 100 === 99) await new Promise((r) => setTimeout(r, 150));
      }
      const out = await Promise.all(ids);
      await pub.close();
      return out;
    })();

    let midCheckpoint = 0;
    for (let k = 0; k < 5; k++) {
      const i = k % workers.length;
      const w = workers[i];
      await w.waitFor(/partition \d+: acquired/, 60_000, 0);
      await w.waitFor(/checkpoint seq \d+ committed/, 60_000, 0); // its successor resumes from a checkpoint, not from scratch
      if (k % 2 === 0) {
        await w.waitFor(/checkpoint seq \d+ writing/, 30_000); // SIGKILL while its body is being written
        midCheckpoint++;
      } else {
        await new Promise((r) => setTimeout(r, 150 + 100 * k));
      }
      w.kill('SIGKILL');
      await until(() => w.exited, 10_000, 'the worker to die');
      workers[i] = spawnWorker();
    }
    killsDone = true;
    const ids = await publishing;
    const readings = pool.slice(0, ids.length);
    await until(() => caughtUp(server.url, STREAM, ids, readings.length), 60_000, 'every output and checkpoint');
    await Promise.all(workers.map((w) => w.stop()));

    const ref = referenceDetect({ ...parameters, threshold: 0.5 }, readings, ids);
    expect(ref.scores.some((s) => s.alert), 'the readings raise alerts').toBe(true);
    const { byId, duplicates } = await readOutputs(server.url, STREAM, (b) => ({ score: b.score, raw: b.raw, alert: b.alert }) as Scored);
    expect(duplicates, 'ids seen twice downstream').toBe(0);
    expect(byId.size, 'outputs').toBe(readings.length);
    ids.forEach((id, i) => expect(byId.get(id), `reading ${i} (${id})`).toEqual(ref.scores[i]));
    const states = await checkpointedDetectors(server.url, STREAM, P);
    expect(states.size, 'keys').toBe(ref.states.size);
    for (const [key, state] of ref.states) expect(states.get(key), key).toEqual(state);
    expect(midCheckpoint).toBeGreaterThanOrEqual(3);
    // The kills were takeovers from a committed checkpoint with detectors in it, not fresh starts.
    const resumed = all.flatMap((w) => w.lines).filter((l) => /resuming after seq [1-9]\d* \([1-9]\d* keys\)/.test(l));
    expect(resumed.length, 'partitions resumed from a checkpoint').toBeGreaterThanOrEqual(2);
  }, 180_000);

  it('bad readings go to the dead-letter subject with the detector\'s code, and their key goes on unchanged', async () => {
    const stream = 'detectbad';
    const bad = await startNatsServer({ stream, partitions: P });
    try {
      const readings = makeReadings(300, 4);
      const w = new WorkerProcess(['--nats', bad.url, '--stream', stream, '--partitions', String(P), '--detect', '--learning-period', '20', '--status-ms', '0', '--id', 'bad']);
      await w.waitFor(/partition \d+: acquired/, 60_000);
      const pub = await PartitionedPublisher.connect(bad.url, { stream, partitions: P });
      const publishSome = async (rs: Reading[]): Promise<string[]> => Promise.all(rs.map((r) => pub.publish(r).then((a) => `${a.partition}:${a.seq}`)));
      const first = await publishSome(readings.slice(0, 150));
      const key = readings[0].key;
      const enc = (o: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(o));
      const rejected = await publishRaw(bad.url, stream, partitionOf(key, P), [enc({ key, x: 'high' }), enc({ key, x: [null] }), enc({ key, x: 1, timestamp: 'noon' })]);
      const rest = await publishSome(readings.slice(150));
      await pub.close();
      const ids = [...first, ...rest];
      await until(() => caughtUp(bad.url, stream, [...ids, ...rejected], readings.length), 60_000, 'outputs and checkpoints');
      await w.stop();
      const dead = await readDeadLetters(bad.url, stream);
      expect(dead.map((d) => d.id)).toEqual(rejected);
      expect(dead.map((d) => d.code)).toEqual(['SEQ_DETECT_BAD_VALUE', 'SEQ_DETECT_BAD_VALUE', 'SEQ_DETECT_BAD_TIMESTAMP']);
      const ref = referenceDetect({ learningPeriod: 20 }, readings, ids);
      const { byId, duplicates } = await readOutputs(bad.url, stream, (b) => ({ score: b.score, raw: b.raw, alert: b.alert }) as Scored);
      expect(duplicates).toBe(0);
      expect(byId.size).toBe(readings.length);
      ids.forEach((id, i) => expect(byId.get(id), `reading ${i} (${id})`).toEqual(ref.scores[i]));
    } finally {
      await bad.dispose();
    }
  }, 120_000);
});
