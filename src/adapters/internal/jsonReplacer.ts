/**
 * `JSON.stringify` replacer that writes typed arrays as plain arrays (by default they become
 * index-keyed objects). Shared by the websocket server and client.
 *
 * @example
 * ```ts
 * JSON.stringify({ y: new Float32Array([0.5]) }, jsonReplacer); // '{"y":[0.5]}'
 * ```
 */
export function jsonReplacer(_key: string, value: unknown): unknown {
  return ArrayBuffer.isView(value) && !(value instanceof DataView) ? Array.from(value as unknown as ArrayLike<number>) : value;
}
