import mqtt, { type MqttClient } from 'mqtt';
import { ReplaySubject, filter, firstValueFrom, type Subscription } from 'rxjs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mqttSource, type MqttSourceOptions, type MqttStatus, type SensorEvent } from '../../src/adapters/mqttSource.js';
import { startMosquitto, type MosquittoBroker } from '../support/mosquitto.js';

// Persistent sessions against a real mosquitto that keeps sessions across its own restarts
// (`persistence true`): QoS 1 messages published while the source is away must all arrive.
let broker: MosquittoBroker;
const subs: Subscription[] = [];
const publishers: MqttClient[] = [];
beforeAll(async () => {
  broker = await startMosquitto({ persistence: true });
});
afterAll(async () => {
  await broker?.dispose();
});
afterEach(async () => {
  for (const s of subs.splice(0)) s.unsubscribe();
  await Promise.all(publishers.splice(0).map((p) => p.endAsync(true)));
});

/** A persistent-session source; resolves once it reports its first 'connected'. */
async function persistentSource(clientId: string, extra: Partial<MqttSourceOptions> = {}) {
  const events = new ReplaySubject<SensorEvent>();
  const statuses = new ReplaySubject<MqttStatus>();
  const sub = mqttSource({ url: broker.url, topics: 'plant/+', qos: 1, clientId, cleanSession: false, reconnectPeriodMs: 100, ...extra, onStatus: (s) => statuses.next(s) }).subscribe(
    (e) => events.next(e),
  );
  subs.push(sub);
  await firstValueFrom(statuses.pipe(filter((s) => s.state === 'connected')));
  return { events, statuses, sub };
}

/** Values seen on `events` once `n` arrived, or whatever arrived within `ms` (so a loss fails fast, with the values). */
function collect(events: ReplaySubject<SensorEvent>, n: number, ms = 8_000): Promise<number[]> {
  return new Promise((resolve) => {
    const seen: number[] = [];
    const timer = setTimeout(() => done(), ms);
    const s = events.subscribe((e) => {
      seen.push(e.x[0]);
      if (seen.length >= n) done();
    });
    function done(): void {
      clearTimeout(timer);
      queueMicrotask(() => s.unsubscribe());
      resolve(seen);
    }
  });
}

async function publishAll(values: number[]): Promise<void> {
  const p = await mqtt.connectAsync(broker.url, { reconnectPeriod: 100 });
  publishers.push(p);
  for (const v of values) await p.publishAsync('plant/pump', String(v), { qos: 1 });
}

const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);

describe('mqttSource persistent sessions (real mosquitto, persistence on)', () => {
  it('a source restart loses none of the QoS 1 messages published while it was gone', async () => {
    const first = await persistentSource('monitor-restart');
    await publishAll([0]);
    expect(await collect(first.events, 1)).toEqual([0]);
    first.sub.unsubscribe(); // the process stops: the broker keeps the session

    await publishAll(range(1, 30)); // published while no source is connected
    const second = await persistentSource('monitor-restart');
    expect(await collect(second.events, 30)).toEqual(range(1, 30));
  });

  it('a broker restart loses none of the QoS 1 messages published before the source is back', async () => {
    // A long reconnect period opens a gap between the broker coming back and the source
    // reconnecting; the messages published in that gap are queued in the persisted session.
    const { events, statuses } = await persistentSource('monitor-broker', { reconnectPeriodMs: 1_500 });
    await publishAll([0]);
    expect(await collect(events, 1)).toEqual([0]);

    await broker.stop();
    await firstValueFrom(statuses.pipe(filter((s) => s.state === 'offline')));
    await broker.start();
    await publishAll(range(1, 30));
    const back = firstValueFrom(statuses.pipe(filter((s) => s.state === 'connected' && s.reconnected)));
    const got = await collect(events, 31);
    await back;
    expect(got).toEqual(range(0, 31));
  }, 20_000);

  it("the broker's queue limit (max_queued_messages) drops the excess: the documented bound", async () => {
    const small = await startMosquitto({ maxQueuedMessages: 5 });
    try {
      const statuses = new ReplaySubject<MqttStatus>();
      const events = new ReplaySubject<SensorEvent>();
      const opts = { url: small.url, topics: 'plant/+', qos: 1 as const, clientId: 'monitor-queue', cleanSession: false, onStatus: (s: MqttStatus) => statuses.next(s) };
      const a = mqttSource(opts).subscribe();
      await firstValueFrom(statuses.pipe(filter((s) => s.state === 'connected')));
      a.unsubscribe();
      const p = await mqtt.connectAsync(small.url);
      publishers.push(p);
      for (const v of range(1, 12)) await p.publishAsync('plant/pump', String(v), { qos: 1 });
      const statuses2 = new ReplaySubject<MqttStatus>();
      subs.push(mqttSource({ ...opts, onStatus: (s) => statuses2.next(s) }).subscribe((e) => events.next(e)));
      const got = await collect(events, 12, 2_000);
      expect(got).toEqual(range(1, 5)); // the first 5 queued, the other 7 silently dropped by the broker
    } finally {
      await small.dispose();
    }
  });
});
