/** A payload of the cluster's wire format, decoded. */
export interface ClusterEvent {
  key: string;
  x: unknown;
  reset: boolean;
  /** The payload's `timestamp`, unchecked (the anomaly detector checks it); undefined without one. */
  timestamp?: unknown;
}

/** Why a payload was rejected: a stable code and a reason. */
export interface ClusterEventError {
  code: 'SEQ_CLUSTER_MALFORMED';
  message: string;
}

const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Decodes one event of the cluster's wire format: JSON `{"key": "...", "x": [...], "reset"?: true, "timestamp"?: ms}`,
 * or `{"x": [...]}` / a bare `[...]` when the subject carries the key (MQTT sensors). Number keys
 * become strings. The vector itself is checked later by `recurrentByKey` (shape, finiteness).
 *
 * @example
 * ```ts
 * parseClusterEvent(new TextEncoder().encode('{"key":"a","x":[1,2]}')); // { key: 'a', x: [1, 2], reset: false }
 * ```
 */
export function parseClusterEvent(data: Uint8Array, subjectKey?: string): ClusterEvent | ClusterEventError {
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(data));
  } catch (e) {
    return { code: 'SEQ_CLUSTER_MALFORMED', message: `payload is not UTF-8 JSON (${(e as Error).message})` };
  }
  if (Array.isArray(value)) value = { x: value };
  if (value === null || typeof value !== 'object') return { code: 'SEQ_CLUSTER_MALFORMED', message: `payload must be a JSON object, received ${value === null ? 'null' : typeof value}` };
  const ev = value as { key?: unknown; x?: unknown; reset?: unknown; timestamp?: unknown };
  let key: string;
  if (typeof ev.key === 'string' && ev.key !== '') key = ev.key;
  else if (typeof ev.key === 'number' && Number.isFinite(ev.key)) key = String(ev.key);
  else if (ev.key === undefined && subjectKey) key = subjectKey;
  else return { code: 'SEQ_CLUSTER_MALFORMED', message: `'key' must be a non-empty string or a number, received ${JSON.stringify(ev.key) ?? 'nothing'}` };
  if (ev.reset !== undefined && typeof ev.reset !== 'boolean') return { code: 'SEQ_CLUSTER_MALFORMED', message: "'reset' must be a boolean" };
  return ev.timestamp === undefined ? { key, x: ev.x, reset: ev.reset === true } : { key, x: ev.x, reset: ev.reset === true, timestamp: ev.timestamp };
}
