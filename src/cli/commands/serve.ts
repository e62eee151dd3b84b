import { Option, type Command } from 'commander';
import { type CliContext, parseInteger, parseList, parseNumber, startBackend, UsageError, withBackendOption } from '../cliContext.js';
import { type ModelFlags, modelFromFlags, withModelOptions } from '../modelOptions.js';
import type { ServeSourceOptions } from '../serveSources.js';

interface ServeFlags extends ModelFlags, Pick<ServeSourceOptions, 'demo' | 'input' | 'tcp' | 'mqtt' | 'topics' | 'ws' | 'format' | 'key' | 'value'> {
  timestamp?: string;
  detect?: boolean;
  threshold?: number;
  port: number;
  host: string;
  token?: string;
  events?: number;
  intervalMs: number;
  historyPoints?: number;
  maxKeys?: number;
  backend?: string;
}

/**
 * `seqstream serve`: a live source through a model to the dashboard page (`--demo` for the
 * embedded multi-sensor plant, which is what `npm start` runs). Prints `dashboard: <url>` on
 * stderr, a summary line every 2 s and one line per alert; runs until Ctrl-C or `--events N`.
 *
 * @example
 * ```ts
 * registerServe(program, ctx); // seqstream serve --demo --port 8080
 * ```
 */
export function registerServe(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('serve')
    .description('live streams -> a model -> anomaly scores on a local web page (npm start: --demo)')
    .option('--demo', 'the embedded multi-sensor demo (6 sensors, injected faults)')
    .option('--input <path>', "NDJSON/CSV file, a folder of them, or '-' for stdin")
    .option('--tcp <port>', 'listen for sensors on this TCP port', parseInteger(0))
    .option('--mqtt <url>', 'read MQTT topics from this broker (needs --topics)')
    .option('--topics <list>', 'MQTT topic filters, comma-separated', parseList)
    .option('--ws <port>', 'listen for {"x":[...]} websocket messages on this port', parseInteger(0))
    .addOption(new Option('--format <name>', 'line format (default: from the file extension, else ndjson)').choices(['ndjson', 'csv']))
    .option('--key <field>', 'field naming the stream (default: one stream per file/connection/topic key)')
    .option('--value <fields>', 'field(s) holding the reading, comma-separated (default value)', parseList)
    .option('--timestamp <field>', 'timestamp field (default timestamp for files, arrival time otherwise)')
    .option('--detect', 'score with the anomaly detector (one per key; scores in [0, 1), alert at --threshold, default 0.6)')
    .option('--threshold <score>', 'score above which an event is an alert (default 0.6 with --detect or --demo, none otherwise)', parseNumber(0, true))
    .option('--port <n>', 'dashboard port (0: any free port)', parseInteger(0), 0)
    .option('--host <address>', 'dashboard address (anything but loopback needs --token)', '127.0.0.1')
    .option('--token <secret>', 'secret the page URL must carry (?token=...)')
    .option('--events <n>', 'stop after this many readings (default: run until Ctrl-C)', parseInteger(1))
    .option('--interval-ms <ms>', 'demo: milliseconds between steps (0: as fast as possible)', parseNumber(0), 50)
    .option('--history-points <n>', 'points kept per stream (default 300)', parseInteger(2))
    .option('--max-keys <n>', 'streams kept (default 20000)', parseInteger(1));
  withBackendOption(withModelOptions(cmd)).action(async (opts: ServeFlags) => {
    if (opts.detect && opts.model) throw new UsageError('give --model or --detect, not both (the detector has its own forecaster)');
    if (opts.port > 65535) throw new UsageError(`--port must be at most 65535, received ${opts.port}`);
    await startBackend(ctx, opts.backend);
    const model = modelFromFlags(opts);
    // Loaded when used: the dashboard, detector and sources stay out of every other command's start-up.
    const { runServe } = await import('../serveCommand.js');
    const controller = new AbortController();
    const stop = () => controller.abort();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    try {
      await runServe(
        {
          demo: opts.demo, input: opts.input, tcp: opts.tcp, mqtt: opts.mqtt, topics: opts.topics, ws: opts.ws,
          format: opts.format, key: opts.key, value: opts.value, timestamp: opts.timestamp,
          detect: opts.detect, model, modelDescription: model ? `${model.config.cell.toUpperCase()} ${model.config.inputSize}→${model.config.hiddenSize}${model.config.head ? `→${model.config.head.outputSize}` : ''} from ${opts.model}` : undefined,
          threshold: opts.threshold, port: opts.port, host: opts.host, token: opts.token,
          events: opts.events, intervalMs: opts.intervalMs, historyPoints: opts.historyPoints, maxKeys: opts.maxKeys,
          signal: controller.signal,
        },
        ctx.err,
      );
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    }
  });
}
