import type { Command } from 'commander';
import { parseInteger, parseList } from './cliContext.js';

/** The flags {@link withTopologyOptions} adds, as commander parses them. */
export interface TopologyFlags {
  nats: string[];
  stream: string;
  partitions: number;
  replicas: number;
}

/**
 * Adds `--nats`, `--stream`, `--partitions` and `--replicas` (the JetStream topology) to `cmd`.
 *
 * @example
 * ```ts
 * withTopologyOptions(program.command('worker'));
 * ```
 */
export function withTopologyOptions(cmd: Command): Command {
  return cmd
    .requiredOption('--nats <urls>', 'NATS server URL(s), comma-separated', parseList)
    .requiredOption('--stream <name>', 'topology name (letters, digits, - or _)')
    .requiredOption('--partitions <n>', 'partition count (fixed when the topology is created)', parseInteger(1))
    .option('--replicas <n>', 'replicas of the streams and buckets if they are created here (3 on a 3-node cluster)', parseInteger(1), 1);
}
