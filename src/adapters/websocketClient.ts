import type { IncomingMessage } from 'node:http';
import { Observable, type Subscription } from 'rxjs';
import { WebSocket } from 'ws';
import { describe, InvalidOptionError, SeqstreamError } from '../errors.js';
import { jsonReplacer } from './internal/jsonReplacer.js';

/** Reconnect schedule of {@link websocketClient}. */
export interface ReconnectOptions {
  /** Delay before the first retry, ms. Default 250. */
  initialDelayMs?: number;
  /** Upper bound of any delay, ms. Default 30000. */
  maxDelayMs?: number;
  /** Growth of the delay per failed attempt. Default 2. */
  factor?: number;
  /** Share of each delay that is random, in [0, 1]: delay × (1 − jitter × U(0,1)), so clients do not retry in lockstep. Default 0.5. */
  jitter?: number;
  /** Consecutive failed attempts (no successful open in between) before giving up with `SEQ_WS_RECONNECT_EXHAUSTED`. Default 10. */
  maxAttempts?: number;
}

/** What happens to the connection, for logs and UIs. */
export type WebSocketClientStatus =
  | { type: 'open'; /** Failed attempts before this open (0 on a first try). */ attempt: number }
  | { type: 'close'; code: number; reason: string }
  | { type: 'reconnecting'; attempt: number; delayMs: number };

/** Options of {@link websocketClient}. */
export interface WebSocketClientOptions<T> {
  /** How each text message becomes a value: `'json'` (`JSON.parse`), `'text'` (the string), or your function. Default `'json'`. */
  parse?: 'json' | 'text' | ((text: string) => T);
  /** A message that does not parse, or a binary frame: `'error'` ends the stream with `SEQ_WS_BAD_JSON`/`SEQ_WS_BINARY`; `'skip'` drops it (and calls `onInvalidMessage`). Default `'error'`. */
  invalidMessage?: 'error' | 'skip';
  /** Called with each skipped message's error (with `invalidMessage: 'skip'`). Default none. */
  onInvalidMessage?: (error: SeqstreamError) => void;
  /** Reconnect with exponential backoff after an unexpected close or a failed attempt; `false` errors with `SEQ_WS_CLOSED` instead. Default `{}` (the defaults above). */
  reconnect?: ReconnectOptions | false;
  /** Close codes from the server that complete the stream instead of reconnecting. Default `[1000]`. */
  completeOnCloseCodes?: readonly number[];
  /** Messages to send (strings as-is, others as JSON), queued while disconnected. Default none. */
  outgoing?: Observable<unknown>;
  /** Messages kept for sending while disconnected; the oldest is dropped beyond it. Default 1024. */
  maxQueuedMessages?: number;
  /** Largest incoming message in bytes (ws closes with 1009 beyond it). Default 1048576 (1 MiB). */
  maxPayload?: number;
  /** Time allowed for the opening handshake, ms. Default 10000. */
  handshakeTimeoutMs?: number;
  /** Extra HTTP headers of the upgrade request (e.g. `Authorization`). Default none. */
  headers?: Record<string, string>;
  /** Called on open, close and each scheduled reconnect. Default none. */
  onStatus?: (status: WebSocketClientStatus) => void;
  /** Random source of the jitter, in [0, 1). Default `Math.random`. */
  random?: () => number;
}

// HTTP statuses worth retrying: the server is busy or restarting, not refusing us.
const RETRYABLE_STATUS = new Set([429, 502, 503, 504]);

/**
 * A cold Observable of a remote websocket feed's messages, parsed, with reconnects.
 *
 * 1. Each subscription opens its own connection to `url` (a function is called again before each
 *    attempt, so it can add a session id learned earlier).
 * 2. Every text message is parsed (`parse`) and emitted; a bad one or a binary frame ends the
 *    stream with `SEQ_WS_BAD_JSON` / `SEQ_WS_BINARY`, or is skipped (`invalidMessage: 'skip'`).
 * 3. `outgoing` values are sent in order; while disconnected they wait in a bounded queue.
 * 4. A close with a code in `completeOnCloseCodes` completes the stream. Any other close, a failed
 *    attempt or an HTTP 429/502/503/504 at the upgrade schedules a reconnect after
 *    `min(maxDelayMs, initialDelayMs × factor^(n−1)) × (1 − jitter × U)` for the n-th consecutive
 *    failure; a successful open resets n. After `maxAttempts` failures the stream errors with
 *    `SEQ_WS_RECONNECT_EXHAUSTED`. Any other HTTP status (401, 403, ...) errors at once with
 *    `SEQ_WS_REJECTED` (`details.status`), since retrying would not help.
 * 5. Unsubscribing closes the socket (1000) and cancels any pending reconnect.
 *
 * @example
 * ```ts
 * import { websocketClient } from 'seqstream/adapters/websocketClient';
 * websocketClient<{ price: number }>('wss://feed.example/ticks', { reconnect: { maxAttempts: 20 } })
 *   .subscribe({ next: (m) => console.log(m.price), error: (e) => console.error(e.code) });
 * ```
 */
export function websocketClient<T = unknown>(url: string | (() => string), options: WebSocketClientOptions<T> = {}): Observable<T> {
  const o = resolveOptions(options);
  const parse: (text: string) => T =
    typeof o.parse === 'function' ? o.parse : o.parse === 'text' ? (s) => s as unknown as T : (s) => JSON.parse(s) as T;

  return new Observable<T>((subscriber) => {
    let ws: WebSocket | null = null;
    let timer: NodeJS.Timeout | null = null;
    let failures = 0;
    let done = false;
    const queue: string[] = [];
    let outgoing: Subscription | null = null;

    const finish = (error?: SeqstreamError): void => {
      if (done) return;
      done = true;
      if (error) subscriber.error(error);
      else subscriber.complete();
    };

    const flush = (): void => {
      while (ws && ws.readyState === WebSocket.OPEN && queue.length > 0) ws.send(queue.shift()!);
    };

    const connect = (): void => {
      if (done) return;
      let target: string;
      try {
        target = typeof url === 'function' ? url() : url;
      } catch (e) {
        return finish(new SeqstreamError('SEQ_WS_URL', `The url function threw: ${(e as Error).message}`));
      }
      let rejectedStatus: number | null = null;
      let opened = false;
      const socket = new WebSocket(target, {
        maxPayload: o.maxPayload,
        handshakeTimeout: o.handshakeTimeoutMs,
        headers: o.headers,
        perMessageDeflate: false,
      });
      ws = socket;
      socket.on('unexpected-response', (_req, res: IncomingMessage) => {
        rejectedStatus = res.statusCode ?? 0;
        res.resume();
        socket.terminate();
      });
      socket.on('open', () => {
        opened = true;
        const attempt = failures;
        failures = 0;
        o.onStatus?.({ type: 'open', attempt });
        flush();
      });
      socket.on('message', (data, isBinary) => {
        if (done) return;
        if (isBinary) return invalid(new SeqstreamError('SEQ_WS_BINARY', 'Received a binary frame on a text feed', { url: target }));
        const text = Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data as ArrayBuffer).toString('utf8');
        let value: T;
        try {
          value = parse(text);
        } catch (e) {
          return invalid(new SeqstreamError('SEQ_WS_BAD_JSON', `Message does not parse: ${(e as Error).message}`, { url: target, received: describe(text) }));
        }
        subscriber.next(value);
      });
      // Every failure ends in 'close'; the decision is made there.
      socket.on('error', () => undefined);
      socket.on('close', (code, reasonBuffer) => {
        if (ws === socket) ws = null;
        if (done) return;
        const reason = reasonBuffer.toString();
        if (opened) o.onStatus?.({ type: 'close', code, reason });
        if (rejectedStatus !== null && !RETRYABLE_STATUS.has(rejectedStatus)) {
          return finish(new SeqstreamError('SEQ_WS_REJECTED', `Server refused the websocket upgrade with HTTP ${rejectedStatus}`, { status: rejectedStatus, url: target }));
        }
        if (opened && o.completeOnCloseCodes.includes(code)) return finish();
        if (o.reconnect === false) return finish(new SeqstreamError('SEQ_WS_CLOSED', `Connection closed (code ${code}${reason ? `: ${reason}` : ''})`, { code, reason, url: target }));
        failures++;
        const r = o.reconnect;
        if (failures > r.maxAttempts) {
          return finish(new SeqstreamError('SEQ_WS_RECONNECT_EXHAUSTED', `Gave up after ${r.maxAttempts} failed reconnect attempts (last close code ${code})`, { attempts: r.maxAttempts, code, url: target }));
        }
        const base = Math.min(r.maxDelayMs, r.initialDelayMs * r.factor ** (failures - 1));
        const delayMs = Math.round(base * (1 - r.jitter * o.random()));
        o.onStatus?.({ type: 'reconnecting', attempt: failures, delayMs });
        timer = setTimeout(() => {
          timer = null;
          connect();
        }, delayMs);
      });
    };

    const invalid = (error: SeqstreamError): void => {
      if (o.invalidMessage === 'skip') {
        o.onInvalidMessage?.(error);
        return;
      }
      finish(error);
      ws?.close(1000);
    };

    if (o.outgoing) {
      outgoing = o.outgoing.subscribe({
        next: (m) => {
          queue.push(typeof m === 'string' ? m : JSON.stringify(m, jsonReplacer));
          if (queue.length > o.maxQueuedMessages) queue.shift();
          flush();
        },
        error: (e: unknown) => {
          finish(e instanceof SeqstreamError ? e : new SeqstreamError('SEQ_WS_OUTGOING', `The outgoing stream failed: ${String((e as Error)?.message ?? e)}`));
          ws?.close(1000);
        },
      });
    }
    connect();

    return () => {
      done = true;
      outgoing?.unsubscribe();
      if (timer) clearTimeout(timer);
      const s = ws;
      ws = null;
      if (s) {
        if (s.readyState === WebSocket.CONNECTING) s.terminate();
        else s.close(1000);
      }
    };
  });
}

interface Resolved<T> {
  parse: 'json' | 'text' | ((text: string) => T);
  invalidMessage: 'error' | 'skip';
  onInvalidMessage?: (error: SeqstreamError) => void;
  reconnect: Required<ReconnectOptions> | false;
  completeOnCloseCodes: readonly number[];
  outgoing?: Observable<unknown>;
  maxQueuedMessages: number;
  maxPayload: number;
  handshakeTimeoutMs: number;
  headers?: Record<string, string>;
  onStatus?: (status: WebSocketClientStatus) => void;
  random: () => number;
}

function resolveOptions<T>(options: WebSocketClientOptions<T>): Resolved<T> {
  const r = options.reconnect ?? {};
  if (r !== false && (typeof r !== 'object' || r === null)) throw new InvalidOptionError('reconnect', 'an object or false', r);
  const reconnect =
    r === false
      ? false
      : {
          initialDelayMs: r.initialDelayMs ?? 250,
          maxDelayMs: r.maxDelayMs ?? 30000,
          factor: r.factor ?? 2,
          jitter: r.jitter ?? 0.5,
          maxAttempts: r.maxAttempts ?? 10,
        };
  const o: Resolved<T> = {
    parse: options.parse ?? 'json',
    invalidMessage: options.invalidMessage ?? 'error',
    onInvalidMessage: options.onInvalidMessage,
    reconnect,
    completeOnCloseCodes: options.completeOnCloseCodes ?? [1000],
    outgoing: options.outgoing,
    maxQueuedMessages: options.maxQueuedMessages ?? 1024,
    maxPayload: options.maxPayload ?? 1048576,
    handshakeTimeoutMs: options.handshakeTimeoutMs ?? 10000,
    headers: options.headers,
    onStatus: options.onStatus,
    random: options.random ?? Math.random,
  };
  if (o.parse !== 'json' && o.parse !== 'text' && typeof o.parse !== 'function') throw new InvalidOptionError('parse', "'json', 'text' or a function", o.parse);
  if (o.invalidMessage !== 'error' && o.invalidMessage !== 'skip') throw new InvalidOptionError('invalidMessage', "'error' or 'skip'", o.invalidMessage);
  if (reconnect) {
    const pos = (name: keyof ReconnectOptions, v: number, min: number): void => {
      if (typeof v !== 'number' || !Number.isFinite(v) || v < min) throw new InvalidOptionError(`reconnect.${name}`, `a finite number >= ${min}`, v);
    };
    pos('initialDelayMs', reconnect.initialDelayMs, 0);
    pos('maxDelayMs', reconnect.maxDelayMs, reconnect.initialDelayMs);
    pos('factor', reconnect.factor, 1);
    pos('jitter', reconnect.jitter, 0);
    if (reconnect.jitter > 1) throw new InvalidOptionError('reconnect.jitter', 'a number in [0, 1]', reconnect.jitter);
    if (!Number.isInteger(reconnect.maxAttempts) || reconnect.maxAttempts < 1) throw new InvalidOptionError('reconnect.maxAttempts', 'a positive integer', reconnect.maxAttempts);
  }
  for (const [name, v] of [['maxQueuedMessages', o.maxQueuedMessages], ['maxPayload', o.maxPayload], ['handshakeTimeoutMs', o.handshakeTimeoutMs]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new InvalidOptionError(name, 'a positive integer', v);
  }
  if (!Array.isArray(o.completeOnCloseCodes) || !o.completeOnCloseCodes.every((c) => Number.isInteger(c))) {
    throw new InvalidOptionError('completeOnCloseCodes', 'an array of integer close codes', o.completeOnCloseCodes);
  }
  return o;
}
