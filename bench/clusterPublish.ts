/**
 * `npx tsx bench/clusterPublish.ts`: what keeping each key's events in order costs the
 * partitioned publisher (`orderedKeys`, the default: a key's next event waits until its previous
 * one is stored) against pipelining every event (`orderedKeys: false`), for 1, 8 and 512 keys,
 * against one local nats-server, in the same run (rounds interleave the configurations; the best
 * round counts, the machine being shared).
 */
import { connectJetStreamEngine } from '../src/cluster/jetstream/connectJetStreamEngine.js';
import { PartitionedPublisher } from '../src/cluster/jetstream/partitionedPublisher.js';
import { findNatsServer, startNatsServer } from '../test/support/natsServer.js';
import { printTable } from './stats.js';

const P = 4;

async function rate(url: string, keys: number, orderedKeys: boolean, n: number): Promise<number> {
  const pub = await PartitionedPublisher.connect(url, { stream: 'pubbench', partitions: P, maxInFlight: 256, orderedKeys });
  const events = Array.from({ length: keys }, (_, k) => ({ key: `k${k}`, x: [k / keys, 0.5, -0.25] }));
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    await pub.ready();
    void pub.publish(events[i % keys]);
  }
  await pub.flush();
  const s = (performance.now() - t0) / 1000;
  await pub.close();
  return n / s;
}

export async function run({ quick = false }: { quick?: boolean } = {}): Promise<void> {
  if (!findNatsServer()) {
    console.log('bench/clusterPublish: nats-server is not installed, skipped');
    return;
  }
  const server = await startNatsServer({ stream: 'pubbench', partitions: P });
  try {
    const engine = await connectJetStreamEngine({ servers: server.url, stream: 'pubbench', partitions: P });
    await engine.close();
    const n = quick ? 4000 : 20_000;
    const rounds = quick ? 1 : 3;
    const best = new Map<string, number>();
    for (let r = 0; r < rounds; r++) {
      for (const keys of [1, 8, 512]) {
        for (const ordered of [false, true]) {
          const id = `${keys}:${ordered}`;
          best.set(id, Math.max(best.get(id) ?? 0, await rate(server.url, keys, ordered, n)));
        }
      }
    }
    printTable(
      ['keys', 'pipelined (orderedKeys: false) ev/s', 'orderedKeys (default) ev/s', 'ordered / pipelined'],
      [1, 8, 512].map((keys) => {
        const a = best.get(`${keys}:false`)!;
        const b = best.get(`${keys}:true`)!;
        return [keys, Math.round(a), Math.round(b), (b / a).toFixed(2)];
      }),
    );
    console.log(`${n} events per run, maxInFlight 256, ${P} partitions, best of ${rounds} interleaved rounds, one local nats-server`);
  } finally {
    await server.dispose();
  }
}

if (process.argv[1] && /bench[\\/]clusterPublish\.ts$/.test(process.argv[1])) {
  await run({ quick: process.argv.includes('--quick') });
}
