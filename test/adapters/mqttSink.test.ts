import mqtt, { type MqttClient } from 'mqtt';
import { NEVER, Subject, concat, from, lastValueFrom, of, toArray, type Subscription } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mqttSink, toJsonPayload, type MqttStatus } from '../../src/adapters/mqttSink.js';
import type { SeqstreamError } from '../../src/errors.js';
import { startMosquitto, type MosquittoBroker, startResettingBroker } from '../support/mosquitto.js';

let broker: MosquittoBroker;
beforeAll(async () => {
  broker = await startMosquitto();
});
afterAll(async () => {
  await broker?.dispose();
});

async function listen(topic: string): Promise<{ client: MqttClient; messages: { topic: string; text: string }[] }> {
  const client = await mqtt.connectAsync(broker.url);
  const messages: { topic: string; text: string }[] = [];
  client.on('message', (t, m) => messages.push({ topic: t, text: m.toString() }));
  await client.subscribeAsync(topic, { qos: 1 });
  return { client, messages };
}

describe('mqttSink (real mosquitto on loopback)', () => {
  it('publishes every value (typed arrays as JSON arrays) to its {key} topic, passes values on, completes after the last ack', async () => {
    const { client, messages } = await listen('out/#');
    const values = [
      { key: 'a', y: Float32Array.from([0.5, 1]) },
      { key: 'b', y: Float32Array.from([2]) },
      { key: 'a', y: Float32Array.from([3]) },
    ];
    const passed = await lastValueFrom(from(values).pipe(mqttSink({ url: broker.url, topic: 'out/{key}', qos: 1 }), toArray()));
    expect(passed).toEqual(values);
    const deadline = Date.now() + 5000;
    while (messages.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(messages).toEqual([
      { topic: 'out/a', text: '{"key":"a","y":[0.5,1]}' },
      { topic: 'out/b', text: '{"key":"b","y":[2]}' },
      { topic: 'out/a', text: '{"key":"a","y":[3]}' },
    ]);
    await client.endAsync();
  });

  it('bounds publishes queued while the broker is away (SEQ_MQTT_BACKLOG) and reports the outage', async () => {
    const input = new Subject<number>();
    const errors: SeqstreamError[] = [];
    const statuses: MqttStatus[] = [];
    let connected!: () => void;
    const isConnected = new Promise<void>((r) => (connected = r));
    const sub = input
      .pipe(
        mqttSink({
          url: broker.url, topic: 't', qos: 1, maxInFlight: 3, reconnectPeriodMs: 50, onError: (e) => errors.push(e),
          onStatus: (s) => {
            statuses.push(s);
            if (s.state === 'connected') connected();
          },
        }),
      )
      .subscribe();
    // Stop the broker only once the sink is connected, so the outage is always SEQ_MQTT_OFFLINE.
    await isConnected;
    await broker.stop();
    for (let i = 0; i < 5; i++) input.next(i);
    const deadline = Date.now() + 5000;
    while (!errors.some((e) => e.code === 'SEQ_MQTT_OFFLINE') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(errors.filter((e) => e.code === 'SEQ_MQTT_BACKLOG')).toHaveLength(2);
    expect(errors.filter((e) => e.code !== 'SEQ_MQTT_BACKLOG').map((e) => e.code)).toEqual(['SEQ_MQTT_OFFLINE']);
    expect(statuses[0]).toEqual({ state: 'connected', attempt: 0, reconnected: false });
    await broker.start();
    while (!statuses.some((s) => s.reconnected) && Date.now() < deadline + 5000) await new Promise((r) => setTimeout(r, 20));
    expect(statuses.map((s) => s.state)).toContain('offline');
    expect(statuses.at(-1)).toEqual({ state: 'connected', attempt: 0, reconnected: true });
    sub.unsubscribe();
  });

  it('a connection reset mid-session is reported as SEQ_MQTT_OFFLINE, not as SEQ_MQTT_CONNECTION', async () => {
    const url = await startResettingBroker();
    let sub: Subscription | undefined;
    const first = await new Promise<SeqstreamError>((resolve) => (sub = concat(of(1), NEVER).pipe(mqttSink({ url, topic: 't', reconnectPeriodMs: 20, onError: (e) => resolve(e) })).subscribe()));
    sub?.unsubscribe();
    expect(first.code).toBe('SEQ_MQTT_OFFLINE');
  });

  it('a throwing serialize or topic function ends the stream with that error', async () => {
    const boom = new Error('boom');
    await expect(lastValueFrom(from([1]).pipe(mqttSink({ url: broker.url, topic: () => { throw boom; } })))).rejects.toBe(boom);
    await expect(lastValueFrom(from([1]).pipe(mqttSink({ url: broker.url, topic: 'x', serialize: () => { throw boom; } })))).rejects.toBe(boom);
  });

  it('empty source completes; never-ending source can be unsubscribed', async () => {
    expect(await lastValueFrom(from([] as number[]).pipe(mqttSink({ url: broker.url, topic: 'x' }), toArray()))).toEqual([]);
    NEVER.pipe(mqttSink({ url: broker.url, topic: 'x' })).subscribe().unsubscribe();
  });

  it('rejects bad options synchronously', () => {
    for (const o of [{ url: 'x', topic: 't' }, { url: broker.url, topic: 'a/#' }, { url: broker.url, topic: 't', qos: 5 }, { url: broker.url, topic: 't', maxInFlight: 0 }]) {
      expect(() => mqttSink(o as never)).toThrow(expect.objectContaining({ code: 'SEQ_INVALID_OPTION' }));
    }
    expect(toJsonPayload({ a: new Float64Array([1.5]) })).toBe('{"a":[1.5]}');
  });
});
