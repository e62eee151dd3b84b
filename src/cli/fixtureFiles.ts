import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Expands files and folders (recursively) to the `.json` files they hold, sorted, de-duplicated.
 *
 * @example
 * ```ts
 * fixtureFiles(['../shared/fixtures/pytorch']); // ['.../lstm_l1_forward.json', ...]
 * ```
 */
export function fixtureFiles(paths: readonly string[]): string[] {
  const out = new Set<string>();
  const walk = (p: string, top: boolean) => {
    const st = statSync(p);
    if (st.isDirectory()) {
      for (const name of readdirSync(p).sort()) walk(join(p, name), false);
    } else if (top || p.endsWith('.json')) {
      out.add(p);
    }
  };
  for (const p of paths) walk(p, true);
  return [...out];
}
