import type { Command } from 'commander';
import { initBackend, type BackendName } from '../../tensors/backend.js';
import { describeStepEngine } from '../../kernels/autoStepper.js';
import { gatesKernelModule } from '../../kernels/gatesKernel.js';
import { type CliContext, withBackendOption } from '../cliContext.js';

/**
 * `seqstream backend`: prints the tfjs backend in use (first line) and the fused step engine
 * (second line, e.g. `step engine: auto (wasm-simd below 1M multiply-adds per batch,
 * onnxruntime-node 1.30.0 (LSTM graph: ...) from there, 2 thread(s))`, or why there is no native engine).
 *
 * @example
 * ```ts
 * registerBackend(program, ctx); // seqstream backend --backend cpu
 * ```
 */
export function registerBackend(program: Command, ctx: CliContext): void {
  withBackendOption(program.command('backend').description('print the tfjs backend and the step engine in use')).action(async (opts: { backend?: string }) => {
    ctx.out(await initBackend(opts.backend as BackendName | undefined));
    ctx.out(describeStepEngine(gatesKernelModule() !== null));
  });
}
