/**
 * Runs every benchmark in this folder: `npm run bench` (add `-- --quick` for a short run,
 * `-- --only latency,keyed` for some). Each prints its own table with in-run baselines.
 */
import { existsSync } from 'node:fs';

const ALL = ['latency', 'kernel', 'relaxed', 'keyed', 'keyedBatch', 'nativeGraphs', 'train', 'audio', 'tag', 'sensors', 'websocket', 'dashboard', 'importTime', 'cluster', 'clusterPublish', 'detect'];
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const onlyArg = args.find((a) => a.startsWith('--only'));
const only = onlyArg ? (onlyArg.includes('=') ? onlyArg.split('=')[1] : args[args.indexOf(onlyArg) + 1]).split(',') : ALL;

const failed: string[] = [];
for (const name of only) {
  const file = new URL(`./${name}.ts`, import.meta.url);
  if (!existsSync(file)) {
    console.log(`bench/${name}: not present, skipped`);
    continue;
  }
  console.log(`\n=== bench/${name} ===`);
  try {
    const mod = (await import(file.href)) as { run: (o: { quick?: boolean }) => Promise<void> };
    await mod.run({ quick });
  } catch (err) {
    // One broken benchmark must not hide the others' figures.
    failed.push(name);
    console.error(`bench/${name} failed: ${(err as Error).stack ?? err}`);
  }
}
if (failed.length) {
  console.error(`\nfailed: ${failed.join(', ')}`);
  process.exitCode = 1;
}
