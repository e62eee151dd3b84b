import type { DetectorCheckpoint } from '../detection/detectorCheckpoint.js';
import { SeqstreamError } from '../errors.js';
import type { KeyedCheckpoint } from '../streams/stateStore.js';
import type { PartitionCheckpoint } from './clusterEngine.js';

const MAGIC = 0x4b435153; // 'SQCK' little-endian
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Encodes a partition checkpoint as bytes: magic, header length, a JSON header padded to 4
 * bytes, then a body. A keyed (`recurrentByKey`) checkpoint, without its model: header (offset,
 * events, cell, sizes, keys, modelVersion), body the raw float32 state, copied bit for bit, so a
 * restored state is exactly the captured one. A detector checkpoint: header `kind: "detector"`
 * with every key's detector state (plain JSON; numbers print and parse back exactly), no body.
 *
 * @example
 * ```ts
 * const bytes = encodeCheckpoint(control.capture({ includeModel: false }));
 * const back = decodeCheckpoint(bytes);
 * ```
 */
export function encodeCheckpoint(cp: PartitionCheckpoint): Uint8Array {
  if (cp.format === 'seqstream-detector-checkpoint') {
    return frame(encoder.encode(JSON.stringify({ version: 1, kind: 'detector', offset: cp.offset, events: cp.events, keys: cp.keys })), new Uint8Array(0));
  }
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
  return frame(header, new Uint8Array(cp.state.buffer, cp.state.byteOffset, cp.state.byteLength));
}

function frame(header: Uint8Array, body: Uint8Array): Uint8Array {
  const padded = (header.length + 3) & ~3;
  const out = new Uint8Array(8 + padded + body.byteLength);
  const view = new DataView(out.buffer);
  view.setUint32(0, MAGIC, true);
  view.setUint32(4, header.length, true);
  out.set(header, 8);
  out.set(body, 8 + padded);
  return out;
}

/**
 * Decodes {@link encodeCheckpoint}'s bytes of a keyed (`recurrentByKey`) checkpoint. Throws
 * `SEQ_CLUSTER_CHECKPOINT` on anything else, a detector checkpoint included.
 *
 * @example
 * ```ts
 * const cp = decodeCheckpoint(await blobStore.get('p3-...'));
 * ```
 */
export function decodeCheckpoint(bytes: Uint8Array): KeyedCheckpoint<string> {
  const cp = decodePartitionCheckpoint(bytes);
  if (cp.format !== 'seqstream-keyed-checkpoint') throw new SeqstreamError('SEQ_CLUSTER_CHECKPOINT', `Partition checkpoint is a '${cp.format}', expected a keyed one`, { format: cp.format });
  return cp;
}

/**
 * Decodes {@link encodeCheckpoint}'s bytes, of either kind. Throws `SEQ_CLUSTER_CHECKPOINT` on anything else.
 *
 * @example
 * ```ts
 * const cp = decodePartitionCheckpoint(bytes);
 * if (cp.format === 'seqstream-detector-checkpoint') console.log(cp.keys.length, 'detectors');
 * ```
 */
export function decodePartitionCheckpoint(bytes: Uint8Array): PartitionCheckpoint {
  const bad = (why: string): SeqstreamError => new SeqstreamError('SEQ_CLUSTER_CHECKPOINT', `Partition checkpoint is unreadable: ${why}`, {});
  if (bytes.length < 8) throw bad(`${bytes.length} bytes`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0, true) !== MAGIC) throw bad('wrong magic number');
  const headerLength = view.getUint32(4, true);
  const padded = (headerLength + 3) & ~3;
  if (8 + padded > bytes.length) throw bad('header runs past the end');
  let h: { version: number; kind?: string; offset: number | null; events: number; cell: string; hiddenSize: number; numLayers: number; keys: string[]; modelVersion: number };
  try {
    h = JSON.parse(decoder.decode(bytes.subarray(8, 8 + headerLength)));
  } catch {
    throw bad('header is not JSON');
  }
  if (h === null || typeof h !== 'object' || h.version !== 1 || !Array.isArray(h.keys)) throw bad(`header version ${String(h?.version)}`);
  if (h.kind === 'detector') {
    if (typeof h.offset !== 'number' || typeof h.events !== 'number') throw bad('detector header without offset or events');
    const keys = h.keys as unknown as DetectorCheckpoint<string>['keys'];
    if (!keys.every((k) => k !== null && typeof k === 'object' && typeof k.key === 'string' && k.state !== null && typeof k.state === 'object')) throw bad('detector keys are not { key, state }');
    return { format: 'seqstream-detector-checkpoint', version: 1, offset: h.offset, events: h.events, keys };
  }
  if (h.kind !== undefined) throw bad(`unknown kind ${JSON.stringify(h.kind)}`);
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
