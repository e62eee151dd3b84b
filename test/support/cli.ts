import { spawn, spawnSync } from 'node:child_process';
import { ciPrerequisite } from './prerequisites.js';

/** Runs the CLI (`tsx src/cli/main.ts`) as a child process with `input` on stdin; resolves with exit code, stdout lines and stderr. */
export function runCli(args: string[], input: Buffer | string = ''): Promise<{ code: number; lines: string[]; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { env: { ...process.env, SEQSTREAM_BACKEND: 'cpu' } });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, lines: out.split('\n').filter(Boolean), stderr: err }));
    child.stdin.on('error', () => {}); // the child may exit before reading all of stdin
    child.stdin.end(input);
  });
}

/**
 * Whether the command-line tools `names` run here (see `ciPrerequisite`: missing is a failure
 * under `CI=true`, where `.ci/run` installs them, and a visible skip otherwise).
 */
export function haveTools(names: string[], why: string): boolean {
  const missing = names.filter((n) => spawnSync(n, ['--version'], { stdio: 'ignore' }).error);
  return ciPrerequisite(missing.length === 0, why, `${missing.join(', ')} not installed (apt-get install ${missing.join(' ')})`);
}
