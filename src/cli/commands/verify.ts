import { describeStepEngine } from '../../kernels/autoStepper.js';
import { gatesKernelModule } from '../../kernels/gatesKernel.js';
import { Option, type Command } from 'commander';
import { type CliContext, UsageError, startBackend, withBackendOption } from '../cliContext.js';
import { formatVerifyLine, formatVerifySummary, verifyFixtures } from '../verify.js';

/**
 * `seqstream verify <file-or-folder>...`: checks PyTorch reference fixtures on this build; exit 1
 * when any fails.
 *
 * @example
 * ```ts
 * registerVerify(program, ctx); // seqstream verify test/fixtures/pytorch --engine fused
 * ```
 */
export function registerVerify(program: Command, ctx: CliContext): void {
  withBackendOption(
    program
      .command('verify')
      .description('check PyTorch reference fixtures (see the fixtures README) on this build')
      .argument('[paths...]', 'fixture files or folders')
      .addOption(new Option('--engine <name>', 'compute path(s) to check').choices(['fused', 'tfjs', 'all']).default('all')),
  ).action(async (paths: string[], opts: { engine: 'fused' | 'tfjs' | 'all'; backend?: string }) => {
    if (paths.length === 0) throw new UsageError('give at least one fixture file or folder');
    const backend = await startBackend(ctx, opts.backend);
    const engines: Array<'fused' | 'tfjs'> = opts.engine === 'all' ? ['fused', 'tfjs'] : [opts.engine];
    ctx.out(`backend ${backend}; engines ${engines.join(', ')}`);
    ctx.out(describeStepEngine(gatesKernelModule() !== null));
    const lines = verifyFixtures(paths, { engines, onLine: (line) => ctx.out(formatVerifyLine(line)) });
    ctx.out(formatVerifySummary(lines));
    ctx.exitCode = lines.some((l) => l.status === 'fail') ? 1 : 0;
  });
}
