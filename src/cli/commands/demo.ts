import type { Command } from 'commander';
import { initBackend, type BackendName } from '../../tensors/backend.js';
import { type CliContext, parseInteger, parseNumber, withBackendOption } from '../cliContext.js';
import { runDemo } from '../demo.js';

/**
 * `seqstream demo`: a live sensor stream into an LSTM that learns online (what `npm start` runs).
 *
 * @example
 * ```ts
 * registerDemo(program, ctx); // seqstream demo --events 400 --interval-ms 15
 * ```
 */
export function registerDemo(program: Command, ctx: CliContext): void {
  withBackendOption(
    program
      .command('demo')
      .description('a live sensor stream into an LSTM that learns online (npm start)')
      .option('--events <n>', 'number of events', parseInteger(1), 400)
      .option('--interval-ms <ms>', 'milliseconds between events (0: as fast as possible)', parseNumber(0), 15),
  ).action(async (opts: { events: number; intervalMs: number; backend?: string }) => {
    const backend = await initBackend(opts.backend as BackendName | undefined);
    ctx.out(`backend ${backend}`);
    await runDemo({ events: opts.events, intervalMs: opts.intervalMs, print: ctx.out });
  });
}
