/**
 * Splits a byte stream into lines with a hard length limit, keeping each line's 1-based number
 * and the byte offset of its first byte, so every event can be traced back (and replayed) to
 * the exact place it came from. Shared by the file, readable and TCP sensor sources.
 *
 * Bytes, not characters, are counted: a limit in bytes bounds memory whatever the encoding.
 */
export interface LineSink {
  /** A complete line, without its `\n` (and without a trailing `\r`). */
  line(text: string, lineNumber: number, byteOffset: number): void;
  /** A line longer than the limit: its bytes were dropped; `length` counts them up to the limit or the newline. */
  overlong(lineNumber: number, byteOffset: number, length: number): void;
}

const NEWLINE = 0x0a;
const CR = 0x0d;

export class LineSplitter {
  private parts: Buffer[] = [];
  private partLength = 0;
  /** Discarding the rest of an over-long line until its newline. */
  private skipping = false;
  private skippedLength = 0;
  private lineNumber: number;
  private lineStart: number;
  private offset: number;
  private atStart: boolean;

  constructor(
    private readonly maxLineLength: number,
    private readonly sink: LineSink,
    start: { line?: number; byteOffset?: number } = {},
  ) {
    this.lineNumber = start.line ?? 1;
    this.offset = start.byteOffset ?? 0;
    this.lineStart = this.offset;
    this.atStart = this.offset === 0;
  }

  /** Feeds one chunk; calls the sink for every line it completes. */
  push(chunk: Buffer): void {
    let from = 0;
    while (from < chunk.length) {
      const nl = chunk.indexOf(NEWLINE, from);
      const end = nl === -1 ? chunk.length : nl;
      const piece = end - from;
      if (this.skipping) {
        this.skippedLength += piece;
      } else if (this.partLength + piece > this.maxLineLength + 1) {
        // One byte of slack for the '\r' of a CRLF line; the exact length is checked at the newline.
        this.skipping = true;
        this.skippedLength = this.partLength + piece;
        this.parts = [];
        this.partLength = 0;
      } else if (piece > 0) {
        this.parts.push(chunk.subarray(from, end));
        this.partLength += piece;
      }
      this.offset += piece;
      if (nl === -1) break;
      this.offset += 1;
      this.finishLine();
      from = nl + 1;
    }
  }

  /** Flushes a last line that has no trailing newline. */
  end(): void {
    if (this.skipping || this.partLength > 0) this.finishLine();
  }

  /** Next byte offset to be read: where a replay would resume. */
  get position(): { line: number; byteOffset: number } {
    return { line: this.lineNumber, byteOffset: this.lineStart };
  }

  private finishLine(): void {
    const lineNumber = this.lineNumber;
    const byteOffset = this.lineStart;
    this.lineNumber += 1;
    this.lineStart = this.offset;
    if (this.skipping) {
      this.skipping = false;
      this.atStart = false;
      const length = this.skippedLength;
      this.skippedLength = 0;
      this.sink.overlong(lineNumber, byteOffset, length);
      return;
    }
    let buf = this.parts.length === 1 ? this.parts[0] : Buffer.concat(this.parts, this.partLength);
    this.parts = [];
    this.partLength = 0;
    let start = byteOffset;
    // A UTF-8 byte order mark at the very start of a source is not data.
    if (this.atStart) {
      this.atStart = false;
      if (buf.length >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) {
        buf = buf.subarray(3);
        start += 3;
      }
    }
    if (buf.length > 0 && buf[buf.length - 1] === CR) buf = buf.subarray(0, buf.length - 1);
    if (buf.length > this.maxLineLength) {
      this.sink.overlong(lineNumber, start, buf.length);
      return;
    }
    this.sink.line(buf.toString('utf8'), lineNumber, start);
  }
}
