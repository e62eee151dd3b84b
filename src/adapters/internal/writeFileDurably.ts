import { open, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * Writes `bytes` to `path` so that a crash at any point leaves either the old file or the new
 * one, never a torn one: write `tmp`, fsync it, rename it over `path`, fsync the directory (the
 * rename is durable only once the directory entry is). `tmp` must be in the same directory. On
 * failure the temp file is removed and the error rethrown. `fsync: false` skips both syncs
 * (faster; safe against process crashes, not power loss).
 */
export async function writeFileDurably(path: string, tmp: string, bytes: Uint8Array | string, fsync = true): Promise<void> {
  try {
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(bytes);
      if (fsync) await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  if (fsync) {
    const dh = await open(dirname(path), 'r');
    try {
      await dh.sync();
    } finally {
      await dh.close();
    }
  }
}

/** Whether a process with this pid is running (a temp file named after a dead one is a crash leftover). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
