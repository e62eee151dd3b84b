import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Compiles every file of `src/` to JavaScript the way `npm run build` does (TypeScript with
 * tsconfig.build.json's options, one file at a time: the project uses `isolatedModules`, so the
 * output is the same), into a fresh folder under `node_modules/.cache` so the package's own
 * dependencies resolve from it. Returns the folder (the counterpart of `dist/`) and a cleanup.
 *
 * @example
 * ```ts
 * const { dir, remove } = compileSource();
 * spawnSync(process.execPath, [join(dir, 'child.mjs')]);
 * remove();
 * ```
 */
export function compileSource(): { dir: string; remove: () => void } {
  const configPath = join(root, 'tsconfig.build.json');
  const parsed = ts.getParsedCommandLineOfConfigFile(configPath, {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: (d) => { throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n')); } });
  if (!parsed) throw new Error('tsconfig.build.json did not parse');
  // NodeNext emits ESM here because package.json says "type": "module"; transpileModule cannot see
  // package.json, so it is told the module format directly.
  const options: ts.CompilerOptions = { ...parsed.options, module: ts.ModuleKind.ES2022, moduleResolution: undefined, declaration: false, sourceMap: false, noEmit: false };
  const cache = join(root, 'node_modules', '.cache');
  mkdirSync(cache, { recursive: true });
  const dir = mkdtempSync(join(cache, 'seqstream-compiled-'));
  const src = join(root, 'src');
  const walk = (at: string): void => {
    for (const entry of readdirSync(at, { withFileTypes: true })) {
      const path = join(at, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) {
        const out = ts.transpileModule(readFileSync(path, 'utf8'), { compilerOptions: options, fileName: path });
        const target = join(dir, relative(src, path)).replace(/\.ts$/, '.js');
        mkdirSync(dirname(target), { recursive: true });
        writeFileSync(target, out.outputText);
      }
    }
  };
  walk(src);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
