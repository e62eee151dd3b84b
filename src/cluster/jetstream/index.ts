export { connectJetStreamEngine, type JetStreamEngine, type JetStreamEngineOptions } from './connectJetStreamEngine.js';
export { PartitionedPublisher, type PartitionedPublisherOptions, type PublishedEvent } from './partitionedPublisher.js';
export { JetStreamCheckpointStore } from './jetStreamCheckpointStore.js';
export { JetStreamPartitionLog, type JetStreamPartitionLogOptions } from './jetStreamPartitionLog.js';
export { JetStreamPublishWindow, type JetStreamPublishWindowOptions } from './jetStreamPublishWindow.js';
export { KvLeaseTable } from './kvLeaseTable.js';
export { jetStreamNames, type JetStreamNames } from './jetStreamNames.js';
export { ensureJetStreamTopology, type JetStreamTopology, type JetStreamTopologyOptions } from './jetStreamTopology.js';
export { natsServerConfig, type NatsServerConfigOptions } from './natsServerConfig.js';
