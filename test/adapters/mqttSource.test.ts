import mqtt, { type MqttClient } from 'mqtt';
import { ReplaySubject, Subject, filter, firstValueFrom, merge, take, toArray, type Subscription } from 'rxjs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mqttSource, type MqttSourceOptions, type MqttStatus, type SensorEvent } from '../../src/adapters/mqttSource.js';
import { compileTopic } from '../../src/adapters/internal/mqttTopic.js';
import type { SeqstreamError } from '../../src/errors.js';
import { startMosquitto, type MosquittoBroker, startResettingBroker } from '../support/mosquitto.js';

let broker: MosquittoBroker;
const subs: Subscription[] = [];
const publishers: MqttClient[] = [];
beforeAll(async () => {
  broker = await startMosquitto();
});
afterAll(async () => {
  await broker?.dispose();
});
afterEach(async () => {
  for (const s of subs.splice(0)) s.unsubscribe();
  await Promise.all(publishers.splice(0).map((p) => p.endAsync(true)));
});

/** Subscribes a source; resolves once its subscription is active (first 'connected' status). */
async function source(options: Partial<MqttSourceOptions> & { topics: MqttSourceOptions['topics'] }) {
  const events = new ReplaySubject<SensorEvent>();
  const errors = new ReplaySubject<SeqstreamError>();
  const statuses = new ReplaySubject<MqttStatus>();
  const failed = new Subject<unknown>();
  subs.push(
    mqttSource({ url: broker.url, reconnectPeriodMs: 100, ...options, onError: (e) => errors.next(e), onStatus: (s) => statuses.next(s) }).subscribe({
      next: (e) => events.next(e),
      error: (e) => failed.next(e),
    }),
  );
  await firstValueFrom(statuses.pipe(filter((s) => s.state === 'connected')));
  return { events, errors, statuses, failed };
}
async function publisher(): Promise<MqttClient> {
  const p = await mqtt.connectAsync(broker.url, { reconnectPeriod: 100 });
  publishers.push(p);
  return p;
}

describe('compileTopic', () => {
  it('matches + and # and captures them', () => {
    expect(compileTopic('sensors/+/temp').match('sensors/kitchen/temp')).toEqual(['kitchen']);
    expect(compileTopic('sensors/+/temp').match('sensors/kitchen/hum')).toBeNull();
    expect(compileTopic('sensors/#').match('sensors/a/b/c')).toEqual(['a/b/c']);
    expect(compileTopic('plain/topic').match('plain/topic')).toEqual([]);
    expect(compileTopic('+/x').match('$SYS/x')).toBeNull();
    for (const bad of ['a/#/b', 'a+/b', '']) expect(() => compileTopic(bad)).toThrow(expect.objectContaining({ code: 'SEQ_INVALID_OPTION' }));
  });
});

describe('mqttSource (real mosquitto on loopback)', () => {
  it('maps topics to keys and parses number, JSON and array payloads', async () => {
    const { events } = await source({ topics: ['sensors/+/temp', 'plain'], qos: 1 });
    const got = firstValueFrom(events.pipe(take(4), toArray()));
    const p = await publisher();
    await p.publishAsync('sensors/kitchen/temp', '21.5', { qos: 1 });
    await p.publishAsync('sensors/garage/temp', '{"value": 4}', { qos: 1 });
    await p.publishAsync('sensors/garage/temp', '[1, 2, 3]', { qos: 1 });
    await p.publishAsync('plain', '-1e3', { qos: 1 });
    const all = await got;
    expect(all.map((e) => [e.key, e.x, e.source, e.line, e.byteOffset])).toEqual([
      ['kitchen', [21.5], 'mqtt:sensors/kitchen/temp', 1, -1],
      ['garage', [4], 'mqtt:sensors/garage/temp', 2, -1],
      ['garage', [1, 2, 3], 'mqtt:sensors/garage/temp', 3, -1],
      ['plain', [-1000], 'mqtt:plain', 4, -1],
    ]);
    expect(all[0].timestamp).toBeGreaterThan(Date.UTC(2020, 0, 1));
  });

  it('maps JSON fields (key from the payload, event timestamps, vectors) and CSV payloads with columns', async () => {
    const json = await source({ topics: 'json/#', key: 'id', timestamp: 't', value: ['a', 'b'] });
    const csv = await source({ topics: 'csv/+', payload: 'csv', columns: ['t', 'v'], timestamp: 't', value: 'v' });
    const p = await publisher();
    await p.publishAsync('json/x', JSON.stringify({ id: 's9', t: 5, a: 1, b: 2 }));
    await p.publishAsync('csv/dev1', '7,3.5');
    expect(await firstValueFrom(json.events)).toMatchObject({ key: 's9', timestamp: 5, x: [1, 2] });
    expect(await firstValueFrom(csv.events)).toMatchObject({ key: 'dev1', timestamp: 7, x: [3.5] });
  });

  it('bad payloads are reported with stable codes and dropped; other topics keep flowing', async () => {
    const { events, errors } = await source({ topics: 'dirty/+', maxPayloadBytes: 100 });
    const p = await publisher();
    const bad = ['{"value":', 'hello', '{"value":"x"}', 'x'.repeat(200), 'true', '{"nothing":1}'];
    for (let i = 0; i < 20; i++) {
      await p.publishAsync('dirty/good', String(i));
      if (i < bad.length) await p.publishAsync('dirty/bad', bad[i]);
    }
    const good = await firstValueFrom(events.pipe(filter((e) => e.key === 'good'), take(20), toArray()));
    expect(good.map((e) => e.x[0])).toEqual(Array.from({ length: 20 }, (_, i) => i));
    const codes = await firstValueFrom(errors.pipe(take(6), toArray()));
    expect(codes.map((e) => e.code)).toEqual([
      'SEQ_SENSOR_JSON',
      'SEQ_SENSOR_JSON',
      'SEQ_SENSOR_NOT_NUMERIC',
      'SEQ_MQTT_PAYLOAD_TOO_LARGE',
      'SEQ_SENSOR_NOT_OBJECT',
      'SEQ_SENSOR_MISSING_VALUE',
    ]);
    expect(codes[0].details).toMatchObject({ source: 'mqtt:dirty/bad', topic: 'dirty/bad' });
  });

  it('rejects topic keys that are empty or path-like, and values that overflow to Infinity, with codes', async () => {
    const { events, errors } = await source({ topics: ['keys/+/temp', 'deep/#'], qos: 1 });
    const p = await publisher();
    for (const [topic, payload] of [
      ['keys//temp', '1'],
      ['keys/../temp', '2'],
      ['deep/a//b', '3'],
      ['deep/./b', '4'],
      ['keys/ok/temp', '1e999'],
      ['keys/ok/temp', '[1, "-1e999"]'],
      ['keys/ok/temp', '5'],
    ]) await p.publishAsync(topic, payload, { qos: 1 });
    const ok = await firstValueFrom(events);
    expect([ok.key, ok.x]).toEqual(['ok', [5]]);
    const got = await firstValueFrom(errors.pipe(take(6), toArray()));
    expect(got.map((e) => [e.code, e.details.topic])).toEqual([
      ['SEQ_SENSOR_MISSING_KEY', 'keys//temp'],
      ['SEQ_SENSOR_BAD_KEY', 'keys/../temp'],
      ['SEQ_SENSOR_BAD_KEY', 'deep/a//b'],
      ['SEQ_SENSOR_BAD_KEY', 'deep/./b'],
      ['SEQ_SENSOR_NOT_FINITE', undefined],
      ['SEQ_SENSOR_NOT_FINITE', undefined],
    ]);
    expect(got[4].details.source).toBe('mqtt:keys/ok/temp');
  });

  it('reports SEQ_MQTT_OFFLINE when the broker goes away and recovers when it comes back on the same port', async () => {
    const { events, errors, statuses } = await source({ topics: 'live/+' });
    const p = await publisher();
    await p.publishAsync('live/a', '1');
    await firstValueFrom(events.pipe(filter((e) => e.x[0] === 1)));

    await broker.stop();
    expect((await firstValueFrom(errors)).code).toBe('SEQ_MQTT_OFFLINE');
    await firstValueFrom(statuses.pipe(filter((s) => s.state === 'reconnecting')));
    await broker.start();
    await firstValueFrom(statuses.pipe(filter((s) => s.state === 'connected' && s.reconnected)));

    // The publisher reconnects too; publish until the resubscribed source sees a message.
    await new Promise<void>((resolve) => (p.connected ? resolve() : p.once('connect', () => resolve())));
    await p.publishAsync('live/a', '2', { qos: 1 });
    expect(await firstValueFrom(events.pipe(filter((e) => e.x[0] === 2)))).toMatchObject({ key: 'a', x: [2] });
    // One report per outage, not one per attempt.
    const offline = await firstValueFrom(errors.pipe(take(1), toArray()));
    expect(offline.map((e) => e.code)).toEqual(['SEQ_MQTT_OFFLINE']);
  });

  it('a connection reset mid-session is reported as SEQ_MQTT_OFFLINE, not as SEQ_MQTT_CONNECTION', async () => {
    const url = await startResettingBroker();
    let sub: Subscription | undefined;
    const first = await new Promise<SeqstreamError>((resolve) => (sub = mqttSource({ url, topics: 't', reconnectPeriodMs: 20, onError: (e) => resolve(e) }).subscribe()));
    sub?.unsubscribe();
    expect(first.code).toBe('SEQ_MQTT_OFFLINE');
  });

  it('a broker that never answers: SEQ_MQTT_CONNECTION, then SEQ_MQTT_GAVE_UP after maxReconnectAttempts', async () => {
    const errors: string[] = [];
    const failed = await new Promise<SeqstreamError>((resolve) => {
      subs.push(
        mqttSource({ url: 'mqtt://127.0.0.1:1', topics: 'x', reconnectPeriodMs: 20, maxReconnectAttempts: 2, onError: (e) => errors.push(e.code) }).subscribe({ error: resolve }),
      );
    });
    expect(failed.code).toBe('SEQ_MQTT_GAVE_UP');
    expect(errors).toEqual(['SEQ_MQTT_CONNECTION']);
  });

  it('at maxKeys the least recently used key is forgotten (its held events emitted first), not new keys rejected', async () => {
    const { events, errors } = await source({ topics: 'evict/+', maxKeys: 2, timestamp: 'timestamp', order: { reorderWindow: 10 } });
    const p = await publisher();
    const send = (key: string, t: number) => p.publishAsync(`evict/${key}`, JSON.stringify({ timestamp: t, value: t }), { qos: 1 });
    await send('a', 1);
    await send('a', 5); // a holds 1 and 5 (window 10)
    await send('b', 1); // b holds 1; a is now the least recently used key
    await send('c', 1); // third key: a is evicted, its held events come out in order
    await send('a', 2); // a is new again and evicts b
    const outcome = await firstValueFrom(merge(events.pipe(take(3), toArray()), errors));
    expect(Array.isArray(outcome) ? outcome.map((e) => [e.key, e.timestamp]) : outcome).toEqual([
      ['a', 1],
      ['a', 5],
      ['b', 1],
    ]);
  });

  it("invalidInput 'error' ends the stream on the first bad payload", async () => {
    const { failed } = await source({ topics: 'strict', invalidInput: 'error' });
    const p = await publisher();
    const f = firstValueFrom(failed);
    await p.publishAsync('strict', 'garbage');
    expect(await f).toMatchObject({ code: 'SEQ_SENSOR_JSON' });
  });

  it('rejects bad options synchronously with SEQ_INVALID_OPTION', () => {
    const bad: Partial<MqttSourceOptions>[] = [
      { url: 'http://x', topics: 'a' },
      { url: broker.url, topics: [] },
      { url: broker.url, topics: 'a/#/b' },
      { url: broker.url, topics: 'a', qos: 3 as 0 },
      { url: broker.url, topics: 'a', payload: 'xml' as 'csv' },
      { url: broker.url, topics: 'a', maxReconnectAttempts: -1 },
      { url: broker.url, topics: 'a', missing: 'nope' as 'skip' },
      { url: broker.url, topics: 'a', cleanSession: false },
      { url: broker.url, topics: 'a', clientId: '' },
    ];
    for (const o of bad) expect(() => mqttSource(o as MqttSourceOptions)).toThrow(expect.objectContaining({ code: 'SEQ_INVALID_OPTION' }));
  });
});
