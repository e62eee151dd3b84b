/**
 * Test helpers: a WAV writer written by hand from the RIFF/WAVE spec (independent of the
 * `wavefile` reader under test) and signal generators.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type WavFormat = 'u8' | 's16' | 's24' | 's32' | 'f32' | 'f64';

const BITS: Record<WavFormat, number> = { u8: 8, s16: 16, s24: 24, s32: 32, f32: 32, f64: 64 };

/** The integer (or float) a format stores for a sample in [-1, 1], and the value a reader should decode it to. */
export function quantize(v: number, format: WavFormat): { stored: number; decoded: number } {
  const clip = Math.max(-1, Math.min(1, v));
  switch (format) {
    case 'u8': { const s = Math.max(0, Math.min(255, Math.round(clip * 127 + 128))); return { stored: s, decoded: (s - 128) / 128 }; }
    case 's16': { const s = Math.round(clip * 32767); return { stored: s, decoded: s / 32768 }; }
    case 's24': { const s = Math.round(clip * 8388607); return { stored: s, decoded: s / 8388608 }; }
    case 's32': { const s = Math.round(clip * 2147483647); return { stored: s, decoded: s / 2147483648 }; }
    case 'f32': { const s = Math.fround(v); return { stored: s, decoded: s }; }
    case 'f64': return { stored: v, decoded: v };
  }
}

/**
 * Encodes channels (equal lengths) as a WAV file. `extensible` writes WAVE_FORMAT_EXTENSIBLE.
 * Returns the bytes and the mono signal a correct reader must produce (channel mean of decoded values).
 */
export function encodeWav(
  channels: ArrayLike<number>[],
  sampleRate: number,
  format: WavFormat,
  opts: { extensible?: boolean; formatCode?: number } = {},
): { bytes: Buffer; mono: Float64Array } {
  const C = channels.length;
  const n = channels[0].length;
  const bits = BITS[format];
  const bps = bits / 8;
  const isFloat = format === 'f32' || format === 'f64';
  const code = opts.formatCode ?? (isFloat ? 3 : 1);
  const fmtSize = opts.extensible ? 40 : 16;
  const dataSize = n * C * bps;
  const buf = Buffer.alloc(12 + 8 + fmtSize + 8 + dataSize);
  let p = 0;
  buf.write('RIFF', p); p += 4;
  buf.writeUInt32LE(buf.length - 8, p); p += 4;
  buf.write('WAVE', p); p += 4;
  buf.write('fmt ', p); p += 4;
  buf.writeUInt32LE(fmtSize, p); p += 4;
  buf.writeUInt16LE(opts.extensible ? 0xfffe : code, p); p += 2;
  buf.writeUInt16LE(C, p); p += 2;
  buf.writeUInt32LE(sampleRate, p); p += 4;
  buf.writeUInt32LE(sampleRate * C * bps, p); p += 4;
  buf.writeUInt16LE(C * bps, p); p += 2;
  buf.writeUInt16LE(bits, p); p += 2;
  if (opts.extensible) {
    buf.writeUInt16LE(22, p); p += 2; // cbSize
    buf.writeUInt16LE(bits, p); p += 2; // valid bits
    buf.writeUInt32LE(C === 1 ? 0x4 : 0x3, p); p += 4; // channel mask
    // SubFormat GUID: code + 0000-0010-8000-00AA00389B71
    buf.writeUInt32LE(code, p); p += 4;
    Buffer.from([0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71]).copy(buf, p); p += 12;
  }
  buf.write('data', p); p += 4;
  buf.writeUInt32LE(dataSize, p); p += 4;
  const mono = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let sum = 0;
    for (let c = 0; c < C; c++) {
      const q = quantize(channels[c][i], format);
      sum += q.decoded;
      switch (format) {
        case 'u8': buf.writeUInt8(q.stored, p); break;
        case 's16': buf.writeInt16LE(q.stored, p); break;
        case 's24': buf.writeIntLE(q.stored, p, 3); break;
        case 's32': buf.writeInt32LE(q.stored, p); break;
        case 'f32': buf.writeFloatLE(q.stored, p); break;
        case 'f64': buf.writeDoubleLE(q.stored, p); break;
      }
      p += bps;
    }
    mono[i] = sum / C;
  }
  return { bytes: buf, mono };
}

/** A sine of `freq` Hz, amplitude `amp`, `n` samples at `rate`. */
export function tone(freq: number, rate: number, n: number, amp = 0.5): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = amp * Math.sin((2 * Math.PI * freq * i) / rate);
  return out;
}

/** Deterministic uniform noise in [-amp, amp] (xorshift). */
export function noise(n: number, amp = 0.3, seed = 12345): Float64Array {
  let s = seed >>> 0 || 1;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    out[i] = amp * ((s / 4294967296) * 2 - 1);
  }
  return out;
}

/** A temporary directory removed by the returned cleanup. */
export function tempDir(): { dir: string; write(name: string, bytes: Uint8Array): string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'seqstream-audio-'));
  return {
    dir,
    write(name, bytes) {
      const path = join(dir, name);
      writeFileSync(path, bytes);
      return path;
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
