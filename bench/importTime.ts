/**
 * How long `import('seqstream/cells')` and `import('seqstream/streams')` take in a fresh Node
 * process, against importing TensorFlow.js itself (the cost they no longer pay) in the same run.
 * Builds the package into node_modules/.cache first (or measures `--dist DIR`), then times each
 * import in its own child process, several runs, and prints the medians.
 *
 * `npx tsx bench/importTime.ts` (add `--runs 9`, `--dist /path/to/dist` to measure another build).
 */
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

function importMs(specifier: string): number {
  const code = `const t = performance.now(); await import(${JSON.stringify(specifier)}); process.stdout.write(String(performance.now() - t));`;
  return Number(execFileSync(process.execPath, ['--input-type=module', '-e', code], { cwd: root, encoding: 'utf8' }));
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** Builds (unless `dist` is given) and prints median import times with TensorFlow.js as the baseline. */
export async function run(options: { quick?: boolean; runs?: number; dist?: string } = {}): Promise<void> {
  const runs = options.runs ?? (options.quick ? 3 : 7);
  let dist = options.dist;
  const built = dist === undefined;
  if (built) {
    dist = join(root, 'node_modules', '.cache', `seqstream-import-bench-${process.pid}`);
    execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.build.json'), '--outDir', dist]);
  }
  const targets: Array<[string, string]> = [
    ['seqstream/cells', pathToFileURL(join(dist!, 'cells', 'index.js')).href],
    ['seqstream/streams', pathToFileURL(join(dist!, 'streams', 'index.js')).href],
    ['@tensorflow/tfjs (baseline)', '@tensorflow/tfjs'],
  ];
  const medians = new Map<string, number>();
  // Interleaved, so load changes on a shared machine hit every target alike.
  const samples = new Map(targets.map(([name]) => [name, [] as number[]]));
  for (let i = 0; i < runs; i++) for (const [name, spec] of targets) samples.get(name)!.push(importMs(spec));
  for (const [name, values] of samples) medians.set(name, median(values));
  const base = medians.get('@tensorflow/tfjs (baseline)')!;
  console.log(`median of ${runs} fresh processes each (time inside the child, around import()):`);
  console.log('| import | median ms | vs tfjs |');
  console.log('|---|---|---|');
  for (const [name, ms] of medians) console.log(`| ${name} | ${ms.toFixed(0)} | ${(ms / base).toFixed(2)}x |`);
  if (built) rmSync(dist!, { recursive: true, force: true });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = process.argv.slice(2);
  const value = (flag: string) => (args.includes(flag) ? args[args.indexOf(flag) + 1] : undefined);
  await run({ quick: args.includes('--quick'), runs: value('--runs') ? Number(value('--runs')) : undefined, dist: value('--dist') });
}
