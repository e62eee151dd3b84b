import { describe, expect, it } from 'vitest';
import { Subject } from 'rxjs';
import { decodeCheckpoint, decodePartitionCheckpoint, encodeCheckpoint } from '../../src/cluster/checkpointCodec.js';
import { detectAnomalies } from '../../src/detection/detectAnomalies.js';
import { DetectorControl } from '../../src/detection/detectorControl.js';
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
  it('round-trips a detector checkpoint: a detector resumed from the decoded bytes scores exactly like one that never stopped', () => {
    const readings = Array.from({ length: 400 }, (_, i) => ({ key: `k${i % 3}`, x: Math.sin(i / 5) + (i === 350 ? 3 : 0), timestamp: 1.7e12 + i * 60_000, offset: i }));
    const options = { hiddenSize: 4, window: 8, learningPeriod: 30 };
    const run = (from: number, resumeFrom?: ReturnType<DetectorControl<string>['capture']>) => {
      const control = new DetectorControl<string>();
      const input = new Subject<(typeof readings)[number]>();
      const scores: number[] = [];
      const sub = input.pipe(detectAnomalies<string, (typeof readings)[number]>({ ...options, control, resumeFrom })).subscribe((d) => scores.push(d.score));
      readings.slice(from).forEach((r) => input.next(r));
      return { scores, control, sub };
    };
    const whole = run(0);
    whole.sub.unsubscribe();
    // Stop after 200 readings, capture, encode, decode, resume.
    const partial = (() => {
      const control = new DetectorControl<string>();
      const input = new Subject<(typeof readings)[number]>();
      const sub = input.pipe(detectAnomalies<string, (typeof readings)[number]>({ ...options, control })).subscribe();
      readings.slice(0, 200).forEach((r) => input.next(r));
      const cp = control.capture();
      sub.unsubscribe();
      return cp;
    })();
    const back = decodePartitionCheckpoint(encodeCheckpoint(partial));
    if (back.format !== 'seqstream-detector-checkpoint') throw new Error(`decoded a ${back.format}`);
    expect([back.offset, back.events, back.keys.map((k) => k.key)]).toEqual([199, 200, partial.keys.map((k) => k.key)]);
    const resumed = run(200, back);
    resumed.sub.unsubscribe();
    expect(resumed.scores.length).toBe(200);
    expect(resumed.scores).toEqual(whole.scores.slice(200));
    expect(() => decodeCheckpoint(encodeCheckpoint(partial))).toThrow(expect.objectContaining({ code: 'SEQ_CLUSTER_CHECKPOINT' }));
  });
});
