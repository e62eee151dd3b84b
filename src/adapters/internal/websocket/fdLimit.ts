import { readFileSync } from 'node:fs';

/** File descriptors kept free for everything else the process opens (files, stores, brokers). */
export const FD_RESERVE = 64;

/**
 * The process's soft limit on open files (`ulimit -n`), read from `/proc/self/limits`, or
 * `undefined` where it cannot be read (not Linux) or is unlimited.
 *
 * @example
 * ```ts
 * openFileLimit(); // 1024 on a default shell
 * ```
 */
export function openFileLimit(): number | undefined {
  let text: string;
  try {
    text = readFileSync('/proc/self/limits', 'utf8');
  } catch {
    return undefined;
  }
  const m = /^Max open files\s+(\d+|unlimited)/m.exec(text);
  return m && m[1] !== 'unlimited' ? Number(m[1]) : undefined;
}

/**
 * Caps a connection limit below the open-file limit (less {@link FD_RESERVE}) and says so with a
 * process warning (`SEQ_WS_FD_LIMIT`): past the limit, accept() fails and clients would see a bare
 * TCP close instead of the documented 503.
 *
 * @example
 * ```ts
 * capConnections(1024, 1024); // 960, with a warning
 * ```
 */
export function capConnections(maxConnections: number, limit: number | undefined = openFileLimit()): number {
  if (limit === undefined || maxConnections + FD_RESERVE <= limit) return maxConnections;
  const capped = Math.max(1, limit - FD_RESERVE);
  process.emitWarning(
    `websocketServer: maxConnections ${maxConnections} is capped to ${capped}: the open-file limit is ${limit} (ulimit -n) and ${FD_RESERVE} descriptors stay free. Raise the limit to serve more.`,
    { code: 'SEQ_WS_FD_LIMIT' },
  );
  return capped;
}
