import { SingleBar } from 'cli-progress';

/** A progress display for `seqstream detect`: bytes read of all inputs, files, rows and rows/s. */
export interface DetectProgress {
  /** Bytes of the current file read so far (its byte offset), rows scored so far in it. */
  update(fileBytes: number, rows: number): void;
  /** The current file is done. */
  fileDone(size: number): void;
  stop(): void;
}

/**
 * A bar on stderr (files, rows/s, ETA) when `enabled`, else a display that draws nothing; the
 * caller passes `enabled = stderr is a TTY and not --quiet`. Redrawn at most every 100 ms.
 *
 * @example
 * ```ts
 * const progress = createDetectProgress(process.stderr.isTTY === true, 2, 10_000);
 * progress.update(5_000, 120); progress.fileDone(6_000); progress.stop();
 * ```
 */
export function createDetectProgress(enabled: boolean, files: number, totalBytes: number): DetectProgress {
  if (!enabled) return { update() {}, fileDone() {}, stop() {} };
  const bar = new SingleBar({
    format: 'detect |{bar}| {percentage}% | file {file}/{files} | {rows} rows | {rate} rows/s | ETA {eta_formatted}',
    stream: process.stderr,
    fps: 10,
    hideCursor: false,
    clearOnComplete: false,
  });
  const start = performance.now();
  let doneBytes = 0;
  let doneFiles = 0;
  let doneRows = 0;
  let rows = 0;
  bar.start(Math.max(1, totalBytes), 0, { file: 1, files, rows: 0, rate: 0 });
  const draw = (bytes: number) => {
    const all = doneRows + rows;
    const seconds = (performance.now() - start) / 1000;
    bar.update(doneBytes + bytes, { file: Math.min(files, doneFiles + 1), files, rows: all, rate: seconds > 0 ? Math.round(all / seconds) : 0 });
  };
  return {
    update(fileBytes, fileRows) {
      rows = fileRows;
      if (fileRows % 512 === 0) draw(fileBytes);
    },
    fileDone(size) {
      doneBytes += size;
      doneFiles++;
      doneRows += rows;
      rows = 0;
      draw(0);
    },
    stop() {
      bar.stop();
    },
  };
}
