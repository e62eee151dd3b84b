import { InvalidOptionError } from '../../errors.js';
import { jetStreamNames } from './jetStreamNames.js';

/** Options of {@link natsServerConfig}. */
export interface NatsServerConfigOptions {
  /** Topology name (the mapping is made for `<stream>.key.*`). */
  stream: string;
  /** Partition count of the topology. */
  partitions: number;
  /** Client port. Default 4222. */
  port?: number;
  /** Listen address. Default `127.0.0.1`. */
  host?: string;
  /** Server name (unique in a cluster). Default `seqstream-1`. */
  serverName?: string;
  /** JetStream store directory. */
  storeDir: string;
  /** MQTT listener port; omitted = no MQTT listener. */
  mqttPort?: number;
  /** Cluster: this server's route port, the cluster name and every member's route URL. Default none. */
  cluster?: { name: string; port: number; routes: string[] };
}

/**
 * A nats-server configuration for a cluster topology: JetStream on, the subject mapping
 * `<stream>.key.<key>` → `<stream>.in.{{partition(P,1)}}.<key>` (the server hashes the key with
 * FNV-1a like `partitionOf`), and optionally the MQTT listener, so a sensor publishing MQTT topic
 * `<stream>/key/<key>` lands in its partition's stream.
 *
 * @example
 * ```ts
 * writeFileSync('nats.conf', natsServerConfig({ stream: 'sensors', partitions: 8, storeDir: '/var/lib/nats', mqttPort: 1883 }));
 * // nats-server -c nats.conf
 * ```
 */
export function natsServerConfig(o: NatsServerConfigOptions): string {
  const n = jetStreamNames(o.stream);
  if (!Number.isInteger(o.partitions) || o.partitions < 1) throw new InvalidOptionError('partitions', 'an integer >= 1', o.partitions);
  if (typeof o.storeDir !== 'string' || o.storeDir === '') throw new InvalidOptionError('storeDir', 'a directory path', o.storeDir);
  const host = o.host ?? '127.0.0.1';
  const lines = [
    `server_name: ${JSON.stringify(o.serverName ?? 'seqstream-1')}`,
    `listen: "${host}:${o.port ?? 4222}"`,
    `jetstream { store_dir: ${JSON.stringify(o.storeDir)} }`,
    `mappings = { "${n.stream}.key.*": "${n.stream}.in.{{partition(${o.partitions},1)}}.{{wildcard(1)}}" }`,
  ];
  if (o.mqttPort !== undefined) lines.push(`mqtt { listen: "${host}:${o.mqttPort}" }`);
  if (o.cluster) {
    lines.push(`cluster { name: ${JSON.stringify(o.cluster.name)}, listen: "${host}:${o.cluster.port}", routes: [${o.cluster.routes.map((r) => JSON.stringify(r)).join(', ')}] }`);
  }
  return lines.join('\n') + '\n';
}
