import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const here = fileURLToPath(new URL('.', import.meta.url));
const hide = join(here, '..', 'support', 'hideOnnxRuntime.cjs');
const probe = join(here, 'fixtures', 'nativeFallbackProbe.ts');

interface ProbeResult {
  kind: string;
  maxDiff: number;
  status: { available: boolean; reason?: string };
  nativeError: string | null;
  keyedError: string | null;
  line: string;
}

async function probeWith(mode: 'missing' | 'broken' | 'none'): Promise<ProbeResult> {
  const preload = mode === 'none' ? [] : ['--require', hide];
  const { stdout } = await run(process.execPath, [...preload, '--import', 'tsx', probe], {
    env: { ...process.env, SEQSTREAM_HIDE_ORT: mode, SEQSTREAM_ENGINE: '' },
    timeout: 60_000,
  });
  return JSON.parse(stdout.trim().split('\n').pop() as string) as ProbeResult;
}

describe('without onnxruntime-node the automatic engine falls back to WebAssembly', () => {
  it('(control: with it installed and not hidden, the same batch goes native)', async (t) => {
    const r = await probeWith('none');
    if (!r.status.available) {
      if (process.env.CI === 'true') throw new Error(`CI must have onnxruntime-node: ${r.status.reason}`);
      t.skip();
    }
    expect(r.kind).toBe('wasm-simd+onnxruntime');
    expect(r.maxDiff).toBeLessThan(1e-5);
    expect(r.keyedError).toBeNull();
  }, 60_000);

  it('when it is not installed', async () => {
    const r = await probeWith('missing');
    expect(r.status.available).toBe(false);
    expect(r.status.reason).toContain('not installed');
    // The 256-row batch (5.5M multiply-adds) would have gone native; it ran on wasm and is right.
    expect(r.kind).toBe('wasm-simd');
    expect(r.maxDiff).toBeLessThan(1e-5);
    expect(r.nativeError).toMatch(/^SEQ_ENGINE_UNAVAILABLE: .*not installed/);
    expect(r.keyedError).toBe('SEQ_ENGINE_UNAVAILABLE'); // recurrentByKey(model, { engine: 'native' }) throws at creation
    expect(r.line).toContain('no native engine');
  }, 60_000);

  it('when its native library fails to load', async () => {
    const r = await probeWith('broken');
    expect(r.status.available).toBe(false);
    expect(r.status.reason).toContain('failed to load: libonnxruntime.so.1');
    expect(r.kind).toBe('wasm-simd');
    expect(r.maxDiff).toBeLessThan(1e-5);
    expect(r.nativeError).toMatch(/^SEQ_ENGINE_UNAVAILABLE: .*failed to load/);
  }, 60_000);
});
