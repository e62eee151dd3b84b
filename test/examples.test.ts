/** Every example in examples/ runs to completion as a user would start it (npx tsx examples/<name>.ts). */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const examples = readdirSync('examples').filter((f) => f.endsWith('.ts'));
const scratch = mkdtempSync(join(tmpdir(), 'seqstream-examples-'));
/** Arguments an example needs so that it writes nowhere but a temp folder. */
const args: Record<string, string[]> = { 'keyed-sensors.ts': [join(scratch, 'keyed-state')] };

describe('examples', () => {
  it('finds the examples', () => expect(examples.length).toBeGreaterThanOrEqual(5));

  it.each(examples)('%s runs and exits 0', async (file) => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', join('examples', file), ...(args[file] ?? [])], {
      env: { ...process.env, SEQSTREAM_BACKEND: 'cpu' },
      timeout: 60_000,
    });
    expect(stdout.trim().length).toBeGreaterThan(0);
  }, 90_000);
});
