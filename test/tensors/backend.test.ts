import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { availableBackends, currentBackend, initBackend } from '../../src/tensors/backend.js';

const run = promisify(execFile);
const cli = (args: string[], env: Record<string, string>) =>
  run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { env: { ...process.env, ...env } }).then(
    (r) => ({ code: 0, out: r.stdout + r.stderr }),
    (e) => ({ code: e.code as number, out: `${e.stdout}${e.stderr}` }),
  );

describe('backend selection', () => {
  it('finds wasm and cpu here and switches between them', async () => {
    const available = await availableBackends();
    expect(available).toEqual(expect.arrayContaining(['wasm', 'cpu']));
    expect(await initBackend('cpu')).toBe('cpu');
    expect(currentBackend()).toBe('cpu');
    expect(await initBackend('wasm')).toBe('wasm');
    expect(currentBackend()).toBe('wasm');
  });

  it('picks the first that loads when nothing is asked for', async () => {
    const name = await initBackend(undefined);
    const available = await availableBackends();
    expect(name).toBe(available[0]);
  });

  it('rejects unknown names and unavailable backends with codes', async () => {
    await expect(initBackend('gpu' as never)).rejects.toMatchObject({ code: 'SEQ_INVALID_OPTION' });
    const available = await availableBackends();
    if (!available.includes('tensorflow')) {
      await expect(initBackend('tensorflow')).rejects.toMatchObject({ code: 'SEQ_BACKEND_UNAVAILABLE' });
    }
  });

  it('the CLI honours SEQSTREAM_BACKEND and prints the backend', async () => {
    expect((await cli(['backend'], { SEQSTREAM_BACKEND: 'cpu' })).out).toMatch(/^cpu$/m);
    expect((await cli(['backend'], { SEQSTREAM_BACKEND: 'wasm' })).out).toMatch(/^wasm$/m);
    const bad = await cli(['backend'], { SEQSTREAM_BACKEND: 'quantum' });
    expect(bad.code).toBe(1); // the machine's set-up, not a usage error
    expect(bad.out).toContain('SEQ_INVALID_OPTION');
  }, 60_000);
});
