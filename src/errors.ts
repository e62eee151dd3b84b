/**
 * Error classes with stable string codes. Match on `code`, never on the message.
 *
 * @example
 * ```ts
 * import { SeqstreamError, validateInput } from 'seqstream';
 * try { validateInput([1, 2], 3); } catch (e) {
 *   if (e instanceof SeqstreamError && e.code === 'SEQ_INPUT_SHAPE') console.warn(e.message);
 * }
 * ```
 */
export class SeqstreamError extends Error {
  /** Stable machine-readable code, e.g. `SEQ_INPUT_SHAPE`. */
  readonly code: string;
  /** Extra structured facts (expected/received shape, key, offset ...). */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: string, message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.details = details;
  }
}

/**
 * The one shape of every non-fatal error channel in seqstream, the `onError` option: the coded
 * error, and what it concerns — the dropped event (operators), the raw message text (the
 * websocket client), the session (the websocket server). Adapters whose problems have no single
 * input (sensor files, TCP, MQTT) pass `undefined`; where it happened is in `error.details`.
 * Fatal errors end the Observable instead; `onStatus` carries lifecycle (connected, offline,
 * reconnecting), never errors.
 *
 * @example
 * ```ts
 * import type { ErrorCallback } from 'seqstream';
 * const log: ErrorCallback = (error, input) => console.warn(error.code, error.message, input);
 * // recurrentByKey(model, { onError: log }); sensorFile('a.csv', { ..., onError: log })
 * ```
 */
export type ErrorCallback<I = unknown, E extends SeqstreamError = SeqstreamError> = (error: E, input: I) => void;

/**
 * An event's input does not fit the model: wrong length (`SEQ_INPUT_SHAPE`), NaN or
 * Infinity (`SEQ_INPUT_NON_FINITE`), or not a numeric vector at all (`SEQ_INPUT_TYPE`).
 *
 * @example
 * ```ts
 * import { InvalidInputError } from 'seqstream';
 * const e = new InvalidInputError('SEQ_INPUT_SHAPE', 'expected [3], received [2]', { expected: [3], received: [2] });
 * e.code; // 'SEQ_INPUT_SHAPE'
 * ```
 */
export class InvalidInputError extends SeqstreamError {}

/**
 * An option passed when creating an operator, model or adapter is invalid (`SEQ_INVALID_OPTION`).
 * Thrown synchronously at creation time.
 *
 * @example
 * ```ts
 * import { InvalidOptionError } from 'seqstream';
 * throw new InvalidOptionError('hiddenSize', 'a positive integer', -1);
 * ```
 */
export class InvalidOptionError extends SeqstreamError {
  constructor(option: string, expected: string, received: unknown) {
    super(
      'SEQ_INVALID_OPTION',
      `Option '${option}' must be ${expected}, received ${describe(received)}`,
      { option, expected, received: describe(received) },
    );
  }
}

/**
 * A model, state snapshot, state dict or fixture file cannot be loaded
 * (`SEQ_MODEL_FORMAT`, `SEQ_STATE_FORMAT`, `SEQ_PARAM_SHAPE`, `SEQ_PARAM_MISSING`, `SEQ_PARAM_UNKNOWN`).
 *
 * @example
 * ```ts
 * import { ModelFormatError } from 'seqstream';
 * throw new ModelFormatError('SEQ_PARAM_MISSING', "state dict has no 'weight_ih_l0'");
 * ```
 */
export class ModelFormatError extends SeqstreamError {}

/**
 * The `SEQ_TFJS_NOT_LOADED` error for `what`, a path that runs on TensorFlow.js, reached before
 * `initBackend()`/`loadTfjs()` loaded it (seqstream never imports tfjs at module load).
 *
 * @example
 * ```ts
 * throw tfjsNotLoadedError("runSequence engine 'tfjs'");
 * ```
 */
export function tfjsNotLoadedError(what: string): SeqstreamError {
  return new SeqstreamError(
    'SEQ_TFJS_NOT_LOADED',
    `${what} runs on TensorFlow.js, which seqstream loads only when asked: call \`await initBackend()\` (or \`await loadTfjs()\`) first`,
    { what },
  );
}

/** Short description of any value for error messages. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value);
  if (Array.isArray(value)) return `array of length ${value.length}`;
  if (ArrayBuffer.isView(value)) return `${value.constructor.name} of length ${(value as unknown as ArrayLike<number>).length}`;
  return typeof value === 'object' ? `object with keys [${Object.keys(value as object).slice(0, 5).join(', ')}]` : typeof value;
}
