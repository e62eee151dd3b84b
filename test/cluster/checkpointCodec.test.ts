import { describe, expect, it } from 'vitest';
import { decodeCheckpoint, encodeCheckpoint } from '../../src/cluster/checkpointCodec.js';
import type { KeyedCheckpoint } from '../../src/streams/stateStore.js';

const cp = (keys: string[], rowFloats: number): KeyedCheckpoint<string> => ({
  format: 'seqstream-keyed-checkpoint',
  version: 1,
  offset: 1234,
  events: 99,
  cell: 'lstm',
  hiddenSize: rowFloats / 2,
  numLayers: 1,
  keys,
  state: Float32Array.from({ length: keys.length * rowFloats }, (_, i) => Math.sin(i) * 1e-3 + (i === 3 ? -0 : 0)),
  modelVersion: 2,
  model: null,
});

describe('checkpointCodec', () => {
  it('round-trips every float bit for bit, keys in order, header fields', () => {
    for (const keys of [[], ['a'], ['k1', 'ünï', 'x'.repeat(3)]]) {
      const c = cp(keys, 16);
      const back = decodeCheckpoint(encodeCheckpoint(c));
      expect(back.keys).toEqual(keys);
      expect(new Uint32Array(back.state.buffer)).toEqual(new Uint32Array(c.state.buffer));
      expect([back.offset, back.events, back.cell, back.hiddenSize, back.numLayers, back.modelVersion]).toEqual([1234, 99, 'lstm', 8, 1, 2]);
    }
  });
  it('refuses bytes that are not a checkpoint with SEQ_CLUSTER_CHECKPOINT', () => {
    const good = encodeCheckpoint(cp(['a'], 4));
    for (const bad of [new Uint8Array(3), new Uint8Array(64), good.subarray(0, 12), Uint8Array.from([...good.subarray(0, good.length - 1)])]) {
      expect(() => decodeCheckpoint(bad)).toThrow(expect.objectContaining({ code: 'SEQ_CLUSTER_CHECKPOINT' }));
    }
  });
});
