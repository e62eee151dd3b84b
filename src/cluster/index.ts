export { fnv1a32, partitionOf } from './partitionOf.js';
export type { ClaimedCheckpoint, ClusterEngine, LeaseEntry, LeaseTable, PartitionCheckpointStore, PartitionLog, PartitionReader, PartitionRecord } from './clusterEngine.js';
export { ClusterWorker, type ClusterWorkerOptions } from './clusterWorker.js';
export { PartitionOwnership, fencedError, type PartitionOwnershipOptions } from './partitionOwnership.js';
export { PartitionRunner, type PartitionPipeline, type PartitionRunnerOptions, type PartitionStats } from './partitionRunner.js';
export { encodeCheckpoint, decodeCheckpoint } from './checkpointCodec.js';
export { parseClusterEvent, type ClusterEvent, type ClusterEventError } from './parseClusterEvent.js';
