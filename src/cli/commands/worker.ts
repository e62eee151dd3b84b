import { hostname } from 'node:os';
import type { Command } from 'commander';
import { ClusterWorker } from '../../cluster/clusterWorker.js';
import { detectorJob } from '../../cluster/detectorJob.js';
import { connectJetStreamEngine } from '../../cluster/jetstream/connectJetStreamEngine.js';
import { type CliContext, parseInteger, UsageError } from '../cliContext.js';
import { type TopologyFlags, withTopologyOptions } from '../clusterOptions.js';
import { detectorOptionsFromFlags, type DetectorFlags, withDetectorOptions } from '../detectorFlags.js';
import { type ModelFlags, modelFromFlags, withModelOptions } from '../modelOptions.js';

interface WorkerFlags extends ModelFlags, TopologyFlags, DetectorFlags {
  detect?: boolean;
  id?: string;
  leaseMs: number;
  checkpointMs: number;
  checkpointEvents: number;
  maxEventBytes: number;
  statusMs: number;
  trace?: boolean;
}

/**
 * `seqstream worker --nats URL --stream NAME --partitions P --model FILE` (or `--detect`): joins
 * the worker group of a JetStream topology, runs `recurrentByKey` (with `--detect`: the anomaly
 * detector, options from `--detector-options FILE` and the detector flags) over the partitions it
 * owns, publishes outputs to `<stream>.out.<p>`; status lines on stderr; SIGTERM/SIGINT leave the
 * group with a final checkpoint.
 *
 * @example
 * ```ts
 * registerWorker(program, ctx); // seqstream worker --nats nats://127.0.0.1:4222 --stream sensors --partitions 8 --model m.json
 * ```
 */
export function registerWorker(program: Command, ctx: CliContext): void {
  const cmd = withTopologyOptions(
    program.command('worker').description('run keyed state over the partitions of a NATS JetStream topology, sharing them with other workers'),
  )
    .option('--id <name>', 'worker id, unique in the group (default <host>-<pid>)')
    .option('--lease-ms <ms>', 'lease lifetime: partitions of a dead worker move after about this long', parseInteger(50), 1500)
    .option('--checkpoint-ms <ms>', 'checkpoint each partition this often', parseInteger(1), 1000)
    .option('--checkpoint-events <n>', '... or after this many events', parseInteger(1), 20_000)
    .option('--max-event-bytes <n>', 'larger events go to the dead-letter subject', parseInteger(1), 65_536)
    .option('--status-ms <ms>', 'print a status line this often (0: never)', parseInteger(0), 5000)
    .option('--trace', 'also print a line per checkpoint')
    .option('--detect', "run the anomaly detector (one online-learning detector per key) instead of --model's recurrentByKey");
  withDetectorOptions(withModelOptions(cmd, false)).action(async (opts: WorkerFlags) => {
    if (opts.detect && opts.model) throw new UsageError('give either --model (recurrentByKey) or --detect (the anomaly detector learns its own model), not both');
    if (!opts.detect && !opts.model) throw new UsageError("give --model <file> (recurrentByKey) or --detect (the anomaly detector)");
    if (!opts.detect && detectorFlagsGiven(opts)) throw new UsageError('--detector-options, --threshold, --learning-period and --range need --detect');
    // Built before connecting: a bad model or detector option fails at once, not per partition.
    const work = opts.detect ? detectorJob(detectorOptionsFromFlags(opts)) : modelFromFlags(opts)!;
    const id = opts.id ?? `${hostname().replace(/[^-\w]/g, '_')}-${process.pid}`;
    const say = (line: string): void => ctx.err(`seqstream worker ${id}: ${line}`);
    const engine = await connectJetStreamEngine({ servers: opts.nats, stream: opts.stream, partitions: opts.partitions, replicas: opts.replicas, name: `seqstream-worker-${id}`, status: say });
    say(`connected to ${opts.nats.join(',')}, stream ${opts.stream}, ${opts.partitions} partitions, lease ${opts.leaseMs} ms${opts.detect ? ', anomaly detector' : ''}`);
    const worker = new ClusterWorker(engine, work, {
      id,
      leaseMs: opts.leaseMs,
      checkpointEveryMs: opts.checkpointMs,
      checkpointEveryEvents: opts.checkpointEvents,
      maxEventBytes: opts.maxEventBytes,
      status: say,
      trace: opts.trace === true,
    });
    worker.start();
    let last = 0;
    const ticker =
      opts.statusMs > 0
        ? setInterval(() => {
            const applied = worker.stats().reduce((s, p) => s + p.applied, 0);
            say(`partitions [${worker.partitions().join(',')}] applied ${applied} (+${applied - last}) dead letters ${worker.stats().reduce((s, p) => s + p.deadLetters, 0)}`);
            last = applied;
          }, opts.statusMs)
        : undefined;
    await new Promise<void>((resolve) => {
      const leave = (): void => {
        process.off('SIGTERM', leave);
        process.off('SIGINT', leave);
        resolve();
      };
      process.on('SIGTERM', leave);
      process.on('SIGINT', leave);
    });
    if (ticker) clearInterval(ticker);
    say('leaving: final checkpoints');
    await worker.stop();
    await engine.close();
    say('stopped');
  });
}

function detectorFlagsGiven(f: DetectorFlags): boolean {
  return f.detectorOptions !== undefined || f.threshold !== undefined || f.learningPeriod !== undefined || f.range !== undefined;
}
