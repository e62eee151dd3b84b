import { InvalidOptionError } from '../../errors.js';

/**
 * The JetStream names of one cluster topology called `stream` (letters, digits, `-`, `_`):
 *
 * | what | name | subjects |
 * |---|---|---|
 * | partition p's events | stream `<stream>-p<p>` | `<stream>.in.<p>`, `<stream>.in.<p>.<key>` |
 * | keyed subjects the server maps to partitions (MQTT) | - | `<stream>.key.<key>` |
 * | outputs | stream `<stream>-out` | `<stream>.out.<p>` |
 * | dead letters | stream `<stream>-dead` | `<stream>.dead.<p>` |
 * | config, leases, members | KV `<stream>-group` | |
 * | checkpoint pointers | KV `<stream>-ckpt` | |
 * | checkpoint bodies | object store `<stream>-state` | |
 *
 * @example
 * ```ts
 * const n = jetStreamNames('sensors');
 * n.partitionStream(3); // 'sensors-p3'
 * ```
 */
export function jetStreamNames(stream: string) {
  if (typeof stream !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(stream)) throw new InvalidOptionError('stream', 'a name of 1-64 letters, digits, - or _', stream);
  return {
    stream,
    partitionStream: (p: number) => `${stream}-p${p}`,
    partitionSubject: (p: number) => `${stream}.in.${p}`,
    keySubject: (key: string) => `${stream}.key.${key}`,
    outputStream: `${stream}-out`,
    outputSubject: (p: number) => `${stream}.out.${p}`,
    deadStream: `${stream}-dead`,
    deadSubject: (p: number) => `${stream}.dead.${p}`,
    groupBucket: `${stream}-group`,
    checkpointBucket: `${stream}-ckpt`,
    stateStore: `${stream}-state`,
  };
}

/** The value {@link jetStreamNames} returns. */
export type JetStreamNames = ReturnType<typeof jetStreamNames>;
