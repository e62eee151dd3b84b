/**
 * A detector thread of `detectAnomaliesParallel` (started from this file, compiled next to it; see
 * `detectorWorkerProtocol.ts`). It holds the detectors of the keys the calling thread gave it, in
 * numbered slots, and runs each batch's operations in order: the same `AnomalyDetector` code the
 * one-thread operator runs, so every key scores exactly as it would there.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { AnomalyDetector, type AnomalyDetectorJSON } from './anomalyDetector.js';
import {
  ANSWERED, OP_CAPTURE, OP_CREATE, OP_EVICT, OP_FIELDS, OP_SCORE, OP_SNAPSHOT, RESULT_FIELDS, writeDetection,
  type DetectorBatch, type DetectorReply, type DetectorWorkerData, type RequestAnswer,
} from './detectorWorkerProtocol.js';

const { options, ctl: ctlBuffer, port: requests } = workerData as DetectorWorkerData;
const ctl = new Int32Array(ctlBuffer);
const detectors: (AnomalyDetector | undefined)[] = [];
const port = parentPort as NonNullable<typeof parentPort>;

function answer(message: RequestAnswer): void {
  requests.postMessage(message);
  Atomics.add(ctl, ANSWERED, 1);
  Atomics.notify(ctl, ANSWERED);
}

function detector(slot: number): AnomalyDetector {
  const d = detectors[slot];
  if (!d) throw new Error(`no detector in slot ${slot}`);
  return d;
}

function run({ ops, n, creates }: DetectorBatch): Float64Array {
  let scored = 0;
  for (let i = 0; i < n; i++) if (ops[i * OP_FIELDS] === OP_SCORE) scored++;
  const results = new Float64Array(scored * RESULT_FIELDS);
  for (let i = 0, r = 0; i < n; i++) {
    const at = i * OP_FIELDS;
    const slot = ops[at + 1];
    switch (ops[at]) {
      case OP_SCORE: {
        const ts = ops[at + 3];
        writeDetection(results, r, detector(slot).update(ops[at + 2], Number.isNaN(ts) ? 0 : ts));
        r += RESULT_FIELDS;
        break;
      }
      case OP_CREATE: {
        const create = creates[ops[at + 2]];
        detectors[slot] = new AnomalyDetector(create.options ?? options, create.state);
        break;
      }
      case OP_EVICT:
        if (ops[at + 2] === 1) answer({ type: 'state', state: detector(slot).toJSON() });
        detectors[slot] = undefined;
        break;
      case OP_SNAPSHOT:
        answer({ type: 'state', state: detector(slot).toJSON() });
        break;
      case OP_CAPTURE: {
        const states: [number, AnomalyDetectorJSON][] = [];
        detectors.forEach((d, s) => {
          if (d) states.push([s, d.toJSON()]);
        });
        answer({ type: 'capture', states });
        break;
      }
    }
  }
  return results;
}

port.on('message', (batch: DetectorBatch) => {
  let reply: DetectorReply;
  try {
    reply = { type: 'reply', results: run(batch) };
  } catch (thrown) {
    reply = { type: 'failed', message: (thrown as Error).message };
    // A request waiting on this batch must not wait out its timeout.
    answer({ type: 'failed', message: reply.message });
  }
  port.postMessage(reply, reply.type === 'reply' ? [reply.results.buffer as ArrayBuffer] : []);
});
