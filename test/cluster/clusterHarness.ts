import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Subject } from 'rxjs';
import { RecurrentModel } from '../../src/cells/model.js';
import { decodeCheckpoint } from '../../src/cluster/checkpointCodec.js';
import { jetStreamNames } from '../../src/cluster/jetstream/jetStreamNames.js';
import { loadNats } from '../../src/cluster/jetstream/loadNats.js';
import { PartitionedPublisher } from '../../src/cluster/jetstream/partitionedPublisher.js';
import { KeyedRecurrentControl } from '../../src/streams/keyedRecurrentControl.js';
import { recurrentByKey } from '../../src/streams/recurrentByKey.js';

export const ROOT = join(import.meta.dirname, '..', '..');

/** A small LSTM with a head, written to `dir/model.json`. */
export function writeModel(dir: string, hiddenSize = 8): { model: RecurrentModel; file: string } {
  const model = RecurrentModel.create({ cell: 'lstm', inputSize: 3, hiddenSize, head: { outputSize: 2 }, seed: 11 });
  const file = join(dir, 'model.json');
  writeFileSync(file, JSON.stringify(model));
  return { model, file };
}

export interface TestEvent {
  key: string;
  x: number[];
  reset?: boolean;
}

/** Deterministic events over `keys` keys (a reset now and then). */
export function makeEvents(n: number, keys: number, seed = 1): TestEvent[] {
  let s = seed >>> 0;
  const rnd = (): number => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  return Array.from({ length: n }, (_, i) => {
    const e: TestEvent = { key: `k${Math.floor(rnd() * keys)}`, x: [rnd() * 2 - 1, rnd() * 2 - 1, rnd() * 2 - 1] };
    if (i % 97 === 13) e.reset = true;
    return e;
  });
}

/**
 * Orders events as the partition streams hold them (by partition, then seq from `ids`): the order
 * the cluster applies. It differs from the publish order only where a publish was retried
 * (a server died with it in flight) and landed after later events.
 */
export function inStreamOrder<T>(events: T[], ids: string[]): { events: T[]; index: number[]; reordered: number } {
  const order = ids.map((id, i) => ({ i, p: Number(id.split(':')[0]), seq: Number(id.split(':')[1]) }));
  order.sort((a, b) => a.p - b.p || a.seq - b.seq);
  let reordered = 0;
  for (let k = 1; k < order.length; k++) if (order[k].p === order[k - 1].p && order[k].i < order[k - 1].i) reordered++;
  return { events: order.map((o) => events[o.i]), index: order.map((o) => o.i), reordered };
}

/** {@link referenceRun} over the events in stream order, with `ys` indexed like `events`. */
export function referenceInStreamOrder(model: RecurrentModel, events: TestEvent[], ids: string[]): { ys: number[][]; states: Map<string, number[]>; reordered: number } {
  const o = inStreamOrder(events, ids);
  const r = referenceRun(model, o.events);
  const ys: number[][] = [];
  o.index.forEach((orig, k) => (ys[orig] = r.ys[k]));
  return { ys, states: r.states, reordered: o.reordered };
}

/** The single-process run: y per event (by index) and every key's final state row. */
export function referenceRun(model: RecurrentModel, events: TestEvent[]): { ys: number[][]; states: Map<string, number[]> } {
  const control = new KeyedRecurrentControl<string>();
  const input = new Subject<TestEvent & { offset: number }>();
  const ys: number[][] = [];
  const sub = input.pipe(recurrentByKey<string>(model, { control })).subscribe((o) => (ys[o.offset!] = Array.from(o.y)));
  events.forEach((e, i) => input.next({ ...e, offset: i }));
  const cp = control.capture({ includeModel: false }); // steps what is queued first
  sub.unsubscribe();
  const row = cp.state.length / cp.keys.length;
  const states = new Map(cp.keys.map((k, i) => [k, Array.from(cp.state.subarray(i * row, (i + 1) * row))]));
  return { ys, states };
}

/** Every key's final state from the committed checkpoints of all partitions (row as float32 bits). */
export async function checkpointedStates(url: string | string[], stream: string, partitions: number): Promise<Map<string, number[]>> {
  const nats = await loadNats();
  const nc = await nats.transport.connect({ servers: url });
  const names = jetStreamNames(stream);
  const kv = await new nats.kv.Kvm(nc).open(names.checkpointBucket);
  const os = await new nats.obj.Objm(nc).open(names.stateStore);
  const states = new Map<string, number[]>();
  for (let p = 0; p < partitions; p++) {
    const e = await kv.get(`p${p}`);
    const ptr = e?.json<{ object: string | null }>();
    if (!ptr?.object) continue;
    const cp = decodeCheckpoint((await os.getBlob(ptr.object))!);
    const row = cp.state.length / cp.keys.length;
    cp.keys.forEach((k, i) => states.set(k, Array.from(cp.state.subarray(i * row, (i + 1) * row))));
  }
  await nc.close();
  return states;
}

/** Whether every partition's committed checkpoint covers the highest seq in `ids` (`<p>:<seq>`), and the output stream holds `outputs` messages. */
export async function caughtUp(url: string | string[], stream: string, ids: string[], outputs: number): Promise<boolean> {
  const nats = await loadNats();
  const nc = await nats.transport.connect({ servers: url });
  try {
    const names = jetStreamNames(stream);
    const jsm = await nats.jetstream.jetstreamManager(nc);
    if ((await jsm.streams.info(names.outputStream)).state.messages < outputs) return false;
    const last = new Map<number, number>();
    for (const id of ids) {
      const [p, seq] = id.split(':').map(Number);
      last.set(p, Math.max(last.get(p) ?? 0, seq));
    }
    const kv = await new nats.kv.Kvm(nc).open(names.checkpointBucket);
    for (const [p, seq] of last) {
      const e = await kv.get(`p${p}`);
      if (!e || e.operation !== 'PUT' || e.json<{ seq: number }>().seq < seq) return false;
    }
    return true;
  } catch {
    return false;
  } finally {
    await nc.close();
  }
}

/** Reads the whole output stream: outputs by msg id (`pick` of each body; default its `y`), and how many ids came more than once. */
export async function readOutputs<T = number[]>(
  url: string | string[],
  stream: string,
  pick: (body: Record<string, unknown>) => T = (body) => body.y as T,
): Promise<{ byId: Map<string, T>; duplicates: number; total: number }> {
  const nats = await loadNats();
  const nc = await nats.transport.connect({ servers: url });
  const js = nats.jetstream.jetstream(nc);
  const jsm = await nats.jetstream.jetstreamManager(nc);
  const names = jetStreamNames(stream);
  const info = await jsm.streams.info(names.outputStream);
  const byId = new Map<string, T>();
  let duplicates = 0;
  let total = 0;
  if (info.state.messages > 0) {
    const c = await js.consumers.get(names.outputStream);
    const it = await c.consume();
    for await (const m of it) {
      total++;
      const id = m.headers?.get('Nats-Msg-Id') ?? '';
      const body = m.json<{ p: number; seq: number }>();
      if (id !== `${body.p}:${body.seq}`) throw new Error(`output id ${id} does not match its body ${body.p}:${body.seq}`);
      if (byId.has(id)) duplicates++;
      byId.set(id, pick(body));
      if (m.info.pending === 0) break;
    }
  }
  await nc.close();
  return { byId, duplicates, total };
}

/** Reads the dead-letter stream: code and partition:seq per message. */
export async function readDeadLetters(url: string | string[], stream: string): Promise<{ id: string; code: string; reason: string; bytes: number }[]> {
  const nats = await loadNats();
  const nc = await nats.transport.connect({ servers: url });
  const js = nats.jetstream.jetstream(nc);
  const jsm = await nats.jetstream.jetstreamManager(nc);
  const names = jetStreamNames(stream);
  const out: { id: string; code: string; reason: string; bytes: number }[] = [];
  const info = await jsm.streams.info(names.deadStream);
  if (info.state.messages > 0) {
    const it = await (await js.consumers.get(names.deadStream)).consume();
    for await (const m of it) {
      out.push({ id: m.headers?.get('Nats-Msg-Id') ?? '', code: m.headers?.get('Seqstream-Code') ?? '', reason: m.headers?.get('Seqstream-Reason') ?? '', bytes: m.data.length });
      if (m.info.pending === 0) break;
    }
  }
  await nc.close();
  return out;
}

/** Publishes events (in order, awaiting each window) and returns the `<p>:<seq>` id of each. */
export async function publishAll(url: string | string[], stream: string, partitions: number, events: TestEvent[], pace?: { every: number; ms: number }): Promise<string[]> {
  const pub = await PartitionedPublisher.connect(url, { stream, partitions, maxInFlight: 64 });
  const ids: Promise<string>[] = [];
  for (let i = 0; i < events.length; i++) {
    await pub.ready();
    ids.push(pub.publish(events[i]).then((a) => `${a.partition}:${a.seq}`));
    if (pace && i % pace.every === pace.every - 1) await new Promise((r) => setTimeout(r, pace.ms));
  }
  const out = await Promise.all(ids);
  await pub.close();
  return out;
}

/** A `seqstream worker` child process, its stderr lines collected. */
export class WorkerProcess {
  readonly proc: ChildProcess;
  readonly lines: string[] = [];
  /** `performance.now()` when each line arrived. */
  readonly times: number[] = [];
  private waiters: { re: RegExp; from: number; resolve: (l: string) => void }[] = [];
  constructor(args: string[], env: Record<string, string> = {}) {
    this.proc = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'worker', ...args], {
      cwd: ROOT,
      env: { ...process.env, SEQSTREAM_THREADS: '1', ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let buf = '';
    this.proc.stderr!.on('data', (d: Buffer) => {
      buf += d.toString();
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        this.lines.push(line);
        this.times.push(performance.now());
        this.waiters = this.waiters.filter((w) => (w.re.test(line) ? (w.resolve(line), false) : true));
      }
    });
  }
  /** Resolves with the first line (from now, or from line index `from`) matching `re`. */
  waitFor(re: RegExp, timeoutMs = 30_000, from = this.lines.length): Promise<string> {
    const hit = this.lines.slice(from).find((l) => re.test(l));
    if (hit) return Promise.resolve(hit);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no line matching ${re} in ${timeoutMs} ms; got:\n${this.lines.slice(-30).join('\n')}`)), timeoutMs);
      this.waiters.push({ re, from, resolve: (l) => (clearTimeout(t), resolve(l)) });
    });
  }
  get exited(): boolean {
    return this.proc.exitCode !== null || this.proc.signalCode !== null;
  }
  kill(signal: NodeJS.Signals): void {
    this.proc.kill(signal);
  }
  /** SIGTERM (graceful: final checkpoints) and wait for the exit. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (this.exited) return;
    await new Promise<void>((resolve) => {
      this.proc.once('exit', () => resolve());
      this.proc.kill(signal);
    });
  }
}

/** Waits until `check()` is true (polling). */
export async function until(check: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<void> {
  const t0 = Date.now();
  while (!(await check())) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Publishes raw bytes straight into partition `p` (bypassing the publisher's checks); resolves to `<p>:<seq>`. */
export async function publishRaw(url: string | string[], stream: string, p: number, payloads: Uint8Array[]): Promise<string[]> {
  const nats = await loadNats();
  const nc = await nats.transport.connect({ servers: url });
  const js = nats.jetstream.jetstream(nc);
  const ids: string[] = [];
  for (const data of payloads) ids.push(`${p}:${(await js.publish(jetStreamNames(stream).partitionSubject(p), data)).seq}`);
  await nc.close();
  return ids;
}

/** Checks a cluster run against the single-process one: every output once and bit-identical, every key's final state bit-identical. */
export async function expectSameAsOneProcess(
  url: string | string[],
  stream: string,
  partitions: number,
  ref: { ys: number[][]; states: Map<string, number[]> },
  ids: string[],
  expect: (v: unknown, m?: string) => { toBe(x: unknown): void; toEqual(x: unknown): void },
): Promise<void> {
  const { byId, duplicates } = await readOutputs(url, stream);
  expect(duplicates, 'ids seen twice downstream').toBe(0);
  expect(byId.size, 'outputs').toBe(ids.length);
  ids.forEach((id, i) => expect(byId.get(id), `event ${i} (${id})`).toEqual(ref.ys[i]));
  const states = await checkpointedStates(url, stream, partitions);
  expect(states.size, 'keys').toBe(ref.states.size);
  for (const [key, row] of ref.states) expect(states.get(key), key).toEqual(row);
}
