import { Option, type Command } from 'commander';
import { type CliContext, parseInteger, parseList, startBackend, withBackendOption } from '../cliContext.js';
import { type ModelFlags, modelFromFlags, withModelOptions } from '../modelOptions.js';
import { runStreamCommand } from '../streamCommand.js';

interface StreamFlags extends ModelFlags {
  format: 'ndjson' | 'csv';
  key?: string;
  value?: string[];
  maxKeys?: number;
  emit?: 'output' | 'hidden' | 'all';
  pass?: string[];
  backend?: string;
}

/**
 * `seqstream stream --model FILE`: NDJSON or CSV lines on stdin → one recurrent state per key →
 * `{"key","line","y"}` per line on stdout (`--emit`, `--pass` fields); bad lines are reported on stderr with their code.
 *
 * @example
 * ```ts
 * registerStream(program, ctx); // seqstream stream --model m.json --key sensor --value x < in.ndjson
 * ```
 */
export function registerStream(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('stream')
    .description('NDJSON (or CSV) lines on stdin -> one state per --key -> {"key","y"} per line')
    .addOption(new Option('--format <name>', 'input format').choices(['ndjson', 'csv']).default('ndjson'))
    .option('--key <field>', 'field naming the stream (default: one stream, key "stdin"); NDJSON keys keep their type: 1 and "1" are two streams')
    .option('--value <fields>', 'field(s) holding the input vector, comma-separated (default x)', parseList)
    .option('--max-keys <n>', 'most live keys (default 100000)', parseInteger(1))
    .addOption(new Option('--emit <what>', 'output: head output as "y"; hidden: top-layer state as "h"; all: both (default: output with a head, else hidden)').choices(['output', 'hidden', 'all']))
    .option('--pass <fields>', 'input fields copied into each output line, comma-separated (e.g. timestamp,id); "line" is always there', parseList)
    .addHelpText('after', '\nOutput: {"key":...,"line":<input line>,<--pass fields>,"y":[...]} per accepted line.');
  withBackendOption(withModelOptions(cmd, true)).action(async (opts: StreamFlags) => {
    await startBackend(ctx, opts.backend);
    const model = modelFromFlags(opts);
    const summary = await runStreamCommand(
      { model: model!, format: opts.format, key: opts.key, value: opts.value, maxKeys: opts.maxKeys, emit: opts.emit, pass: opts.pass },
      process.stdin,
      ctx.out,
      ctx.err,
    );
    ctx.err(`seqstream stream: ${summary.events} events out, ${summary.rejected} rejected`);
  });
}
