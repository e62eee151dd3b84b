import { InvalidOptionError } from '../../errors.js';

/** Raw PCM sample encodings understood by the audio adapters (little-endian unless `be`). */
export type PcmEncoding = 'u8' | 's8' | 's16le' | 's16be' | 's24le' | 's32le' | 'f32le' | 'f64le';

const BYTES: Record<PcmEncoding, number> = {
  u8: 1, s8: 1, s16le: 2, s16be: 2, s24le: 3, s32le: 4, f32le: 4, f64le: 8,
};

/** Every supported encoding, for option validation and error messages. */
export const PCM_ENCODINGS = Object.keys(BYTES) as PcmEncoding[];

/** Bytes per sample of one channel. */
export function bytesPerSample(encoding: PcmEncoding): number {
  return BYTES[encoding];
}

/** Largest channel count a source accepts (a corrupt header must not make us allocate per channel). */
export const MAX_CHANNELS = 64;

/**
 * Turns interleaved PCM bytes into mono float samples in [-1, 1] (channels averaged).
 * Integer PCM is scaled by 2^(bits-1) (u8 is offset by 128 first), floats are taken as they are.
 * A sample frame split across two chunks is carried over to the next call.
 */
export class PcmDecoder {
  readonly bytesPerFrame: number;
  private readonly sampleBytes: number;
  private carry: Uint8Array;
  private carryLength = 0;

  constructor(readonly encoding: PcmEncoding, readonly channels: number) {
    if (!PCM_ENCODINGS.includes(encoding)) {
      throw new InvalidOptionError('encoding', `one of ${PCM_ENCODINGS.join(', ')}`, encoding);
    }
    if (!Number.isInteger(channels) || channels < 1 || channels > MAX_CHANNELS) {
      throw new InvalidOptionError('channels', `an integer in [1, ${MAX_CHANNELS}]`, channels);
    }
    this.sampleBytes = BYTES[encoding];
    this.bytesPerFrame = this.sampleBytes * channels;
    this.carry = new Uint8Array(this.bytesPerFrame);
  }

  /** Bytes held back because they do not yet form a whole sample frame. */
  get pendingBytes(): number {
    return this.carryLength;
  }

  /** Decodes every whole sample frame in `carry + chunk` into a fresh Float32Array. */
  decode(chunk: Uint8Array): Float32Array {
    const total = this.carryLength + chunk.length;
    const frames = Math.floor(total / this.bytesPerFrame);
    const out = new Float32Array(frames);
    if (frames === 0) {
      this.carry.set(chunk, this.carryLength);
      this.carryLength = total;
      return out;
    }
    let bytes: Uint8Array;
    if (this.carryLength > 0) {
      // Only the first frame straddles the boundary: decode from a small joined copy.
      bytes = new Uint8Array(frames * this.bytesPerFrame);
      bytes.set(this.carry.subarray(0, this.carryLength), 0);
      bytes.set(chunk.subarray(0, bytes.length - this.carryLength), this.carryLength);
    } else {
      bytes = chunk.subarray(0, frames * this.bytesPerFrame);
    }
    const used = frames * this.bytesPerFrame - this.carryLength;
    this.decodeInto(bytes, out);
    const rest = chunk.length - used;
    this.carry.set(chunk.subarray(used), 0);
    this.carryLength = rest;
    return out;
  }

  private decodeInto(bytes: Uint8Array, out: Float32Array): void {
    if (this.encoding === 's16le' && this.channels === 1) {
      // the common case (16-bit mono): one pass without a per-sample switch
      for (let f = 0, p = 0; f < out.length; f++, p += 2) {
        const v = bytes[p] | (bytes[p + 1] << 8);
        out[f] = (v >= 32768 ? v - 65536 : v) / 32768;
      }
      return;
    }
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const C = this.channels;
    const sb = this.sampleBytes;
    const inv = 1 / C;
    let p = 0;
    for (let f = 0; f < out.length; f++) {
      let sum = 0;
      for (let c = 0; c < C; c++, p += sb) sum += this.read(view, p);
      out[f] = C === 1 ? sum : sum * inv;
    }
  }

  private read(view: DataView, p: number): number {
    switch (this.encoding) {
      case 'u8': return (view.getUint8(p) - 128) / 128;
      case 's8': return view.getInt8(p) / 128;
      case 's16le': return view.getInt16(p, true) / 32768;
      case 's16be': return view.getInt16(p, false) / 32768;
      case 's24le': {
        const v = view.getUint8(p) | (view.getUint8(p + 1) << 8) | (view.getInt8(p + 2) << 16);
        return v / 8388608;
      }
      case 's32le': return view.getInt32(p, true) / 2147483648;
      case 'f32le': return view.getFloat32(p, true);
      case 'f64le': return view.getFloat64(p, true);
    }
  }
}
