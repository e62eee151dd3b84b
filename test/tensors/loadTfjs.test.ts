import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
/** Runs a fixture in its own Node process (tfjs is process-global), resolving even on failure. */
const child = (name: string, args: string[] = []) =>
  run(process.execPath, ['--import', 'tsx', fixture(name), ...args], { env: { ...process.env, SEQSTREAM_BACKEND: '' } }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e) => ({ code: e.code as number, stdout: String(e.stdout), stderr: String(e.stderr) }),
  );

describe('TensorFlow.js loads only on demand', () => {
  it('importing cells, streams and training loads no tfjs; its paths say how to load it; initBackend does', async () => {
    const r = await child('importWithoutTfjs.ts');
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.atImport).toBe(0);
    expect(report.loadedAtImport).toBe(false);
    expect(report.recurrentByKey).toBe('function');
    expect(report.before).toEqual({
      runSequence: 'SEQ_TFJS_NOT_LOADED',
      recurrent: 'SEQ_TFJS_NOT_LOADED',
      trainOnline: 'SEQ_TFJS_NOT_LOADED',
      tbptt: 'SEQ_TFJS_NOT_LOADED',
      currentBackend: 'SEQ_TFJS_NOT_LOADED',
      fused: 'ok',
    });
    expect(report.afterFused).toBe(0);
    expect(report.backend).toBe('cpu');
    expect(report.afterInit).toBeGreaterThan(0);
    expect(report.loadedAfterInit).toBe(true);
    expect(report.maxDiff).toBeLessThan(1e-5);
    expect(report.after).toEqual({ recurrent: 'ok', tbptt: 'ok' });
  }, 60_000);

  it('silences the "install tfjs-node" hint where tfjs-node cannot load', async () => {
    const r = await child('importWithoutTfjs.ts');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).backend).toBe('cpu'); // the backend that prints the hint
    expect(r.stderr).not.toMatch(/looks like you are running TensorFlow\.js in Node/);
  }, 60_000);
});

describe('initBackend leaves the process error handling alone', () => {
  it.each(['wasm', 'cpu'])("a user's uncaught error after initBackend('%s') exits 1 with the user's message", async (backend) => {
    const r = await child('throwAfterInitBackend.ts', [backend]);
    expect(r.stderr).toContain(`backend ${backend}`);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('Error: the user failure, uncaught');
    expect(r.stderr).not.toContain('tfjs-backend-wasm');
  }, 60_000);

  it("a user's unhandled rejection after initBackend('wasm') exits 1 with the user's message", async () => {
    const r = await child('throwAfterInitBackend.ts', ['wasm', 'rejection']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('the user rejection, unhandled');
    expect(r.stderr).not.toContain('tfjs-backend-wasm');
  }, 60_000);
});
