import madge from 'madge';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));

describe('import graph of src/', () => {
  it('has no import cycle (type-only imports count too)', async () => {
    // The TypeScript parser madge uses warns about its own AST API on `typeof import(...)`.
    const quiet = process.noDeprecation;
    process.noDeprecation = true;
    const graph = await madge(`${root}src`, {
      baseDir: root,
      fileExtensions: ['ts'],
      tsConfig: `${root}tsconfig.json`,
      detectiveOptions: { ts: { skipTypeImports: false } },
    }).finally(() => {
      process.noDeprecation = quiet;
    });
    // Sanity: the walk resolved the `.js` specifiers to the `.ts` files (else every file is a leaf).
    const deps = graph.obj();
    expect(deps['src/kernels/fusedStepper.ts']).toContain('src/kernels/wasmStepper.ts');
    expect(graph.warnings().skipped).toEqual([]);
    expect(graph.circular()).toEqual([]);
  });
});
