import type { MqttClient } from 'mqtt';
import { SeqstreamError } from '../../errors.js';

/** Connection status reported to `onStatus`. */
export interface MqttStatus {
  /** `'connected'` (also after a reconnect), `'offline'` (the broker went away), `'reconnecting'` (an attempt starts). */
  state: 'connected' | 'offline' | 'reconnecting';
  /** Consecutive reconnect attempts so far (`'reconnecting'`), 0 otherwise. */
  attempt: number;
  /** True for a `'connected'` that ends an outage. */
  reconnected: boolean;
}

/** What {@link watchMqttConnection} tells its adapter, and how the adapter differs. */
export interface MqttConnectionHooks {
  /** Broker URL, for messages. */
  url: string;
  /** Non-fatal problem: `SEQ_MQTT_OFFLINE` (once per outage) or `SEQ_MQTT_CONNECTION` (cannot connect). */
  report(error: SeqstreamError): void;
  /** Fatal problem: `SEQ_MQTT_REFUSED`, `SEQ_MQTT_GAVE_UP`. */
  fail(error: SeqstreamError): void;
  /** Status changes for `onStatus`. */
  status(status: MqttStatus): void;
  /** What happens meanwhile, appended to the `SEQ_MQTT_OFFLINE` message (e.g. "publishes are queued"). */
  whileOffline: string;
  /** Appended to the `SEQ_MQTT_CONNECTION` message. Default none. */
  whileUnreachable?: string;
  /** Consecutive failed reconnect attempts before `SEQ_MQTT_GAVE_UP`. Default `Infinity`. */
  maxReconnectAttempts?: number;
  /** Runs on every (re)connect; `'connected'` is reported once it calls `ready()` (a source subscribes first). Default: ready at once. */
  onConnect?: (ready: () => void) => void;
}

/**
 * The connection state machine `mqttSource` and `mqttSink` share: `'connected'` (with
 * `reconnected` after an outage), `'offline'`, `'reconnecting'` with its attempt count; one
 * `SEQ_MQTT_OFFLINE` per outage; `SEQ_MQTT_CONNECTION` only for failing to connect (a socket
 * error while online is the session dropping, and the `close` after it reports the outage);
 * a broker's refusal (numeric reason code) is fatal.
 */
export function watchMqttConnection(client: MqttClient, hooks: MqttConnectionHooks): void {
  const maxAttempts = hooks.maxReconnectAttempts ?? Infinity;
  let connectedOnce = false;
  let online = false;
  let outageReported = false;
  let attempts = 0;
  client.on('connect', () => {
    const reconnected = connectedOnce;
    connectedOnce = true;
    online = true;
    outageReported = false;
    attempts = 0;
    const ready = () => hooks.status({ state: 'connected', attempt: 0, reconnected });
    if (hooks.onConnect) hooks.onConnect(ready);
    else ready();
  });
  client.on('close', () => {
    if (!online) return;
    online = false;
    if (!outageReported) {
      outageReported = true;
      hooks.report(new SeqstreamError('SEQ_MQTT_OFFLINE', `Lost the connection to the MQTT broker at ${hooks.url}; ${hooks.whileOffline}`, { url: hooks.url }));
    }
    hooks.status({ state: 'offline', attempt: 0, reconnected: false });
  });
  client.on('reconnect', () => {
    attempts += 1;
    if (attempts > maxAttempts) {
      hooks.fail(new SeqstreamError('SEQ_MQTT_GAVE_UP', `Gave up reconnecting to the MQTT broker at ${hooks.url} after ${maxAttempts} attempts (option maxReconnectAttempts)`, { url: hooks.url, attempts: maxAttempts }));
      return;
    }
    hooks.status({ state: 'reconnecting', attempt: attempts, reconnected: false });
  });
  client.on('error', (err: Error & { code?: string | number }) => {
    if (typeof err.code === 'number') {
      hooks.fail(new SeqstreamError('SEQ_MQTT_REFUSED', `The MQTT broker at ${hooks.url} refused the connection: ${err.message}`, { url: hooks.url, reasonCode: err.code }));
      return;
    }
    // While online, a socket error (ECONNRESET, EPIPE) is the session dropping: the 'close'
    // that follows reports SEQ_MQTT_OFFLINE. SEQ_MQTT_CONNECTION is for failing to connect.
    if (!online && !outageReported) {
      outageReported = true;
      const tail = hooks.whileUnreachable ? `; ${hooks.whileUnreachable}` : '';
      hooks.report(new SeqstreamError('SEQ_MQTT_CONNECTION', `Cannot reach the MQTT broker at ${hooks.url}: ${err.message}${tail}`, { url: hooks.url, cause: err.code ?? err.message }));
    }
  });
}
