import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { partitionOf } from '../../src/cluster/partitionOf.js';
import { natsSkipReason, startNatsServer, type NatsServer } from '../support/natsServer.js';
import { caughtUp, expectSameAsOneProcess, makeEvents, referenceRun, until, WorkerProcess, writeModel } from './clusterHarness.js';

const skip = natsSkipReason();
if (skip) console.warn(skip);

describe.skipIf(skip !== null)("IoT path: sensors publish MQTT into nats-server's MQTT listener, the server maps each key to its partition", () => {
  const STREAM = 'mq';
  const P = 3;
  let server: NatsServer & { mqttPort?: number };
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'seqstream-mqtt-'));
    server = await startNatsServer({ stream: STREAM, partitions: P, mqtt: true });
  });
  afterAll(async () => {
    await server?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('MQTT topic mq/key/<key> lands in partition fnv1a32(key) mod P, and the worker applies every reading once', async () => {
    const { model, file } = writeModel(dir);
    const events = makeEvents(300, 15, 8);
    const ref = referenceRun(model, events);
    const w = new WorkerProcess(['--nats', server.url, '--stream', STREAM, '--partitions', String(P), '--model', file, '--lease-ms', '600', '--checkpoint-ms', '50', '--status-ms', '0', '--id', 'm']);
    await w.waitFor(/partition \d: acquired/, 60_000); // the worker created the streams; MQTT messages are kept from now on
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${server.mqttPort}`, { clientId: 'sensor-gateway', clean: true });
    const ids: string[] = [];
    const seqOf = new Array<number>(P).fill(0);
    for (const e of events) {
      // QoS 1: the server stores it in the partition stream before the PUBACK.
      await client.publishAsync(`${STREAM}/key/${e.key}`, JSON.stringify(e.reset ? { x: e.x, reset: true } : { x: e.x }), { qos: 1 });
      const p = partitionOf(e.key, P);
      ids.push(`${p}:${++seqOf[p]}`);
    }
    await client.endAsync();
    await until(() => caughtUp(server.url, STREAM, ids, events.length), 60_000, 'outputs and checkpoints');
    await w.stop();
    // Ids are computed with partitionOf: equal outputs prove the server's mapping put each key where fnv1a32 says.
    await expectSameAsOneProcess(server.url, STREAM, P, ref, ids, expect);
  }, 120_000);
});
