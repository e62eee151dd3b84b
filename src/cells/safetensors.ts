import { ModelFormatError } from '../errors.js';

/** One tensor read from a safetensors file, widened or narrowed to float32. */
export interface SafetensorsEntry {
  dtype: string;
  shape: number[];
  data: Float32Array;
}

/**
 * Parses a `.safetensors` buffer (8-byte little-endian header length, JSON header, raw data) into
 * float32 tensors. Reads F32, F64, F16 and BF16; other dtypes and malformed headers or offsets are
 * rejected with `ModelFormatError` code `SEQ_SAFETENSORS`.
 *
 * @example
 * ```ts
 * import { parseSafetensors, loadStateDict } from 'seqstream/cells';
 * const model = loadStateDict(parseSafetensors(fs.readFileSync('model.safetensors')));
 * ```
 */
export function parseSafetensors(buffer: Uint8Array): Record<string, SafetensorsEntry> {
  const fail = (why: string): never => {
    throw new ModelFormatError('SEQ_SAFETENSORS', `Invalid safetensors data: ${why}`, { why });
  };
  const view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  const header = readHeader(buffer);
  const base = 8 + Number(view.getBigUint64(0, true));
  const out: Record<string, SafetensorsEntry> = {};
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const { dtype, shape, data_offsets: offsets } = entry ?? ({} as never);
    if (!Array.isArray(shape) || !Array.isArray(offsets) || offsets.length !== 2) fail(`entry '${name}' lacks shape or data_offsets`);
    const count = shape.reduce((a: number, b: number) => a * b, 1);
    const width = { F32: 4, F64: 8, F16: 2, BF16: 2 }[dtype as 'F32'];
    if (!width) fail(`entry '${name}' has unsupported dtype ${dtype}`);
    const [begin, end] = offsets;
    if (end - begin !== count * width || base + end > buffer.byteLength || begin < 0) fail(`entry '${name}' has offsets [${begin}, ${end}] that do not fit shape [${shape}] of ${dtype}`);
    const data = new Float32Array(count);
    const at = base + begin;
    for (let i = 0; i < count; i++) {
      if (dtype === 'F32') data[i] = view.getFloat32(at + 4 * i, true);
      else if (dtype === 'F64') data[i] = view.getFloat64(at + 8 * i, true);
      else if (dtype === 'BF16') data[i] = bf16(view.getUint16(at + 2 * i, true));
      else data[i] = f16(view.getUint16(at + 2 * i, true));
    }
    out[name] = { dtype, shape, data };
  }
  return out;
}

/**
 * The string map a `.safetensors` file keeps under `__metadata__` (`{}` when it has none).
 * `tools/export_torch.py` writes `cell`, `nonlinearity` (plain RNNs) and `head_activation`
 * there: what the weights' shapes cannot say. Malformed files throw `SEQ_SAFETENSORS`.
 *
 * @example
 * ```ts
 * import { safetensorsMetadata } from 'seqstream/cells';
 * safetensorsMetadata(fs.readFileSync('model.safetensors')); // { format: 'pt', cell: 'lstm', head_activation: 'sigmoid' }
 * ```
 */
export function safetensorsMetadata(buffer: Uint8Array): Record<string, string> {
  const meta = (readHeader(buffer) as { __metadata__?: unknown }).__metadata__;
  if (meta === undefined || meta === null) return {};
  if (typeof meta !== 'object' || Array.isArray(meta) || !Object.values(meta).every((v) => typeof v === 'string')) {
    throw new ModelFormatError('SEQ_SAFETENSORS', 'Invalid safetensors data: __metadata__ must map strings to strings', {});
  }
  return { ...(meta as Record<string, string>) };
}

/**
 * Writes float32 tensors as a `.safetensors` buffer (dtype F32), readable by PyTorch's
 * `safetensors.torch.load_file`, with an optional string map as `__metadata__` (e.g.
 * `{ cell: 'lstm', head_activation: 'sigmoid' }`, read back by `loadSafetensors`).
 *
 * @example
 * ```ts
 * const bytes = writeSafetensors(Object.fromEntries(model.parameters().map((p) => [p.name, p])));
 * ```
 */
export function writeSafetensors(tensors: Record<string, { shape: readonly number[]; data: Float32Array }>, metadata?: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = metadata ? { __metadata__: { ...metadata } } : {};
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    header[name] = { dtype: 'F32', shape: [...t.shape], data_offsets: [offset, offset + t.data.length * 4] };
    offset += t.data.length * 4;
  }
  let json = JSON.stringify(header);
  while ((json.length + 8) % 8 !== 0) json += ' ';
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.length;
  for (const t of Object.values(tensors)) {
    for (let i = 0; i < t.data.length; i++, at += 4) view.setFloat32(at, t.data[i], true);
  }
  return out;
}

type Header = Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;

/** The JSON header of a safetensors buffer (tensor entries and `__metadata__`). */
function readHeader(buffer: Uint8Array): Header {
  const fail = (why: string): never => {
    throw new ModelFormatError('SEQ_SAFETENSORS', `Invalid safetensors data: ${why}`, { why });
  };
  if (buffer.byteLength < 8) fail('shorter than its 8-byte header length');
  const view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  if (headerLength > buffer.byteLength - 8 || headerLength > 100_000_000) fail(`header length ${headerLength} exceeds the file`);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder().decode(buffer.subarray(8, 8 + headerLength)));
  } catch {
    return fail('header is not JSON');
  }
  if (!header || typeof header !== 'object' || Array.isArray(header)) fail('header is not a JSON object');
  return header as Header;
}

function bf16(bits: number): number {
  const b = new DataView(new ArrayBuffer(4));
  b.setUint32(0, bits << 16);
  return b.getFloat32(0);
}

function f16(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >> 10) & 0x1f;
  const frac = bits & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}
