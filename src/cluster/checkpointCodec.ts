import { SeqstreamError } from '../errors.js';
import type { KeyedCheckpoint } from '../streams/stateStore.js';

const MAGIC = 0x4b435153; // 'SQCK' little-endian
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Encodes a keyed checkpoint (without its model) as bytes: magic, header length, a JSON header
 * (offset, events, cell, sizes, keys, modelVersion) padded to 4 bytes, then the raw float32 state.
 * Floats are copied bit for bit, so a restored state is exactly the captured one.
 *
 * @example
 * ```ts
 * const bytes = encodeCheckpoint(control.capture({ includeModel: false }));
 * const back = decodeCheckpoint(bytes);
 * ```
 */
export function encodeCheckpoint(cp: KeyedCheckpoint<string>): Uint8Array {
  const header = encoder.encode(
    JSON.stringify({
      version: 1,
      offset: cp.offset,
      events: cp.events,
      cell: cp.cell,
      hiddenSize: cp.hiddenSize,
      numLayers: cp.numLayers,
      keys: cp.keys,
      modelVersion: cp.modelVersion,
    }),
  );
  const padded = (header.length + 3) & ~3;
  const out = new Uint8Array(8 + padded + cp.state.byteLength);
  const view = new DataView(out.buffer);
  view.setUint32(0, MAGIC, true);
  view.setUint32(4, header.length, true);
  out.set(header, 8);
  out.set(new Uint8Array(cp.state.buffer, cp.state.byteOffset, cp.state.byteLength), 8 + padded);
  return out;
}

/**
 * Decodes {@link encodeCheckpoint}'s bytes. Throws `SEQ_CLUSTER_CHECKPOINT` on anything else.
 *
 * @example
 * ```ts
 * const cp = decodeCheckpoint(await blobStore.get('p3-...'));
 * ```
 */
export function decodeCheckpoint(bytes: Uint8Array): KeyedCheckpoint<string> {
  const bad = (why: string): SeqstreamError => new SeqstreamError('SEQ_CLUSTER_CHECKPOINT', `Partition checkpoint is unreadable: ${why}`, {});
  if (bytes.length < 8) throw bad(`${bytes.length} bytes`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0, true) !== MAGIC) throw bad('wrong magic number');
  const headerLength = view.getUint32(4, true);
  const padded = (headerLength + 3) & ~3;
  if (8 + padded > bytes.length) throw bad('header runs past the end');
  let h: { version: number; offset: number | null; events: number; cell: string; hiddenSize: number; numLayers: number; keys: string[]; modelVersion: number };
  try {
    h = JSON.parse(decoder.decode(bytes.subarray(8, 8 + headerLength)));
  } catch {
    throw bad('header is not JSON');
  }
  if (h.version !== 1 || !Array.isArray(h.keys)) throw bad(`header version ${String(h.version)}`);
  const floatBytes = bytes.length - 8 - padded;
  if (floatBytes % 4 !== 0) throw bad('state is not whole float32s');
  const state = new Float32Array(floatBytes / 4);
  new Uint8Array(state.buffer).set(bytes.subarray(8 + padded));
  return {
    format: 'seqstream-keyed-checkpoint',
    version: 1,
    offset: h.offset,
    events: h.events,
    cell: h.cell,
    hiddenSize: h.hiddenSize,
    numLayers: h.numLayers,
    keys: h.keys,
    state,
    modelVersion: h.modelVersion,
    model: null,
  };
}
