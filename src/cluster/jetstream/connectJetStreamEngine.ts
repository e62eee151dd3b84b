import type { NatsConnection } from '@nats-io/nats-core';
import type { ClusterEngine } from '../clusterEngine.js';
import { JetStreamCheckpointStore } from './jetStreamCheckpointStore.js';
import { jetStreamNames, type JetStreamNames } from './jetStreamNames.js';
import { JetStreamPartitionLog } from './jetStreamPartitionLog.js';
import { ensureJetStreamTopology, type JetStreamTopologyOptions } from './jetStreamTopology.js';
import { KvLeaseTable } from './kvLeaseTable.js';
import { loadNats, type NatsModules } from './loadNats.js';

/** Options of {@link connectJetStreamEngine}. */
export interface JetStreamEngineOptions extends JetStreamTopologyOptions {
  /** Server URL(s), e.g. `nats://127.0.0.1:4222` or several for a cluster. */
  servers: string | string[];
  /** Topology name (letters, digits, `-`, `_`). */
  stream: string;
  /** Connection name shown by the server. Default `seqstream`. */
  name?: string;
  /** Pause between reconnect attempts, in ms (with jitter); attempts never stop. Default 250. */
  reconnectTimeWaitMs?: number;
  /** Status lines: connection lost / restored, topology retries. Default none. */
  status?: (line: string) => void;
  /** Messages a partition's consumer asks for at a time. Default 2048. */
  fetchBatch?: number;
  /** Refusals of one output or dead-letter publish before its partition fails (`SEQ_CLUSTER_REFUSED`) and is given up, to be replayed by its next owner. Default 20. */
  maxPublishRefusals?: number;
}

/** A {@link ClusterEngine} on JetStream, plus the connection and names. */
export interface JetStreamEngine extends ClusterEngine {
  /** The control connection (leases, checkpoints, topology). */
  nc: NatsConnection;
  /** The data connection (partition reads, outputs, dead letters). */
  data: NatsConnection;
  names: JetStreamNames;
  nats: NatsModules;
}

/**
 * Connects to NATS (waiting for a server to come up, reconnecting forever), creates or checks the
 * topology and returns the engine a `ClusterWorker` runs on. Loads the optional `@nats-io/*`
 * packages here, on first use.
 *
 * @example
 * ```ts
 * const engine = await connectJetStreamEngine({ servers: 'nats://127.0.0.1:4222', stream: 'sensors', partitions: 8 });
 * const worker = new ClusterWorker(engine, model, { id: 'w1' });
 * ```
 */
export async function connectJetStreamEngine(options: JetStreamEngineOptions): Promise<JetStreamEngine> {
  const names = jetStreamNames(options.stream);
  const nats = await loadNats();
  const status = options.status ?? (() => undefined);
  const connect = async (role: string): Promise<NatsConnection> => {
    const c = await nats.transport.connect({
      servers: options.servers,
      name: `${options.name ?? 'seqstream'}-${role}`,
      maxReconnectAttempts: -1,
      reconnectTimeWait: options.reconnectTimeWaitMs ?? 250,
      waitOnFirstConnect: true,
      // No stack-trace object per request: a worker makes many, and their errors are handled by code.
      noAsyncTraces: true,
    });
    void (async () => {
      for await (const s of c.status()) {
        if (s.type === 'disconnect') status(`${role} connection: disconnected from ${'server' in s ? s.server : 'server'}; reconnecting`);
        else if (s.type === 'reconnect') status(`${role} connection: reconnected to ${'server' in s ? s.server : 'server'}`);
      }
    })().catch(() => undefined);
    return c;
  };
  // Two connections: leases and checkpoint pointers must not queue behind a partition's bulk of
  // events and outputs (in the client's socket buffer or the server's read loop), or a busy worker
  // would miss its own lease renewals.
  const nc = await connect('control');
  const data = await connect('data');
  const js = nats.jetstream.jetstream(data);
  // Everything up to the lease table's watcher is retried: a cluster that has just formed times
  // out JetStream requests until it has elected its leaders.
  let jsm, dataJsm, topo, leases;
  for (let attempt = 0; ; attempt++) {
    try {
      jsm ??= await nats.jetstream.jetstreamManager(nc);
      dataJsm ??= await nats.jetstream.jetstreamManager(data);
      topo ??= await ensureJetStreamTopology(nats, nc, jsm, names, options);
      leases = await KvLeaseTable.open(topo.group);
      break;
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code === 'SEQ_CLUSTER_PARTITIONS' || code === 'SEQ_INVALID_OPTION' || attempt >= 20) {
        await Promise.all([nc.close(), data.close()]);
        throw e;
      }
      status(`topology not ready (${(e as Error).message}); retrying`);
      await new Promise((r) => setTimeout(r, Math.min(2000, 100 * 2 ** attempt)));
    }
  }
  const log = new JetStreamPartitionLog(nats, data, js, dataJsm, names, { fetchBatch: options.fetchBatch, maxPublishRefusals: options.maxPublishRefusals, status });
  return {
    nc,
    data,
    names,
    nats,
    partitions: options.partitions,
    leases,
    checkpoints: new JetStreamCheckpointStore(topo.pointers, topo.bodies, { jsm, bucket: names.stateStore }),
    log,
    close: async () => {
      leases.close();
      log.close();
      await Promise.all([nc.drain().catch(() => nc.close()), data.drain().catch(() => data.close())]);
    },
  };
}
