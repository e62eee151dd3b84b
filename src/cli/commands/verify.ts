import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describeStepEngine } from '../../kernels/autoStepper.js';
import { gatesKernelModule } from '../../kernels/gatesKernel.js';
import { Option, type Command } from 'commander';
import { type CliContext, UsageError, startBackend, withBackendOption } from '../cliContext.js';
import { formatVerifyLine, formatVerifySummary, verifyFixtures } from '../verify.js';

/**
 * The PyTorch fixtures that ship with seqstream: `test/fixtures/pytorch` of the repository, or of
 * the installed package (which carries the forward, stream-chunk and safetensors fixtures). This
 * file sits three levels below the package root both as source and as the build in `dist/`.
 *
 * @example
 * ```ts
 * verifyFixtures([bundledFixtures()]);
 * ```
 */
export function bundledFixtures(): string {
  return fileURLToPath(new URL('../../../test/fixtures/pytorch', import.meta.url));
}

/**
 * `seqstream verify <file-or-folder>...`: checks PyTorch reference fixtures on this build; exit 1
 * when any fails.
 *
 * @example
 * ```ts
 * registerVerify(program, ctx); // seqstream verify test/fixtures/pytorch --engine fused; seqstream verify --self-test
 * ```
 */
export function registerVerify(program: Command, ctx: CliContext): void {
  withBackendOption(
    program
      .command('verify')
      .description('check PyTorch reference fixtures (see the fixtures README) on this build')
      .argument('[paths...]', 'fixture files or folders')
      .option('--self-test', 'check the PyTorch fixtures that ship with seqstream (works from an installed package)')
      .addOption(new Option('--engine <name>', 'compute path(s) to check').choices(['fused', 'tfjs', 'all']).default('all')),
  ).action(async (given: string[], opts: { engine: 'fused' | 'tfjs' | 'all'; selfTest?: boolean; backend?: string }) => {
    const paths = [...given];
    if (opts.selfTest) {
      const bundled = bundledFixtures();
      if (!existsSync(bundled)) throw new UsageError(`--self-test: the bundled fixtures are missing at ${bundled}`);
      paths.push(bundled);
    }
    if (paths.length === 0) throw new UsageError('give at least one fixture file or folder, or --self-test');
    const backend = await startBackend(ctx, opts.backend);
    const engines: Array<'fused' | 'tfjs'> = opts.engine === 'all' ? ['fused', 'tfjs'] : [opts.engine];
    ctx.out(`backend ${backend}; engines ${engines.join(', ')}`);
    ctx.out(describeStepEngine(gatesKernelModule() !== null));
    const lines = verifyFixtures(paths, { engines, onLine: (line) => ctx.out(formatVerifyLine(line)) });
    ctx.out(formatVerifySummary(lines));
    ctx.exitCode = lines.some((l) => l.status === 'fail') ? 1 : 0;
  });
}
