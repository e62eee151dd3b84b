import type { IClientOptions, MqttClient } from 'mqtt';
import { Observable, type MonoTypeOperatorFunction } from 'rxjs';
import { InvalidOptionError, SeqstreamError, type ErrorCallback } from '../errors.js';
import { watchMqttConnection } from './internal/mqttConnection.js';
import { requireOptional } from './internal/requireOptional.js';
import type { MqttStatus } from './internal/mqttConnection.js';
import { integerOption, functionOption } from '../options.js';

export type { MqttStatus } from './internal/mqttConnection.js';

/** Options of {@link mqttSink}. */
export interface MqttSinkOptions<T> {
  /** Broker URL, e.g. `mqtt://127.0.0.1:1883`. Required. */
  url: string;
  /**
   * Topic per value: a function, or a template where `{key}` is replaced by the value's `key`
   * field (e.g. `'anomaly/{key}'`). Required.
   */
  topic: string | ((value: T) => string);
  /** Publish QoS. Default 0. */
  qos?: 0 | 1 | 2;
  /** Publish as retained messages. Default false. */
  retain?: boolean;
  /** Payload of a value. Default: JSON, with typed arrays (`Float32Array` outputs) as plain arrays. */
  serialize?: (value: T) => string | Buffer;
  /**
   * Most publishes not yet written (QoS 0) or acknowledged (QoS 1/2), e.g. while the broker is
   * away; beyond it a value is not published and `onError` gets `SEQ_MQTT_BACKLOG`. Default 1000.
   */
  maxInFlight?: number;
  /** Wait between reconnect attempts, ms. Default 1000. */
  reconnectPeriodMs?: number;
  /** Further `mqtt` client options (username, password, clientId, TLS ...). */
  clientOptions?: IClientOptions;
  /** Non-fatal problems: `SEQ_MQTT_BACKLOG`, `SEQ_MQTT_OFFLINE`, `SEQ_MQTT_CONNECTION`. A throw ends the stream. Default none. */
  onError?: ErrorCallback<undefined>;
  /**
   * Connection status changes, as for `mqttSource`: `'connected'` (`reconnected` after an outage),
   * `'offline'`, `'reconnecting'` (with the attempt number). A throw ends the stream. Default none.
   */
  onStatus?: (status: MqttStatus) => void;
}

/** JSON with typed arrays written as arrays. */
export function toJsonPayload(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (ArrayBuffer.isView(v) && !(v instanceof DataView) ? Array.from(v as unknown as ArrayLike<number>) : v));
}

/**
 * Publishes every value to MQTT and passes it on unchanged (a tap), so outputs of a pipeline
 * reach dashboards or actuators.
 *
 * Needs the optional peer `mqtt` (`npm install mqtt`); without it creation throws
 * `SEQ_DEPENDENCY_MISSING`.
 *
 * 1. On subscribe, connect to `url` (reconnecting every `reconnectPeriodMs` while it is away);
 *    `onStatus` follows the connection.
 * 2. For each value: topic from `topic`, payload from `serialize`, publish with `qos`/`retain`;
 *    the value is passed downstream at once. Publishes made while offline are queued by the
 *    client up to `maxInFlight`; more are dropped and reported as `SEQ_MQTT_BACKLOG`.
 * 3. A failed publish, a throwing `topic`/`serialize` or a refused connection ends the stream
 *    with `SEQ_MQTT_PUBLISH` / the thrown error / `SEQ_MQTT_REFUSED`.
 * 4. When the source completes, pending publishes are awaited, then the connection closes and
 *    the stream completes. Unsubscribing closes the connection at once.
 *
 * @example
 * ```ts
 * import { mqttSink } from 'seqstream/adapters/mqttSink';
 * scores$.pipe(mqttSink({ url: 'mqtt://127.0.0.1:1883', topic: 'anomaly/{key}', qos: 1 })).subscribe();
 * ```
 */
export function mqttSink<T>(options: MqttSinkOptions<T>): MonoTypeOperatorFunction<T> {
  if (typeof options !== 'object' || options === null) throw new InvalidOptionError('options', 'an object with url and topic', options);
  if (typeof options.url !== 'string' || !/^(mqtts?|wss?|tcp|ssl):\/\//.test(options.url)) throw new InvalidOptionError('url', 'an mqtt://, mqtts://, ws:// or wss:// URL', options.url);
  const topicOption = options.topic;
  if (!(typeof topicOption === 'function' || (typeof topicOption === 'string' && topicOption.length > 0 && !/[+#]/.test(topicOption)))) {
    throw new InvalidOptionError('topic', 'a topic (no wildcards; {key} allowed) or a function', topicOption);
  }
  const qos = options.qos ?? 0;
  if (qos !== 0 && qos !== 1 && qos !== 2) throw new InvalidOptionError('qos', '0, 1 or 2', qos);
  const retain = options.retain ?? false;
  const serialize = options.serialize ?? toJsonPayload;
  if (typeof serialize !== 'function') throw new InvalidOptionError('serialize', 'a function', serialize);
  const maxInFlight = integerOption('maxInFlight', options.maxInFlight, 1000, 1);
  const reconnectPeriodMs = integerOption('reconnectPeriodMs', options.reconnectPeriodMs, 1000, 1);
  functionOption('onStatus', options.onStatus);
  const mqtt = requireOptional<typeof import('mqtt')>('mqtt', 'mqttSink');
  const topicOf =
    typeof topicOption === 'function'
      ? topicOption
      : (value: T) => topicOption.replace(/\{key\}/g, () => String((value as { key?: unknown })?.key ?? ''));

  return (source) =>
    new Observable<T>((subscriber) => {
      let closed = false;
      let inFlight = 0;
      let sourceDone = false;
      const client: MqttClient = mqtt.connect(options.url, { ...options.clientOptions, reconnectPeriod: reconnectPeriodMs });
      const fail = (err: unknown) => {
        if (closed) return;
        closed = true;
        subscriber.error(err);
      };
      const report = (err: SeqstreamError) => {
        if (closed) return;
        try {
          options.onError?.(err, undefined);
        } catch (thrown) {
          fail(thrown);
        }
      };
      const maybeComplete = () => {
        if (sourceDone && inFlight === 0 && !closed) {
          closed = true;
          client.end(false, {}, () => subscriber.complete());
        }
      };
      const status = (s: MqttStatus) => {
        if (closed) return;
        try {
          options.onStatus?.(s);
        } catch (thrown) {
          fail(thrown);
        }
      };
      watchMqttConnection(client, {
        url: options.url,
        report,
        fail,
        status,
        whileOffline: `publishes are queued (up to maxInFlight ${maxInFlight})`,
      });

      const subscription = source.subscribe({
        next: (value) => {
          if (closed) return;
          let topic: string;
          let payload: string | Buffer;
          try {
            topic = topicOf(value);
            payload = serialize(value);
          } catch (thrown) {
            return fail(thrown);
          }
          if (inFlight >= maxInFlight) {
            report(new SeqstreamError('SEQ_MQTT_BACKLOG', `${inFlight} publishes pending (option maxInFlight); value for ${topic} not published`, { topic, maxInFlight }));
          } else {
            inFlight += 1;
            client.publish(topic, payload, { qos, retain }, (err) => {
              inFlight -= 1;
              if (err) return fail(new SeqstreamError('SEQ_MQTT_PUBLISH', `Publishing to ${topic} failed: ${err.message}`, { topic }));
              maybeComplete();
            });
          }
          subscriber.next(value);
        },
        error: (e) => fail(e),
        complete: () => {
          sourceDone = true;
          maybeComplete();
        },
      });
      return () => {
        closed = true;
        subscription.unsubscribe();
        client.removeAllListeners();
        client.on('error', () => {});
        client.end(true);
      };
    });
}
