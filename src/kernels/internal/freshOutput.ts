import type { OrtTensor } from '../onnxRuntime.js';

/**
 * The binding's returned top-layer `h` tensor, when it is safe to hand to a caller as a buffer of
 * its own: onnxruntime-node 1.30 writes each output into the preallocated fetch tensor *and*
 * returns a fresh copy of it (a new `ArrayBuffer` per output per run). Only a `Float32Array` of
 * exactly `floats` values that is the whole of an `ArrayBuffer` no feed or fetch tensor uses
 * qualifies; a binding that returned our own buffers (or a view into some larger block) gets null,
 * and the caller copies instead. Same numbers as the fetch tensor either way.
 *
 * @example
 * ```ts
 * const result = session.run(feeds, fetches, {});
 * const top = freshTop(result['h1_next'], batch * hiddenSize, feeds, fetches); // or null: copy
 * ```
 */
export function freshTop(t: OrtTensor | undefined, floats: number, feeds: Record<string, OrtTensor>, fetches: Record<string, OrtTensor | null>): Float32Array | null {
  const data: unknown = t?.data;
  if (!(data instanceof Float32Array) || data.length !== floats || data.byteOffset !== 0) return null;
  const buf = data.buffer;
  if (!(buf instanceof ArrayBuffer) || buf.byteLength !== floats * 4) return null;
  for (const k in feeds) if (feeds[k].data.buffer === buf) return null;
  for (const k in fetches) if (fetches[k]?.data.buffer === buf) return null;
  return data;
}

