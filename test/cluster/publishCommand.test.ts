import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jetStreamNames } from '../../src/cluster/jetstream/jetStreamNames.js';
import { loadNats } from '../../src/cluster/jetstream/loadNats.js';
import { partitionOf } from '../../src/cluster/partitionOf.js';
import { natsSkipReason, startNatsServer, type NatsServer } from '../support/natsServer.js';
import { ROOT } from './clusterHarness.js';

const skip = natsSkipReason();
if (skip) console.warn(skip);

function runPublish(args: string[], input: string): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'publish', ...args], { cwd: ROOT });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d));
    p.stderr.on('data', (d: Buffer) => (err += d));
    p.on('exit', (code) => resolve({ code, out, err }));
    p.stdin.end(input);
  });
}

describe.skipIf(skip !== null)('seqstream publish', () => {
  let server: NatsServer;
  beforeAll(async () => {
    server = await startNatsServer({ stream: 'pubcli', partitions: 3 });
  });
  afterAll(async () => {
    await server?.dispose();
  });

  it('puts each NDJSON line into its key partition, reports bad lines with their code and goes on', async () => {
    const good = Array.from({ length: 30 }, (_, i) => JSON.stringify({ id: `dev-${i % 7}`, x: [i, 1, 2] }));
    const lines = [...good.slice(0, 10), '{broken', JSON.stringify({ x: [1] }), JSON.stringify({ id: 'big', x: 'y'.repeat(300) }), ...good.slice(10)];
    const r = await runPublish(['--nats', server.url, '--stream', 'pubcli', '--partitions', '3', '--key', 'id', '--acks', '--max-event-bytes', '200'], lines.join('\n') + '\n');
    expect(r.code, r.err).toBe(0);
    const errors = r.err.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { error: string; line: number });
    expect(errors.map((e) => [e.line, e.error])).toEqual([
      [11, 'SEQ_CLUSTER_MALFORMED'],
      [12, 'SEQ_CLUSTER_MALFORMED'],
      [13, 'SEQ_CLUSTER_OVERSIZE'],
    ]);
    const acks = r.out.trim().split('\n').map((l) => JSON.parse(l) as { line: number; partition: number; seq: number });
    expect(acks).toHaveLength(30);
    // Every stored event sits at the seq its ack names, in the partition of its key.
    const nats = await loadNats();
    const nc = await nats.transport.connect({ servers: server.url });
    const jsm = await nats.jetstream.jetstreamManager(nc);
    for (const a of acks) {
      const line = JSON.parse(lines[a.line - 1]) as { id: string };
      expect(a.partition).toBe(partitionOf(line.id, 3));
      const m = await jsm.streams.getMessage(jetStreamNames('pubcli').partitionStream(a.partition), { seq: a.seq });
      expect((m!.json() as { id: string; key: string }).key).toBe(line.id);
    }
    await nc.close();
  }, 60_000);

  it('stores each key\'s lines in input order, and --unordered pipelines them (every line still stored once)', async () => {
    const lines = Array.from({ length: 40 }, (_, i) => JSON.stringify({ key: `d${i % 2}`, x: [i] }));
    for (const flags of [[], ['--unordered']]) {
      const r = await runPublish(['--nats', server.url, '--stream', 'pubcli', '--partitions', '3', '--acks', ...flags], lines.join('\n') + '\n');
      expect(r.code, r.err).toBe(0);
      const acks = r.out.trim().split('\n').map((l) => JSON.parse(l) as { line: number; partition: number; seq: number });
      expect(new Set(acks.map((a) => a.line)).size).toBe(40);
      if (flags.length === 0) {
        const seqOfLine = new Map(acks.map((a) => [a.line, a.seq]));
        for (let line = 3; line <= 40; line++) expect(seqOfLine.get(line)!, `line ${line} after line ${line - 2}`).toBeGreaterThan(seqOfLine.get(line - 2)!);
      }
    }
  }, 60_000);
});
