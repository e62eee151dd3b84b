import type { Command } from 'commander';
import { initBackend, type BackendName } from '../../tensors/backend.js';
import { type CliContext, withBackendOption } from '../cliContext.js';

/**
 * `seqstream backend`: prints the tfjs backend in use.
 *
 * @example
 * ```ts
 * registerBackend(program, ctx); // seqstream backend --backend cpu
 * ```
 */
export function registerBackend(program: Command, ctx: CliContext): void {
  withBackendOption(program.command('backend').description('print the tfjs backend in use')).action(async (opts: { backend?: string }) => {
    ctx.out(await initBackend(opts.backend as BackendName | undefined));
  });
}
