import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** One file the dashboard serves, read once at start. */
export interface PageFile {
  body: Buffer;
  contentType: string;
}

/**
 * The folder holding the page (`index.html`, `app.js`, `style.css`). From source (`tsx`) it is
 * `src/dashboard/page/` next to this module's folder; from the compiled package (`dist/...`) it is
 * the same `src/dashboard/page/` folder, shipped in the package's `files`, since tsc copies no
 * non-TypeScript files.
 *
 * @example
 * ```ts
 * pageDirectory(import.meta.url); // '/.../src/dashboard/page'
 * ```
 */
export function pageDirectory(moduleUrl: string): string {
  const candidates = [new URL('../page/', moduleUrl), new URL('../../../src/dashboard/page/', moduleUrl)];
  for (const c of candidates) {
    const dir = fileURLToPath(c);
    if (existsSync(`${dir}index.html`)) return dir.replace(/\/$/, '');
  }
  throw new Error(`dashboard page files not found (looked in ${candidates.map((c) => fileURLToPath(c)).join(', ')})`);
}

/**
 * Reads every file the page needs into memory, by URL path: the page itself and uPlot's script
 * and stylesheet from the installed `uplot` package (no CDN: the page works offline).
 *
 * @example
 * ```ts
 * const files = loadPageFiles(); files.get('/')?.contentType; // 'text/html; charset=utf-8'
 * ```
 */
export function loadPageFiles(moduleUrl: string = import.meta.url): Map<string, PageFile> {
  const dir = pageDirectory(moduleUrl);
  const require = createRequire(moduleUrl);
  const files = new Map<string, PageFile>();
  const add = (path: string, file: string, contentType: string) => files.set(path, { body: readFileSync(file), contentType });
  add('/', `${dir}/index.html`, 'text/html; charset=utf-8');
  add('/app.js', `${dir}/app.js`, 'text/javascript; charset=utf-8');
  add('/chart.js', `${dir}/chart.js`, 'text/javascript; charset=utf-8');
  add('/style.css', `${dir}/style.css`, 'text/css; charset=utf-8');
  add('/vendor/uPlot.iife.min.js', require.resolve('uplot/dist/uPlot.iife.min.js'), 'text/javascript; charset=utf-8');
  add('/vendor/uPlot.min.css', require.resolve('uplot/dist/uPlot.min.css'), 'text/css; charset=utf-8');
  return files;
}
