import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';

async function run(argv: string[]): Promise<{ code: number; out: string[]; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, (s) => out.push(s), (s) => err.push(s));
  return { code, out, err: err.join('\n') };
}

describe('seqstream command-line conventions', () => {
  it('prints help on stderr, never on stdout, and exits 0 for --help', async () => {
    const r = await run(['--help']);
    expect(r.code).toBe(0);
    expect(r.out).toEqual([]);
    expect(r.err).toContain('Usage: seqstream');
    for (const command of ['verify', 'demo', 'audio', 'stream', 'backend']) expect(r.err).toContain(command);
  });

  it('gives each command its own --help', async () => {
    const r = await run(['stream', '--help']);
    expect(r.code).toBe(0);
    expect(r.out).toEqual([]);
    expect(r.err).toContain('Usage: seqstream stream');
    expect(r.err).toContain('--max-keys');
    expect(r.err).not.toContain('--interval-ms');
  });

  it('exits 2 for a flag that belongs to another command, naming it on stderr', async () => {
    const r = await run(['demo', '--wav', 'x.wav']);
    expect(r.code).toBe(2);
    expect(r.out).toEqual([]);
    expect(r.err).toContain("unknown option '--wav'");
  });

  it('exits 2 for a bad --backend and names the flag, not the environment variable', async () => {
    const r = await run(['backend', '--backend', 'foo']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('--backend');
    expect(r.err).not.toContain('SEQSTREAM_BACKEND');
  });

  it('exits 2 for a missing argument, naming the command', async () => {
    const r = await run(['verify']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('seqstream verify: SEQ_USAGE');
  });

  it('prints the version on stdout', async () => {
    const r = await run(['--version']);
    expect(r.code).toBe(0);
    expect(r.out).toHaveLength(1);
    expect(r.out[0]).toMatch(/^\d+\.\d+\.\d+$/);
  });
});
