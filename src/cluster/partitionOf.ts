import { InvalidOptionError } from '../errors.js';

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
const encoder = new TextEncoder();

/**
 * FNV-1a, 32 bits, over the UTF-8 bytes of `text`: the hash nats-server's `{{partition(P,n)}}`
 * subject mapping uses, so a publisher and a server-side mapping put a key in the same partition.
 *
 * @example
 * ```ts
 * fnv1a32('sensor-7'); // an unsigned 32-bit integer
 * ```
 */
export function fnv1a32(text: string): number {
  let h = FNV_OFFSET;
  for (const b of encoder.encode(text)) {
    h ^= b;
    h = Math.imul(h, FNV_PRIME) >>> 0;
  }
  return h >>> 0;
}

/**
 * The partition of `key` among `partitions`: `fnv1a32(String(key)) mod partitions`. Keys are
 * strings on the wire; a number key `7` is the key `'7'`.
 *
 * @example
 * ```ts
 * partitionOf('sensor-7', 8); // 0..7, the same as the server's {{partition(8,1)}}
 * ```
 */
export function partitionOf(key: string | number, partitions: number): number {
  if (!Number.isInteger(partitions) || partitions < 1) throw new InvalidOptionError('partitions', 'an integer >= 1', partitions);
  return fnv1a32(String(key)) % partitions;
}
