import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { gatesKernelCompiler } from '../../src/kernels/gatesKernel.wasm.js';
import { gatesKernelRelaxedCompiler } from '../../src/kernels/gatesKernelRelaxed.wasm.js';
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

// The relaxed-SIMD build needs clang-16 (clang 14 emits pre-standard relaxed opcodes); .ci/run installs it.
const clang16 = spawnSync('clang-16', ['--version'], { encoding: 'utf8' });
const wasmLd16 = spawnSync('wasm-ld-16', ['--version'], { encoding: 'utf8' });
const clang16Version = clang16.status === 0 ? clang16.stdout.split('\n')[0].trim() : null;
const skipRelaxed =
  clang16Version === null || wasmLd16.status !== 0
    ? 'clang-16 or wasm-ld-16 (lld-16) not installed'
    : clang16Version !== gatesKernelRelaxedCompiler
      ? `installed '${clang16Version}' differs from '${gatesKernelRelaxedCompiler}' that built the embedded relaxed kernel, so bytes may differ`
      : null;
if (clang16Version === null || wasmLd16.status !== 0) ciPrerequisite(false, 'embedded gatesKernelRelaxed rebuild check', 'clang-16 or wasm-ld-16 (lld-16) is not installed');
else if (skipRelaxed) console.warn(`embedded relaxed kernel rebuild check skipped: ${skipRelaxed}`);

describe.skipIf(skipRelaxed !== null)('embedded gatesKernelRelaxed.wasm.ts', () => {
  it('is exactly what tools/build-kernels.sh builds from gatesKernel.c with relaxed SIMD', () => {
    const r = spawnSync('sh', ['tools/build-kernels.sh', '--check', 'gatesKernelRelaxed'], { encoding: 'utf8' });
    expect(r.stderr + r.stdout).toContain('up to date');
    expect(r.status).toBe(0);
  });
});
