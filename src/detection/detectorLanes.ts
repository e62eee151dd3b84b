import type { MessagePort, Worker } from 'node:worker_threads';
import { SeqstreamError } from '../errors.js';
import { workerEntry, workerThreads, type WorkerThreadsBits } from '../workerThreads.js';
import type { AnomalyDetectorJSON } from './anomalyDetector.js';
import type { ResolvedDetectorOptions } from './detectorOptions.js';
import {
  ANSWERED, OP_CAPTURE, OP_EVICT, OP_FIELDS, OP_SNAPSHOT, RESULT_FIELDS,
  type CreateRequest, type DetectorBatch, type DetectorReply, type DetectorWorkerData, type RequestAnswer,
} from './detectorWorkerProtocol.js';

/** Operations per batch before it is sent without waiting for the end of the current task. */
const BATCH_OPS = 256;
/** A thread that has not answered a request within this long has failed. */
const REQUEST_TIMEOUT_MS = 60_000;

/** One detector thread as the calling thread sees it: the batch being filled, the slots in use and the replies not yet taken. */
interface Lane {
  readonly worker: Worker;
  ops: Float64Array;
  n: number;
  creates: CreateRequest[];
  /** Keys living on this thread. */
  keys: number;
  readonly freeSlots: number[];
  nextSlot: number;
  /** Replies not yet taken, oldest first, and the read position in the first. */
  readonly replies: Float64Array[];
  result: number;
  /** Requests answered so far (`ctl[ANSWERED]`), and where the answers arrive. */
  readonly ctl: Int32Array;
  readonly requests: MessagePort;
  asked: number;
}

/**
 * The detector threads of one `detectAnomaliesParallel` subscription, from the calling thread's
 * side: it starts them, gives a new key the thread holding the fewest, numbers slots, batches
 * operations per thread (a batch leaves when it holds {@link BATCH_OPS} operations or at the end of
 * the current task), and queues each thread's results so the caller takes them in the order it
 * asked for them. States come back synchronously (`evict`, `snapshot`, `capture`): the calling
 * thread sends the batch at once and waits for the answer. Threads keep the process alive only
 * while some reply is outstanding.
 *
 * @example
 * ```ts
 * const lanes = new DetectorLanes(2, resolveDetectorOptions(), () => deliver(), (err) => fail(err));
 * const { lane, slot } = lanes.place();
 * lanes.push(lane, OP_CREATE, slot, lanes.create(lane, {}), 0);
 * lanes.push(lane, OP_SCORE, slot, 3.5, Date.now());
 * // later, in deliver: if (lanes.hasResult(lane)) score = lanes.resultOf(lane)[lanes.resultAt(lane)];
 * ```
 */
export class DetectorLanes {
  private readonly lanes: Lane[] = [];
  private readonly wt: WorkerThreadsBits;
  private readonly onFailure: (err: SeqstreamError) => void;
  private flushScheduled = false;
  private outstanding = 0;
  private closed = false;

  constructor(threads: number, options: ResolvedDetectorOptions, onReply: () => void, onFailure: (err: SeqstreamError) => void) {
    const bits = workerThreads();
    if (!bits) throw new SeqstreamError('SEQ_DETECT_WORKER_FAILED', 'detectAnomaliesParallel needs worker threads (node:worker_threads), and this runtime has none', {});
    this.wt = bits;
    this.onFailure = onFailure;
    const entry = workerEntry(import.meta.url, 'detectorWorker');
    const fail = (message: string) => void this.failure(`failed: ${message}`);
    for (let i = 0; i < threads; i++) {
      const ctl = new Int32Array(new SharedArrayBuffer(4));
      const { port1, port2 } = new bits.MessageChannel();
      const workerData: DetectorWorkerData = { options, ctl: ctl.buffer as SharedArrayBuffer, port: port2 };
      const worker = new bits.Worker(entry.entry, { eval: entry.eval, workerData, transferList: [port2], stdout: false, stderr: false });
      worker.unref();
      port1.unref();
      const lane: Lane = { worker, ops: new Float64Array(BATCH_OPS * OP_FIELDS), n: 0, creates: [], keys: 0, freeSlots: [], nextSlot: 0, replies: [], result: 0, ctl, requests: port1, asked: 0 };
      worker.on('message', (reply: DetectorReply) => {
        if (this.closed) return;
        if (reply.type === 'failed') return fail(reply.message);
        lane.replies.push(reply.results);
        if (--this.outstanding === 0) for (const l of this.lanes) l.worker.unref();
        onReply();
      });
      worker.on('error', (err) => fail(err.message));
      worker.on('exit', (code) => fail(`exited with code ${code}`));
      this.lanes.push(lane);
    }
  }

  /** A slot for a new key on the thread holding the fewest keys. */
  place(): { lane: number; slot: number } {
    let best = 0;
    for (let i = 1; i < this.lanes.length; i++) if (this.lanes[i].keys < this.lanes[best].keys) best = i;
    const lane = this.lanes[best];
    lane.keys++;
    return { lane: best, slot: lane.freeSlots.pop() ?? lane.nextSlot++ };
  }

  /** Gives a slot back (after its evict operation was pushed: the thread runs operations in order). */
  release(lane: number, slot: number): void {
    const l = this.lanes[lane];
    l.keys--;
    l.freeSlots.push(slot);
  }

  /** Adds a create request to the lane's current batch; returns its index (the create operation's third field). */
  create(lane: number, request: CreateRequest): number {
    const l = this.lanes[lane];
    l.creates.push(request);
    return l.creates.length - 1;
  }

  /** Appends one operation to the lane's current batch. */
  push(lane: number, code: number, slot: number, a: number, b: number): void {
    const l = this.lanes[lane];
    const at = l.n * OP_FIELDS;
    l.ops[at] = code;
    l.ops[at + 1] = slot;
    l.ops[at + 2] = a;
    l.ops[at + 3] = b;
    if (++l.n === BATCH_OPS) this.send(l);
    else if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Sends every lane's unsent operations now. */
  flush(): void {
    this.flushScheduled = false;
    for (const l of this.lanes) if (l.n > 0) this.send(l);
  }

  /** True when the lane's next result has arrived. */
  hasResult(lane: number): boolean {
    const l = this.lanes[lane];
    for (;;) {
      const r = l.replies[0];
      if (!r) return false;
      if (l.result < r.length) return true;
      l.replies.shift();
      l.result = 0;
    }
  }

  /** The lane's next result (call {@link hasResult} first): the reply it is in, read at {@link resultAt}. */
  resultOf(lane: number): Float64Array {
    return this.lanes[lane].replies[0];
  }

  /** Where the lane's next result starts in {@link resultOf}; moves past it. */
  resultAt(lane: number): number {
    const l = this.lanes[lane];
    const at = l.result;
    l.result += RESULT_FIELDS;
    return at;
  }

  /** Drops a slot's detector and returns its state, once its thread has run every operation before. */
  evictWithState(lane: number, slot: number): AnomalyDetectorJSON {
    this.push(lane, OP_EVICT, slot, 1, 0);
    return this.stateAnswer(this.ask([lane])[0]);
  }

  /** A slot's state, once its thread has run every operation before. */
  snapshot(lane: number, slot: number): AnomalyDetectorJSON {
    this.push(lane, OP_SNAPSHOT, slot, 0, 0);
    return this.stateAnswer(this.ask([lane])[0]);
  }

  /** Every thread's live states, slot -> state per thread, once each has run every operation before. */
  capture(): Map<number, AnomalyDetectorJSON>[] {
    const all = this.lanes.map((_, i) => i);
    for (const lane of all) this.push(lane, OP_CAPTURE, 0, 0, 0);
    return this.ask(all).map((a) => {
      if (a.type !== 'capture') throw this.failure('answered a capture with a state');
      return new Map(a.states);
    });
  }

  /** Stops the threads (idempotent). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const l of this.lanes) {
      l.worker.removeAllListeners('exit');
      void l.worker.terminate();
    }
  }

  private send(l: Lane): void {
    if (this.closed) return;
    const batch: DetectorBatch = { ops: l.ops, n: l.n, creates: l.creates };
    if (this.outstanding++ === 0) for (const x of this.lanes) x.worker.ref();
    l.worker.postMessage(batch, [l.ops.buffer as ArrayBuffer]);
    l.ops = new Float64Array(BATCH_OPS * OP_FIELDS);
    l.n = 0;
    l.creates = [];
  }

  /** Sends the lanes' batches (each ends with a request) and waits for one answer from each. */
  private ask(lanes: number[]): RequestAnswer[] {
    if (this.closed) throw this.failure('is stopped');
    for (const lane of lanes) {
      const l = this.lanes[lane];
      l.asked++;
      if (l.n > 0) this.send(l);
    }
    return lanes.map((lane) => {
      const l = this.lanes[lane];
      const deadline = performance.now() + REQUEST_TIMEOUT_MS;
      for (;;) {
        const seen = Atomics.load(l.ctl, ANSWERED);
        if (seen >= l.asked) break;
        const left = deadline - performance.now();
        if (left <= 0 || Atomics.wait(l.ctl, ANSWERED, seen, Math.min(left, 1000)) === 'timed-out' && performance.now() >= deadline) {
          throw this.failure(`did not answer within ${REQUEST_TIMEOUT_MS / 1000} s`);
        }
      }
      const got = this.wt.receiveMessageOnPort(l.requests);
      if (!got) throw this.failure('answered without a message');
      const answer = got.message as RequestAnswer;
      if (answer.type === 'failed') throw this.failure(`failed: ${answer.message}`);
      return answer;
    });
  }

  private stateAnswer(a: RequestAnswer): AnomalyDetectorJSON {
    if (a.type !== 'state') throw this.failure('answered a state request with a capture');
    return a.state;
  }

  /** Stops the threads and reports the failure (once); returns it for the caller to throw. */
  private failure(what: string): SeqstreamError {
    const err = new SeqstreamError('SEQ_DETECT_WORKER_FAILED', `A detector thread of detectAnomaliesParallel ${what}`, {});
    if (!this.closed) {
      this.close();
      this.onFailure(err);
    }
    return err;
  }
}
