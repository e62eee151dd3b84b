import { describe, expect, it } from 'vitest';
import { DetectorLanes } from '../../src/detection/detectorLanes.js';
import { resolveDetectorOptions } from '../../src/detection/detectorOptions.js';
import { OP_CREATE, OP_SCORE } from '../../src/detection/detectorWorkerProtocol.js';
import { AnomalyDetector } from '../../src/detection/anomalyDetector.js';
import type { SeqstreamError } from '../../src/errors.js';

/** The calling thread's side of the detector threads, on real threads. */
describe('DetectorLanes', () => {
  const options = resolveDetectorOptions({ learningPeriod: 5 });

  it('places keys on the thread holding the fewest, reuses released slots, and returns scores in order', async () => {
    let replies = 0;
    const lanes = new DetectorLanes(2, options, () => replies++, (err) => { throw err; });
    try {
      const a = lanes.place();
      const b = lanes.place();
      expect([a.lane, b.lane].sort()).toEqual([0, 1]);
      lanes.push(a.lane, OP_CREATE, a.slot, lanes.create(a.lane, {}), 0);
      const xs = [1, 2, 3, 2, 1, 9];
      for (const x of xs) lanes.push(a.lane, OP_SCORE, a.slot, x, NaN);
      const reference = new AnomalyDetector(options);
      const want = xs.map((x) => reference.update(x, 0).score);
      const got: number[] = [];
      while (got.length < xs.length) {
        if (lanes.hasResult(a.lane)) got.push(lanes.resultOf(a.lane)[lanes.resultAt(a.lane)]);
        else await new Promise((r) => setTimeout(r, 5));
      }
      expect(got).toEqual(want);
      expect(lanes.snapshot(a.lane, a.slot)).toEqual(reference.toJSON());
      expect(lanes.evictWithState(a.lane, a.slot).count).toBe(xs.length);
      lanes.release(a.lane, a.slot);
      expect(lanes.place()).toEqual(a); // the freed slot on the emptier thread
      expect(replies).toBeGreaterThan(0);
    } finally {
      lanes.close();
    }
  });

  it('reports a thread that fails with SEQ_DETECT_WORKER_FAILED, once, and refuses requests after', async () => {
    const failures: SeqstreamError[] = [];
    const lanes = new DetectorLanes(1, options, () => undefined, (err) => failures.push(err));
    try {
      // A score for a slot no create started: the thread throws.
      lanes.push(0, OP_SCORE, 3, 1, NaN);
      for (let i = 0; i < 400 && failures.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
      expect(failures).toHaveLength(1);
      expect(failures[0]).toMatchObject({ code: 'SEQ_DETECT_WORKER_FAILED' });
      expect(failures[0].message).toContain('no detector in slot 3');
      expect(() => lanes.snapshot(0, 0)).toThrow(expect.objectContaining({ code: 'SEQ_DETECT_WORKER_FAILED' }));
      expect(failures).toHaveLength(1);
    } finally {
      lanes.close();
    }
  });

  it('answers a request for a missing slot with an error instead of hanging', () => {
    const failures: SeqstreamError[] = [];
    const lanes = new DetectorLanes(1, options, () => undefined, (err) => failures.push(err));
    try {
      expect(() => lanes.snapshot(0, 7)).toThrow(expect.objectContaining({ code: 'SEQ_DETECT_WORKER_FAILED' }));
      expect(failures).toHaveLength(1);
    } finally {
      lanes.close();
    }
  });
});
