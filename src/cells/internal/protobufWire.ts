/**
 * The few pieces of the protobuf wire format that ONNX files need: a writer that builds messages
 * field by field and a reader that splits a message into its fields. No schema here; the ONNX
 * field numbers live with the code that writes or reads ONNX (`onnxGraph.ts`, `onnxImport.ts`).
 * Integers stay below 2^53 (ONNX dims, enums and versions do).
 */

/**
 * Wire types used by ONNX messages.
 *
 * @example
 * ```ts
 * if (field.wire === WireType.Bytes) readFields(field.bytes);
 * ```
 */
export const enum WireType {
  Varint = 0,
  Fixed64 = 1,
  Bytes = 2,
  Fixed32 = 5,
}

const encoder = new TextEncoder();

/**
 * Builds one protobuf message. Nested messages are written by passing another writer's bytes.
 *
 * @example
 * ```ts
 * const m = new ProtoWriter().varint(1, 8).string(2, 'seqstream').finish();
 * ```
 */
export class ProtoWriter {
  private buf = new Uint8Array(256);
  private len = 0;

  private ensure(extra: number): void {
    if (this.len + extra <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.len + extra) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  private rawVarint(v: number): void {
    if (!Number.isSafeInteger(v)) throw new RangeError(`protobuf varint ${v} is not a safe integer`);
    this.ensure(10);
    // Negative int64 values are ten bytes of two's complement.
    let n = v < 0 ? BigInt.asUintN(64, BigInt(v)) : BigInt(v);
    do {
      let byte = Number(n & 0x7fn);
      n >>= 7n;
      if (n !== 0n) byte |= 0x80;
      this.buf[this.len++] = byte;
    } while (n !== 0n);
  }

  private tag(field: number, wire: WireType): void {
    this.rawVarint((field << 3) | wire);
  }

  /** An int32/int64/enum/bool field. */
  varint(field: number, v: number): this {
    this.tag(field, WireType.Varint);
    this.rawVarint(v);
    return this;
  }

  /** A float field (fixed32). */
  float(field: number, v: number): this {
    this.tag(field, WireType.Fixed32);
    this.ensure(4);
    new DataView(this.buf.buffer, this.buf.byteOffset).setFloat32(this.len, v, true);
    this.len += 4;
    return this;
  }

  /** A bytes or embedded-message field. */
  bytes(field: number, data: Uint8Array): this {
    this.tag(field, WireType.Bytes);
    this.rawVarint(data.length);
    this.ensure(data.length);
    this.buf.set(data, this.len);
    this.len += data.length;
    return this;
  }

  /** A string field (UTF-8). */
  string(field: number, s: string): this {
    return this.bytes(field, encoder.encode(s));
  }

  /** The message's bytes (a copy). */
  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

/** One field of a decoded message: a number for varint/fixed fields, bytes for length-delimited ones. */
export interface ProtoField {
  readonly field: number;
  readonly wire: WireType;
  /** Varint value (int64 read as a JS number; values beyond 2^53 lose precision), or the fixed32/fixed64 bits as a number. */
  readonly num: number;
  /** Payload of a length-delimited field (a view into the input). */
  readonly bytes: Uint8Array;
}

const EMPTY = new Uint8Array(0);

/**
 * Splits one protobuf message into its fields, in order. Throws `RangeError` on truncated or
 * malformed input; callers turn that into their own coded error.
 *
 * @example
 * ```ts
 * for (const f of readFields(bytes)) if (f.field === 7) readFields(f.bytes); // ModelProto.graph
 * ```
 */
export function readFields(data: Uint8Array): ProtoField[] {
  const out: ProtoField[] = [];
  let pos = 0;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const varint = (): number => {
    const [v, next] = decodeVarint(data, pos);
    pos = next;
    return v;
  };
  while (pos < data.length) {
    const key = varint();
    const field = Math.floor(key / 8);
    const wire = key % 8;
    if (field < 1) throw new RangeError(`protobuf field number ${field} at byte ${pos}`);
    if (wire === WireType.Varint) out.push({ field, wire, num: varint(), bytes: EMPTY });
    else if (wire === WireType.Fixed32) {
      if (pos + 4 > data.length) throw new RangeError('protobuf fixed32 runs past the end');
      out.push({ field, wire, num: view.getFloat32(pos, true), bytes: data.subarray(pos, pos + 4) });
      pos += 4;
    } else if (wire === WireType.Fixed64) {
      if (pos + 8 > data.length) throw new RangeError('protobuf fixed64 runs past the end');
      out.push({ field, wire, num: view.getFloat64(pos, true), bytes: data.subarray(pos, pos + 8) });
      pos += 8;
    } else if (wire === WireType.Bytes) {
      const n = varint();
      if (n < 0 || pos + n > data.length) throw new RangeError(`protobuf field ${field} of ${n} bytes runs past the end`);
      out.push({ field, wire, num: n, bytes: data.subarray(pos, pos + n) });
      pos += n;
    } else {
      throw new RangeError(`protobuf wire type ${wire} (field ${field}) is not supported`);
    }
  }
  return out;
}

/**
 * Values of a packed or unpacked repeated varint field (int64 dims, ints attributes).
 *
 * @example
 * ```ts
 * const dims = repeatedVarints(readFields(tensorBytes), 1); // TensorProto.dims
 * ```
 */
export function repeatedVarints(fields: readonly ProtoField[], field: number): number[] {
  const out: number[] = [];
  for (const f of fields) {
    if (f.field !== field) continue;
    if (f.wire === WireType.Varint) out.push(f.num);
    else if (f.wire === WireType.Bytes) {
      // Packed: a run of varints back to back.
      for (let pos = 0; pos < f.bytes.length; ) {
        const [v, next] = decodeVarint(f.bytes, pos);
        out.push(v);
        pos = next;
      }
    }
  }
  return out;
}

/** Decodes the varint at `pos`: its value (int64 two's complement for negatives) and the position after it. */
function decodeVarint(data: Uint8Array, pos: number): [number, number] {
  let low = 0;
  let scale = 1;
  let big = 0n;
  for (let i = 0; i < 10; i++) {
    if (pos >= data.length) throw new RangeError('protobuf varint runs past the end');
    const b = data[pos++];
    // The first 7 bytes (49 bits) fit a double exactly; later bytes go through BigInt.
    if (i < 7) low += (b & 0x7f) * scale;
    else big |= BigInt(b & 0x7f) << BigInt(7 * i);
    if ((b & 0x80) === 0) {
      if (i < 7) return [low, pos];
      return [Number(BigInt.asIntN(64, big | BigInt(low))), pos];
    }
    scale *= 128;
  }
  throw new RangeError('protobuf varint longer than 10 bytes');
}

const decoder = new TextDecoder();

/**
 * UTF-8 text of a bytes field.
 *
 * @example
 * ```ts
 * fieldString(readFields(nodeBytes).find((f) => f.field === 4)!); // 'LSTM'
 * ```
 */
export function fieldString(f: ProtoField): string {
  return decoder.decode(f.bytes);
}
