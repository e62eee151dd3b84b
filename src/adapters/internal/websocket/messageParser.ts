import { validateInput } from '../../../cells/validateInput.js';
import { describe, SeqstreamError } from '../../../errors.js';
import type { WebSocketEvent } from '../../websocketTypes.js';

/** Longest `x` vector accepted when no `inputSize` is set. */
export const MAX_VECTOR = 65536;

/** How {@link parseMessage} reads a text frame. */
export interface MessageFormat {
  /** `'auto'`: JSON when it starts with `{`, else plain text; `'json'`: JSON objects only; `'text'`: always text. */
  format: 'auto' | 'json' | 'text';
  /** Exact length of `x`, or undefined for any length up to {@link MAX_VECTOR}. */
  inputSize?: number;
}

/** The payload of one accepted message (the server adds key, connection and seq). */
export type ParsedMessage = Omit<WebSocketEvent, 'key' | 'connectionId' | 'seq'>;

/**
 * Parses one text frame into `{ text }` or `{ x }` (plus `reset`), or returns the coded error to
 * reply with: `SEQ_WS_BAD_JSON`, `SEQ_WS_BAD_MESSAGE`, or `validateInput`'s `SEQ_INPUT_TYPE`,
 * `SEQ_INPUT_SHAPE`, `SEQ_INPUT_NON_FINITE` (JSON has no NaN, but `1e999` parses to Infinity).
 *
 * @example
 * ```ts
 * parseMessage('{"x":[1,2]}', { format: 'auto', inputSize: 2 }); // { x: [1, 2] }
 * parseMessage('hello', { format: 'auto' });                     // { text: 'hello' }
 * ```
 */
export function parseMessage(raw: string, f: MessageFormat): ParsedMessage | SeqstreamError {
  if (f.format === 'text' || (f.format === 'auto' && !raw.trimStart().startsWith('{'))) return { text: raw };
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (e) {
    return new SeqstreamError('SEQ_WS_BAD_JSON', `Message is not valid JSON: ${(e as Error).message}`);
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    return new SeqstreamError('SEQ_WS_BAD_MESSAGE', `Message must be a JSON object {"x": [...]} or {"text": "..."}, received ${describe(value)}`);
  }
  const m = value as { x?: unknown; text?: unknown; reset?: unknown };
  if ((m.x === undefined) === (m.text === undefined)) {
    return new SeqstreamError('SEQ_WS_BAD_MESSAGE', 'Message must have exactly one of "x" (a number array) or "text" (a string)');
  }
  if (m.reset !== undefined && typeof m.reset !== 'boolean') return new SeqstreamError('SEQ_WS_BAD_MESSAGE', '"reset" must be a boolean');
  const reset = m.reset === true ? { reset: true } : {};
  if (m.text !== undefined) {
    if (typeof m.text !== 'string') return new SeqstreamError('SEQ_WS_BAD_MESSAGE', `"text" must be a string, received ${describe(m.text)}`);
    return { text: m.text, ...reset };
  }
  const x = m.x;
  if (!Array.isArray(x)) return new SeqstreamError('SEQ_INPUT_TYPE', `"x" must be an array of numbers, received ${describe(x)}`);
  if (f.inputSize === undefined && x.length > MAX_VECTOR) {
    return new SeqstreamError('SEQ_INPUT_SHAPE', `"x" must have length <= ${MAX_VECTOR}, received ${x.length}`);
  }
  try {
    validateInput(x, f.inputSize ?? x.length);
  } catch (e) {
    const err = e as SeqstreamError;
    return new SeqstreamError(err.code, err.message.replace("Input 'x'", '"x"'));
  }
  return { x: x as number[], ...reset };
}
