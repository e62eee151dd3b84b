import { spawn, spawnSync } from 'node:child_process';

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
 * Whether the command-line tools `names` run here. Missing tools are a failure under `CI=true`
 * (`.ci/run` installs them) and a visible skip otherwise.
 */
export function haveTools(names: string[], why: string): boolean {
  const missing = names.filter((n) => spawnSync(n, ['--version'], { stdio: 'ignore' }).error);
  if (missing.length === 0) return true;
  if (process.env.CI === 'true') throw new Error(`CI=true but ${missing.join(', ')} missing: .ci/run installs them (${why})`);
  console.warn(`[skip] ${why}: ${missing.join(', ')} not installed (apt-get install ${missing.join(' ')})`);
  return false;
}
