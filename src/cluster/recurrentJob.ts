import { map, type Observable } from 'rxjs';
import type { RecurrentModel } from '../cells/model.js';
import { SeqstreamError } from '../errors.js';
import { KeyedRecurrentControl } from '../streams/keyedRecurrentControl.js';
import { recurrentByKey, type KeyedEvent } from '../streams/recurrentByKey.js';
import type { PartitionCheckpoint } from './clusterEngine.js';
import type { PartitionJobFactory } from './partitionJob.js';

const encoder = new TextEncoder();

/** Thrown when a partition's checkpoint was written by another kind of job (`SEQ_CLUSTER_CHECKPOINT`). */
export function wrongCheckpointKind(partition: number, found: PartitionCheckpoint, wanted: PartitionCheckpoint['format']): SeqstreamError {
  return new SeqstreamError(
    'SEQ_CLUSTER_CHECKPOINT',
    `partition ${partition}: its checkpoint is a '${found.format}', this worker runs a job whose checkpoints are '${wanted}' (a topology keeps one kind of worker; use a new stream name to switch)`,
    { partition, found: found.format, wanted },
  );
}

/**
 * The default partition job: `recurrentByKey(model)` over the partition's events, each output
 * `{"key","y","p","seq"}`. The engine is pinned to `'wasm'`, so a replay after a takeover gives
 * the same bits whatever the batching (`'auto'` may hand large flushes to onnxruntime-node).
 *
 * @param options.maxKeys live keys per partition before the least recently used is evicted. Default 1000000.
 * @example
 * ```ts
 * const worker = new ClusterWorker(engine, recurrentJob(model), { id: 'w1' }); // same as passing `model`
 * ```
 */
export function recurrentJob(model: RecurrentModel, options: { maxKeys?: number } = {}): PartitionJobFactory {
  const maxKeys = options.maxKeys ?? 1_000_000;
  return ({ partition, resumeFrom, onError, maxBatch, batchWaitMs }) => {
    if (resumeFrom && resumeFrom.format !== 'seqstream-keyed-checkpoint') throw wrongCheckpointKind(partition, resumeFrom, 'seqstream-keyed-checkpoint');
    const control = new KeyedRecurrentControl<string>();
    const step = recurrentByKey<string>(model, { resumeFrom, control, onError, maxBatch, maxWaitMs: batchWaitMs, maxKeys, engine: 'wasm' });
    return {
      operator: (events) =>
        // x is checked by recurrentByKey itself (shape, type, finiteness: dead-lettered with its code).
        (events as Observable<unknown> as Observable<KeyedEvent<string>>).pipe(
          step,
          map((out) => {
            const seq = out.offset as number;
            return { seq, body: encoder.encode(JSON.stringify({ key: out.key, y: Array.from(out.y), p: partition, seq })) };
          }),
        ),
      capture: () => control.capture({ includeModel: false }),
    };
  };
}
