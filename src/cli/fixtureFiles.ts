import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** One file to verify: `explicit` when it was named on the command line, `error` when it cannot be read. */
export interface FixtureFile {
  path: string;
  explicit: boolean;
  error?: string;
}

/**
 * Expands files and folders (recursively) to the `.json` files they hold, sorted, de-duplicated.
 * A path that cannot be read (missing, broken link, no permission) becomes an entry with `error`
 * instead of stopping the walk.
 *
 * @example
 * ```ts
 * fixtureFiles(['../shared/fixtures/pytorch']); // [{ path: '.../lstm_l1_forward.json', explicit: false }, ...]
 * ```
 */
export function fixtureFiles(paths: readonly string[]): FixtureFile[] {
  const out = new Map<string, FixtureFile>();
  const walk = (p: string, top: boolean) => {
    let isDir: boolean;
    try {
      isDir = statSync(p).isDirectory();
    } catch (err) {
      if (top || p.endsWith('.json')) out.set(p, { path: p, explicit: top, error: (err as Error).message });
      return;
    }
    if (isDir) {
      let names: string[];
      try {
        names = readdirSync(p).sort();
      } catch (err) {
        out.set(p, { path: p, explicit: top, error: (err as Error).message });
        return;
      }
      for (const name of names) walk(join(p, name), false);
    } else if (top || p.endsWith('.json')) {
      out.set(p, { path: p, explicit: top });
    }
  };
  for (const p of paths) walk(p, true);
  return [...out.values()];
}
