import type { IClientOptions, MqttClient } from 'mqtt';
import { parse as parseCsvSync } from 'csv-parse/sync';
import { Observable } from 'rxjs';
import { describe, InvalidInputError, InvalidOptionError, SeqstreamError } from '../errors.js';
import { EventAssembler } from './internal/eventAssembler.js';
import { compileTopic } from './internal/mqttTopic.js';
import { requireOptional } from './internal/requireOptional.js';
import { resolveMapping, type SensorEvent, type SensorMappingOptions } from './internal/sensorOptions.js';
import { watchMqttConnection, type MqttStatus } from './internal/mqttConnection.js';
import { integerOption, booleanOption } from '../options.js';

export type { MqttStatus } from './internal/mqttConnection.js';
export type { MissingPolicy, OrderPolicy, SensorEvent, SensorMappingOptions } from './internal/sensorOptions.js';

/** Options of {@link mqttSource}. */
export interface MqttSourceOptions extends SensorMappingOptions {
  /** Broker URL, e.g. `mqtt://127.0.0.1:1883` (also `mqtts://`, `ws://`, `wss://`). Required. */
  url: string;
  /** Topic filter(s) to subscribe to; `+` and `#` wildcards allowed. Required. */
  topics: string | string[];
  /** Subscription QoS. Default 0. Use 1 (with a persistent session) for monitoring. */
  qos?: 0 | 1 | 2;
  /**
   * MQTT client id. A persistent session (`cleanSession: false`) is found by it, so it must be
   * stable across restarts and unique per consumer. Default: `clientOptions.clientId`, else a
   * random id from `mqtt`.
   */
  clientId?: string;
  /**
   * `true`: a clean session; the broker forgets the subscription when the connection drops and
   * everything published meanwhile is lost. `false`: a persistent session, the documented way
   * for monitoring: the broker keeps the subscription and queues QoS 1/2 messages (not QoS 0)
   * while this client is away (source restarts, network or broker outages; across a broker
   * restart only if the broker persists sessions, mosquitto's `persistence true`), and delivers
   * them on reconnect. Needs `clientId`. The broker bounds the queue: mosquitto keeps at most
   * `max_queued_messages` (1000 by default) per client and silently drops the rest. Default
   * `clientOptions.clean`, else true.
   */
  cleanSession?: boolean;
  /**
   * Payload format: `'number'` (`21.5`), `'json'` (an object mapped with `key`/`timestamp`/`value`,
   * a number, or an array of numbers as the vector), `'csv'` (one line: with `columns` mapped like
   * an object, else all fields are the vector) or `'auto'` (a number, else JSON). Default `'auto'`.
   */
  payload?: 'auto' | 'json' | 'number' | 'csv';
  /** Column names of CSV payloads. Default none (the fields are the vector). */
  columns?: string[];
  /** CSV payload delimiter. Default `','`. */
  delimiter?: string;
  /**
   * Key of a message when no `key` field is configured, from its topic and the matching filter's
   * wildcard captures. Default: the captures joined by `/` (`sensors/+/temp` and
   * `sensors/kitchen/temp` give `kitchen`), or the whole topic for a filter without wildcards.
   */
  topicKey?: (topic: string, captures: string[]) => string;
  /** Largest payload in bytes; a larger one is dropped with `SEQ_MQTT_PAYLOAD_TOO_LARGE`. Default 65536. */
  maxPayloadBytes?: number;
  /** Wait between reconnect attempts, ms. Default 1000. */
  reconnectPeriodMs?: number;
  /** Time allowed for one connection attempt, ms. Default 10000. */
  connectTimeoutMs?: number;
  /** Consecutive failed reconnect attempts before the stream errors with `SEQ_MQTT_GAVE_UP` (`Infinity`: never). Default 300 (5 min at the default period). */
  maxReconnectAttempts?: number;
  /** Further `mqtt` client options (username, password, TLS ...). Reconnect, session and subscription settings above take precedence. */
  clientOptions?: IClientOptions;
  /** Connection status changes. Default none. */
  onStatus?: (status: MqttStatus) => void;
  /**
   * Most keys held in per-key state (previous values, order). Unlike the line sources, a new key
   * at the limit is not rejected: the least recently seen key's state is forgotten to make room
   * (its events held by `reorderWindow` are emitted first). A long-running subscription to `+`/`#`
   * sees devices come and go, and a hard limit would end up refusing every new device for good.
   * A forgotten key that comes back starts afresh: no previous value for `fill-previous`, no
   * memory of its newest timestamp for `order`. Default 10000.
   */
  maxKeys?: number;
}

const DECIMAL = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

/**
 * Why a key taken from a topic is unusable, or null: an empty key (`sensors//temp` on
 * `sensors/+/temp`), an empty level inside it, or a `.`/`..` level (a path-like key that would
 * alias another sensor's once used as a file or URL path).
 */
function topicKeyProblem(key: string): string | null {
  if (key === '') return 'is empty';
  for (const level of key.split('/')) {
    if (level === '') return 'has an empty topic level';
    if (level === '.' || level === '..') return `has a '${level}' level`;
  }
  return null;
}

/**
 * Sensor readings from MQTT topics (the `mqtt` package), reconnecting when the broker goes away.
 *
 * Needs the optional peer `mqtt` (`npm install mqtt`); without it creation throws
 * `SEQ_DEPENDENCY_MISSING`.
 *
 * 1. On subscribe, connect to `url` and subscribe to `topics` with `qos` (again after every
 *    reconnect, in case the broker lost the session). A refused subscription errors with `SEQ_MQTT_SUBSCRIBE`,
 *    a refused connection (bad credentials, not authorised) with `SEQ_MQTT_REFUSED`.
 * 2. Each message is matched to its filter; its key is the `key` payload field when configured,
 *    else `topicKey(topic, captures)`. A topic key that is empty (`sensors//temp` on
 *    `sensors/+/temp`: `SEQ_SENSOR_MISSING_KEY`), has an empty level or a `.`/`..` level
 *    (`SEQ_SENSOR_BAD_KEY`) is bad input: reported and dropped.
 * 3. The payload is parsed (`payload`) and mapped like the line sources (`timestamp` defaults to
 *    `null`: arrival time); `missing` and `order` apply per key. `event.source` is
 *    `mqtt:<topic>`, `event.line` the message number, `event.byteOffset` -1. Per-key state is
 *    bounded by `maxKeys`; at the limit the least recently seen key is forgotten (see `maxKeys`).
 * 4. Bad payloads (`SEQ_SENSOR_JSON`, `SEQ_SENSOR_NOT_NUMERIC`, `SEQ_MQTT_PAYLOAD_TOO_LARGE`, ...)
 *    default to `invalidInput: 'skip'`: reported to `onError`, dropped, other topics and keys go on.
 * 5. When the broker goes away, `onError` gets `SEQ_MQTT_OFFLINE` once per outage (or
 *    `SEQ_MQTT_CONNECTION` if the first connection fails) and `onStatus` follows the attempts;
 *    the client reconnects every `reconnectPeriodMs` and resubscribes. With a clean session
 *    (the default) messages published while disconnected are lost; with `cleanSession: false`,
 *    a stable `clientId` and `qos: 1`, the broker queues them and they arrive after the
 *    reconnect, in order. After `maxReconnectAttempts` consecutive
 *    failures the stream errors with `SEQ_MQTT_GAVE_UP`.
 * 6. The Observable never completes by itself; unsubscribing closes the connection.
 *
 * @example
 * ```ts
 * import { mqttSource } from 'seqstream/adapters/mqttSource';
 * // Monitoring: a persistent session, so nothing published while this process restarts is lost.
 * mqttSource({ url: 'mqtt://127.0.0.1:1883', topics: 'sensors/+/temp', qos: 1, clientId: 'plant-monitor-1', cleanSession: false })
 *   .subscribe((e) => console.log(e.key, e.x)); // 'kitchen' [21.5] for `21.5` on sensors/kitchen/temp
 * ```
 */
export function mqttSource(options: MqttSourceOptions): Observable<SensorEvent> {
  if (typeof options !== 'object' || options === null) throw new InvalidOptionError('options', 'an object with url and topics', options);
  const mapping = resolveMapping(options, { timestamp: null, invalidInput: 'skip' });
  if (typeof options.url !== 'string' || !/^(mqtts?|wss?|tcp|ssl):\/\//.test(options.url)) throw new InvalidOptionError('url', 'an mqtt://, mqtts://, ws:// or wss:// URL', options.url);
  const topicList = Array.isArray(options.topics) ? options.topics : [options.topics];
  if (topicList.length === 0) throw new InvalidOptionError('topics', 'a topic filter or a non-empty array of them', options.topics);
  const patterns = topicList.map((t, i) => compileTopic(t, Array.isArray(options.topics) ? `topics[${i}]` : 'topics'));
  const qos = options.qos ?? 0;
  if (qos !== 0 && qos !== 1 && qos !== 2) throw new InvalidOptionError('qos', '0, 1 or 2', qos);
  const payload = options.payload ?? 'auto';
  if (!['auto', 'json', 'number', 'csv'].includes(payload)) throw new InvalidOptionError('payload', "'auto' | 'json' | 'number' | 'csv'", payload);
  const delimiter = options.delimiter ?? ',';
  if (typeof delimiter !== 'string' || delimiter.length !== 1 || delimiter === '"') throw new InvalidOptionError('delimiter', 'one character other than a quote', delimiter);
  const columns = options.columns;
  if (columns !== undefined && (!Array.isArray(columns) || columns.length === 0 || !columns.every((c) => typeof c === 'string' && c))) {
    throw new InvalidOptionError('columns', 'a non-empty array of column names', columns);
  }
  const topicKey = options.topicKey ?? ((topic: string, captures: string[]) => (captures.length > 0 ? captures.join('/') : topic));
  if (typeof topicKey !== 'function') throw new InvalidOptionError('topicKey', 'a function', topicKey);
  const maxPayloadBytes = integerOption('maxPayloadBytes', options.maxPayloadBytes, 65_536, 1);
  const reconnectPeriodMs = integerOption('reconnectPeriodMs', options.reconnectPeriodMs, 1000, 1);
  const connectTimeoutMs = integerOption('connectTimeoutMs', options.connectTimeoutMs, 10_000, 1);
  const maxReconnectAttempts = options.maxReconnectAttempts ?? 300;
  if (maxReconnectAttempts !== Infinity && (!Number.isInteger(maxReconnectAttempts) || maxReconnectAttempts < 0)) {
    throw new InvalidOptionError('maxReconnectAttempts', 'an integer >= 0 or Infinity', maxReconnectAttempts);
  }
  const clientId = options.clientId ?? options.clientOptions?.clientId;
  if (clientId !== undefined && (typeof clientId !== 'string' || clientId.length === 0)) throw new InvalidOptionError('clientId', 'a non-empty string', clientId);
  const clean = booleanOption('cleanSession', options.cleanSession ?? options.clientOptions?.clean, true);
  if (!clean && clientId === undefined) {
    throw new InvalidOptionError('clientId', 'a stable client id when cleanSession is false (the broker finds the session by it)', clientId);
  }
  const valueField = mapping.value[0];
  const mqtt = requireOptional<typeof import('mqtt')>('mqtt', 'mqttSource');

  return new Observable<SensorEvent>((subscriber) => {
    const assembler = new EventAssembler(mapping, (e) => subscriber.next(e), (err) => subscriber.error(err), { keyLimit: 'evict' });
    const status = (s: MqttStatus) => {
      try {
        options.onStatus?.(s);
      } catch (thrown) {
        assembler.abort(thrown);
      }
    };
    let messageNumber = 0;

    const client: MqttClient = mqtt.connect(options.url, {
      ...options.clientOptions,
      reconnectPeriod: reconnectPeriodMs,
      connectTimeout: connectTimeoutMs,
      ...(clientId !== undefined ? { clientId } : {}),
      clean,
      resubscribe: false,
    });

    watchMqttConnection(client, {
      url: options.url,
      report: (e) => assembler.report(e),
      fail: (e) => assembler.abort(e),
      status,
      whileOffline: `reconnecting every ${reconnectPeriodMs} ms`,
      whileUnreachable: `retrying every ${reconnectPeriodMs} ms`,
      maxReconnectAttempts,
      // Subscribe (again: sessions are clean) before reporting 'connected'.
      onConnect: (ready) =>
        client.subscribe(
          topicList.map((t) => ({ [t]: { qos } })).reduce((a, b) => Object.assign(a, b), {}),
          (err, granted) => {
            if (assembler.isClosed) return;
            const refused = granted?.filter((g) => g.qos === 128) ?? [];
            if (err || refused.length > 0) {
              assembler.abort(new SeqstreamError('SEQ_MQTT_SUBSCRIBE', `Subscribing to ${refused.map((g) => g.topic).join(', ') || topicList.join(', ')} failed${err ? `: ${err.message}` : ': refused by the broker'}`, { topics: topicList }));
              return;
            }
            ready();
          },
        ),
    });
    client.on('message', (topic: string, message: Buffer) => {
      if (assembler.isClosed) return;
      messageNumber += 1;
      const source = `mqtt:${topic}`;
      const where = { source, line: messageNumber, byteOffset: -1, topic };
      let captures: string[] | null = null;
      for (const p of patterns) if ((captures = p.match(topic))) break;
      // No filter matches only for shared or broker-rewritten topics: the whole topic is the key then.
      let defaultKey: string;
      try {
        defaultKey = String(topicKey(topic, captures ?? []));
      } catch (thrown) {
        return assembler.abort(thrown);
      }
      if (mapping.key === undefined) {
        const bad = topicKeyProblem(defaultKey);
        if (bad) {
          const code = defaultKey === '' ? 'SEQ_SENSOR_MISSING_KEY' : 'SEQ_SENSOR_BAD_KEY';
          return assembler.problem(new InvalidInputError(code, `Message ${messageNumber} on ${describe(topic)} gives the key ${describe(defaultKey)}, which ${bad}; dropped`, { ...where, key: defaultKey }));
        }
      }
      if (message.length > maxPayloadBytes) {
        return assembler.problem(new InvalidInputError('SEQ_MQTT_PAYLOAD_TOO_LARGE', `Message ${messageNumber} on ${topic} has ${message.length} bytes, over ${maxPayloadBytes} (option maxPayloadBytes); dropped`, { ...where, maxPayloadBytes, length: message.length }));
      }
      const text = message.toString('utf8').trim();
      const origin = { source, line: messageNumber, byteOffset: -1, defaultKey };
      const numberRecord = (): Record<string, unknown> => {
        const r: Record<string, unknown> = { [valueField]: text };
        if (mapping.timestamp !== null) r[mapping.timestamp] = Date.now();
        return r;
      };
      if (payload === 'number' || (payload === 'auto' && DECIMAL.test(text))) {
        if (!DECIMAL.test(text)) {
          return assembler.problem(new InvalidInputError('SEQ_SENSOR_NOT_NUMERIC', `Message ${messageNumber} on ${topic} must be a number, received ${describe(text)}`, where));
        }
        return assembler.accept(numberRecord(), origin);
      }
      if (payload === 'csv') {
        let fields: string[];
        try {
          fields = text.includes('"') ? ((parseCsvSync(text, { delimiter, trim: true, relax_column_count: true }) as string[][])[0] ?? []) : text.split(delimiter).map((f) => f.trim());
        } catch (e) {
          return assembler.problem(new InvalidInputError('SEQ_SENSOR_CSV_SYNTAX', `Message ${messageNumber} on ${topic} is not valid CSV: ${(e as Error).message}`, where));
        }
        if (columns) {
          if (fields.length !== columns.length) {
            return assembler.problem(new InvalidInputError('SEQ_SENSOR_CSV_COLUMNS', `Message ${messageNumber} on ${topic} has ${fields.length} fields, option columns has ${columns.length}`, { ...where, expected: columns.length, received: fields.length }));
          }
          const r: Record<string, unknown> = Object.create(null);
          columns.forEach((c, i) => (r[c] = fields[i]));
          return assembler.accept(r, origin);
        }
        const r: Record<string, unknown> = { [valueField]: fields };
        if (mapping.timestamp !== null) r[mapping.timestamp] = Date.now();
        return assembler.accept(r, origin);
      }
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (e) {
        return assembler.problem(new InvalidInputError('SEQ_SENSOR_JSON', `Message ${messageNumber} on ${topic} is not valid JSON: ${(e as Error).message}`, where));
      }
      if (typeof value === 'number' || Array.isArray(value)) {
        const r: Record<string, unknown> = { [valueField]: value };
        if (mapping.timestamp !== null) r[mapping.timestamp] = Date.now();
        return assembler.accept(r, origin);
      }
      if (typeof value !== 'object' || value === null) {
        return assembler.problem(new InvalidInputError('SEQ_SENSOR_NOT_OBJECT', `Message ${messageNumber} on ${topic} must be a JSON object, number or array, received ${describe(value)}`, where));
      }
      assembler.accept(value as Record<string, unknown>, origin);
    });

    return () => {
      assembler.close();
      client.removeAllListeners();
      // An error after teardown must not crash the process as an unhandled 'error' event.
      client.on('error', () => {});
      client.end(true);
    };
  });
}
