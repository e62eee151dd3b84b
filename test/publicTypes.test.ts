import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
// Inside node_modules so the emitted .d.ts resolve rxjs, ws and @tensorflow/* as a consumer's would.
const work = join(root, 'node_modules', '.cache', `seqstream-public-types-${process.pid}`);
const dist = join(work, 'dist');

/** The package's entry points as `.d.ts` files, `seqstream/tensors` (typed with tfjs on purpose) aside. */
function entryPoints(): string[] {
  const exportsMap = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).exports as Record<string, string | { types?: string }>;
  return Object.entries(exportsMap).flatMap(([subpath, target]) => {
    const types = typeof target === 'string' ? undefined : target.types;
    if (!types || subpath === './tensors') return [];
    const path = join(work, types);
    if (!path.includes('*')) return [path];
    const dir = dirname(path);
    return readdirSync(dir).filter((f) => f.endsWith('.d.ts')).map((f) => join(dir, f));
  });
}

/** Every module specifier a `.d.ts` file imports, re-exports or references with `import("...")`. */
function specifiers(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)['"]([^'"]+)['"]/g)].map((m) => m[1]!);
}

/** Bare packages reached from `entries` through the emitted declaration files. */
function packagesReached(entries: string[]): Set<string> {
  const seen = new Set<string>();
  const packages = new Set<string>();
  const queue = [...entries];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file) || !existsSync(file)) continue;
    seen.add(file);
    for (const spec of specifiers(file)) {
      if (spec.startsWith('.')) queue.push(resolve(dirname(file), spec.replace(/\.js$/, '.d.ts')));
      else packages.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!);
    }
  }
  return packages;
}

describe("the package's public .d.ts", () => {
  beforeAll(async () => {
    rmSync(work, { recursive: true, force: true });
    // The project build, declarations only and unchecked (npm test type-checks the sources already).
    await run(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json'), '--outDir', dist, '--emitDeclarationOnly', '--noCheck']);
  }, 180_000);
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('reaches no @tensorflow/* or @webgpu/* types from any entry point but seqstream/tensors', () => {
    const entries = entryPoints();
    expect(entries.length).toBeGreaterThan(10);
    const reached = [...packagesReached(entries)];
    expect(reached.filter((p) => p.startsWith('@tensorflow/') || p.startsWith('@webgpu/'))).toEqual([]);
    // The walk does find them where they are: seqstream/tensors is typed with tfjs.
    expect([...packagesReached([join(dist, 'tensors', 'index.d.ts')])]).toContain('@tensorflow/tfjs');
  });

  it('compiles a consumer of cells, streams, kernels, training, text and the root with skipLibCheck: false, 0 errors', async () => {
    const consumer = join(work, 'consumer');
    mkdirSync(consumer, { recursive: true });
    const rooms = ['cells', 'streams', 'kernels', 'training', 'text'];
    const imports = [...rooms.map((r) => `import * as ${r} from '${relative(consumer, join(dist, r, 'index.js'))}';`), `import * as seqstream from '${relative(consumer, join(dist, 'index.js'))}';`];
    writeFileSync(
      join(consumer, 'use.ts'),
      `${imports.join('\n')}
const model: cells.RecurrentModel = cells.RecurrentModel.create({ cell: 'gru', inputSize: 2, hiddenSize: 3 });
const op = streams.recurrent(model, { emit: 'output' });
const stepper: kernels.FusedStepper = kernels.createFusedStepper(model);
const optimizer: training.Optimizer = training.adam({ lr: 0.01 });
const vocab = new text.Vocabulary(['a', 'b']);
const backend: Promise<seqstream.BackendName> = seqstream.initBackend('cpu');
export const used = [op, stepper, optimizer, vocab, backend, seqstream.loadTfjs, seqstream.errorCodes.SEQ_INPUT_SHAPE];
`,
    );
    writeFileSync(
      join(consumer, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, skipLibCheck: false, noEmit: true, types: ['node'] },
        files: ['use.ts'],
      }),
    );
    const result = await run(process.execPath, [tsc, '-p', join(consumer, 'tsconfig.json')]).then(
      () => '',
      (e) => `${e.stdout}${e.stderr}`,
    );
    expect(result.match(/error TS\d+/g) ?? [], result).toEqual([]);
  }, 180_000);
});
