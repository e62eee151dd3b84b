/**
 * Cuts a mono sample stream into frames of `bufferSize` samples starting every `hopSize`
 * samples: frame k covers samples [k*hop, k*hop + bufferSize). Holds at most
 * `bufferSize + one pushed block` samples.
 */
export class Framer {
  private buf: Float32Array;
  private length = 0;
  /** Absolute index of buf[0]. */
  private bufStart = 0;
  /** Absolute index of the next frame's first sample. */
  private nextStart = 0;
  /** Samples received so far. */
  private total = 0;
  private emitted = 0;
  private readonly padded: Float32Array;

  constructor(readonly bufferSize: number, readonly hopSize: number) {
    this.buf = new Float32Array(bufferSize * 2);
    this.padded = new Float32Array(bufferSize);
  }

  /** Frames emitted so far (the index of the next frame). */
  get frameCount(): number {
    return this.emitted;
  }

  /** Appends samples and calls `emit` for every frame that became complete (a view, valid during the call). */
  push(samples: ArrayLike<number>, emit: (frame: Float32Array, index: number) => void): void {
    let offset = 0;
    // Samples that fall in a gap (hopSize > bufferSize) before the next frame are never stored.
    const skip = Math.min(samples.length, Math.max(0, this.nextStart - this.total));
    if (skip > 0 && this.length === 0) {
      offset = skip;
      this.total += skip;
      this.bufStart = this.total;
    }
    const n = samples.length - offset;
    this.ensureCapacity(this.length + n);
    for (let i = 0; i < n; i++) this.buf[this.length + i] = samples[offset + i];
    this.length += n;
    this.total += n;
    const N = this.bufferSize;
    while (this.nextStart + N <= this.total) {
      const s = this.nextStart - this.bufStart;
      emit(this.buf.subarray(s, s + N), this.emitted++);
      this.nextStart += this.hopSize;
    }
    this.compact();
  }

  /**
   * Emits the last partial frame, zero-padded, if some received samples are in no emitted
   * frame yet and the next frame would start inside the received samples.
   */
  flush(emit: (frame: Float32Array, index: number) => void): void {
    const lastEnd = this.emitted > 0 ? this.nextStart - this.hopSize + this.bufferSize : 0;
    if (this.nextStart < this.total && lastEnd < this.total) {
      const s = this.nextStart - this.bufStart;
      const have = this.total - this.nextStart;
      this.padded.fill(0);
      this.padded.set(this.buf.subarray(s, s + have));
      emit(this.padded, this.emitted++);
      this.nextStart += this.hopSize;
    }
    this.length = 0;
    this.bufStart = this.total;
  }

  private compact(): void {
    const drop = Math.min(this.length, this.nextStart - this.bufStart);
    if (drop <= 0) return;
    this.buf.copyWithin(0, drop, this.length);
    this.length -= drop;
    this.bufStart += drop;
  }

  private ensureCapacity(n: number): void {
    if (n <= this.buf.length) return;
    const next = new Float32Array(Math.max(n, this.buf.length * 2));
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }
}
