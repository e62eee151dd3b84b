import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { gatesKernelCompiler } from '../../src/kernels/gatesKernel.wasm.js';
import { ciPrerequisite } from '../support/prerequisites.js';

const clang = spawnSync('clang', ['--version'], { encoding: 'utf8' });
const wasmLd = spawnSync('wasm-ld', ['--version'], { encoding: 'utf8' });
const clangVersion = clang.status === 0 ? clang.stdout.split('\n')[0].trim() : null;
const skipReason =
  clangVersion === null || wasmLd.status !== 0
    ? 'clang or wasm-ld (lld) not installed'
    : clangVersion !== gatesKernelCompiler
      ? `installed '${clangVersion}' differs from '${gatesKernelCompiler}' that built the embedded kernel, so bytes may differ`
      : null;
// A missing compiler under CI=true fails (.ci/run installs clang and lld); another clang version skips.
if (clangVersion === null || wasmLd.status !== 0) ciPrerequisite(false, 'embedded gatesKernel rebuild check', 'clang or wasm-ld (lld) is not installed');
else if (skipReason) console.warn(`embedded kernel rebuild check skipped: ${skipReason}`);

describe.skipIf(skipReason !== null)('embedded gatesKernel.wasm.ts', () => {
  it('is exactly what tools/build-kernels.sh builds from gatesKernel.c', () => {
    const r = spawnSync('sh', ['tools/build-kernels.sh', '--check', 'gatesKernel'], { encoding: 'utf8' });
    expect(r.stderr + r.stdout).toContain('up to date');
    expect(r.status).toBe(0);
  });
});
