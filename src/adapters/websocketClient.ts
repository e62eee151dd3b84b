import type { IncomingMessage } from 'node:http';
import { Observable, type Subscription } from 'rxjs';
import { WebSocket } from 'ws';
import { describe, InvalidOptionError, SeqstreamError, type ErrorCallback } from '../errors.js';
import { jsonReplacer } from './internal/jsonReplacer.js';
import { integerOption, oneOfOption, INVALID_INPUT } from '../options.js';

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
  /** Consecutive failed attempts (no stable connection in between) before giving up with `SEQ_WS_RECONNECT_EXHAUSTED`. Default 10. */
  maxAttempts?: number;
  /**
   * A connection counts as a success, resetting the failure count (and so the delay and
   * `maxAttempts`), only once it has stayed open this long, ms; one closed sooner is one more
   * failure. So a server that accepts then closes at once is backed off from and given up on,
   * instead of being retried forever at the initial delay. Default 5000.
   */
  stableAfterMs?: number;
}

/** What happens to the connection, for logs and UIs. */
export type WebSocketClientStatus =
  | { type: 'open'; /** Failed attempts before this open (0 on a first try). */ attempt: number }
  | { type: 'close'; code: number; reason: string }
  | { type: 'reconnecting'; attempt: number; delayMs: number }
  | { type: 'dropped'; /** Outgoing messages dropped so far (queue beyond `maxQueuedMessages`). */ total: number };

/** Options of {@link websocketClient}. */
export interface WebSocketClientOptions<T> {
  /** How each text message becomes a value: `'json'` (`JSON.parse`), `'text'` (the string), or your function. Default `'json'`. */
  parse?: 'json' | 'text' | ((text: string) => T);
  /** A message that does not parse, or a binary frame: `'error'` ends the stream with `SEQ_WS_BAD_JSON`/`SEQ_WS_BINARY`; `'skip'` drops it (and calls `onError`). Default `'error'`. */
  invalidInput?: 'error' | 'skip';
  /** Called with each skipped message's error and its text (`undefined` for a binary frame), with `invalidInput: 'skip'`. If it throws, the stream ends with `SEQ_WS_CALLBACK` and the socket closes. Default none. */
  onError?: ErrorCallback<string | undefined>;
  /** Reconnect with exponential backoff after an unexpected close or a failed attempt; `false` errors with `SEQ_WS_CLOSED` instead. Default `{}` (the defaults above). */
  reconnect?: ReconnectOptions | false;
  /** Close codes from the server that complete the stream instead of reconnecting. Default `[1000]`. */
  completeOnCloseCodes?: readonly number[];
  /**
   * Close codes that end the stream with `SEQ_WS_CLOSED_FINAL` (`details.code`, `details.reason`)
   * instead of reconnecting, because a retry would meet the same fate: 4003 (session taken over
   * by another connection; two clients sharing a session id would otherwise steal it from each
   * other forever), 4002 (we read too slowly), 1008 (policy violation), 1009 (message too big).
   * `completeOnCloseCodes` wins over this list. Default `[4002, 4003, 1008, 1009]`.
   */
  finalCloseCodes?: readonly number[];
  /** Messages to send (strings as-is, others as JSON), queued while disconnected or while the socket is behind (`maxBufferedBytes`). Default none. */
  outgoing?: Observable<unknown>;
  /** Messages kept in the send queue; beyond it the oldest is dropped and reported (`onStatus` `{type: 'dropped', total}`). Default 1024. */
  maxQueuedMessages?: number;
  /**
   * Bytes handed to the socket but not yet sent (ws `bufferedAmount`) above which sending pauses;
   * further messages wait in the queue and sending resumes as the socket drains. Default 1048576 (1 MiB).
   */
  maxBufferedBytes?: number;
  /** Largest incoming message in bytes (ws closes with 1009 beyond it). Default 1048576 (1 MiB). */
  maxPayload?: number;
  /** Time allowed for the opening handshake, ms. Default 10000. */
  handshakeTimeoutMs?: number;
  /** Extra HTTP headers of the upgrade request (e.g. `Authorization`). Default none. */
  headers?: Record<string, string>;
  /** Called on open, close, each scheduled reconnect and each dropped outgoing message. If it throws, the stream ends with `SEQ_WS_CALLBACK` and the socket closes. Default none. */
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
 *    stream with `SEQ_WS_BAD_JSON` / `SEQ_WS_BINARY`, or is skipped (`invalidInput: 'skip'`).
 * 3. `outgoing` values are sent in order while the socket's `bufferedAmount` is under
 *    `maxBufferedBytes`; otherwise, and while disconnected, they wait in a queue of at most
 *    `maxQueuedMessages` (oldest dropped, reported as `{type: 'dropped', total}`), sent as the
 *    socket drains.
 * 4. A close with a code in `completeOnCloseCodes` completes the stream; one in `finalCloseCodes`
 *    errors with `SEQ_WS_CLOSED_FINAL`. Any other close, a failed attempt or an HTTP
 *    429/502/503/504 at the upgrade schedules a reconnect after
 *    `min(maxDelayMs, initialDelayMs × factor^(n−1)) × (1 − jitter × U)` for the n-th consecutive
 *    failure; only a connection that stayed open `stableAfterMs` resets n. After `maxAttempts`
 *    failures the stream errors with `SEQ_WS_RECONNECT_EXHAUSTED`. Any other HTTP status (401,
 *    403, ...) errors at once with `SEQ_WS_REJECTED` (`details.status`), since retrying would not help.
 * 5. A throwing `onStatus` or `onError` ends the stream once with `SEQ_WS_CALLBACK`
 *    (`details.callback`) and closes the socket; it never escapes into ws's event handlers.
 * 6. Unsubscribing closes the socket (1000) and cancels any pending reconnect.
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
    let droppedTotal = 0;
    let outgoing: Subscription | null = null;

    const finish = (error?: SeqstreamError): void => {
      if (done) return;
      done = true;
      if (error) subscriber.error(error);
      else subscriber.complete();
    };

    const closeSocket = (): void => {
      const s = ws;
      if (!s) return;
      if (s.readyState === WebSocket.CONNECTING) s.terminate();
      else if (s.readyState === WebSocket.OPEN) s.close(1000);
    };

    // User callbacks run inside ws's event handlers: a throw there would be an uncaught exception.
    // Returns false (and has ended the stream) if the callback threw.
    const call = <A, B>(name: 'onStatus' | 'onError', fn: ((arg: A, input: B) => void) | undefined, arg: A, input: B): boolean => {
      if (!fn) return true;
      try {
        fn(arg, input);
        return true;
      } catch (e) {
        finish(new SeqstreamError('SEQ_WS_CALLBACK', `${name} threw: ${String((e as Error)?.message ?? e)}`, { callback: name }));
        closeSocket();
        return false;
      }
    };

    // Each send's callback runs once ws has handed its bytes to the kernel, so the last pending
    // one sees the buffer drained and sends more: ws has no 'drain' event of its own.
    const flush = (): void => {
      while (!done && ws && ws.readyState === WebSocket.OPEN && queue.length > 0 && ws.bufferedAmount < o.maxBufferedBytes) {
        ws.send(queue.shift()!, (err) => {
          if (!err) flush();
        });
      }
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
      let openedAt = 0;
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
        if (done) return;
        opened = true;
        openedAt = performance.now();
        if (!call('onStatus', o.onStatus, { type: 'open', attempt: failures }, undefined)) return;
        flush();
      });
      socket.on('message', (data, isBinary) => {
        if (done) return;
        if (isBinary) return invalid(new SeqstreamError('SEQ_WS_BINARY', 'Received a binary frame on a text feed', { url: target }), undefined);
        const text = Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data as ArrayBuffer).toString('utf8');
        let value: T;
        try {
          value = parse(text);
        } catch (e) {
          return invalid(new SeqstreamError('SEQ_WS_BAD_JSON', `Message does not parse: ${(e as Error).message}`, { url: target, received: describe(text) }), text);
        }
        subscriber.next(value);
      });
      // Every failure ends in 'close'; the decision is made there.
      socket.on('error', () => undefined);
      socket.on('close', (code, reasonBuffer) => {
        if (ws === socket) ws = null;
        if (done) return;
        const reason = reasonBuffer.toString();
        if (opened && !call('onStatus', o.onStatus, { type: 'close', code, reason }, undefined)) return;
        if (rejectedStatus !== null && !RETRYABLE_STATUS.has(rejectedStatus)) {
          return finish(new SeqstreamError('SEQ_WS_REJECTED', `Server refused the websocket upgrade with HTTP ${rejectedStatus}`, { status: rejectedStatus, url: target }));
        }
        if (opened && o.completeOnCloseCodes.includes(code)) return finish();
        if (opened && o.finalCloseCodes.includes(code)) {
          return finish(new SeqstreamError('SEQ_WS_CLOSED_FINAL', `Connection closed with final code ${code}${reason ? `: ${reason}` : ''}; not reconnecting`, { code, reason, url: target }));
        }
        if (o.reconnect === false) return finish(new SeqstreamError('SEQ_WS_CLOSED', `Connection closed (code ${code}${reason ? `: ${reason}` : ''})`, { code, reason, url: target }));
        const r = o.reconnect;
        // Only a connection that lasted counts as a success; a quick close is one more failure.
        if (opened && performance.now() - openedAt >= r.stableAfterMs) failures = 0;
        failures++;
        if (failures > r.maxAttempts) {
          return finish(new SeqstreamError('SEQ_WS_RECONNECT_EXHAUSTED', `Gave up after ${r.maxAttempts} failed reconnect attempts (last close code ${code})`, { attempts: r.maxAttempts, code, url: target }));
        }
        const base = Math.min(r.maxDelayMs, r.initialDelayMs * r.factor ** (failures - 1));
        const delayMs = Math.round(base * (1 - r.jitter * o.random()));
        if (!call('onStatus', o.onStatus, { type: 'reconnecting', attempt: failures, delayMs }, undefined)) return;
        timer = setTimeout(() => {
          timer = null;
          connect();
        }, delayMs);
      });
    };

    const invalid = (error: SeqstreamError, text: string | undefined): void => {
      if (o.invalidInput === 'skip') {
        call('onError', o.onError, error, text);
        return;
      }
      finish(error);
      closeSocket();
    };

    if (o.outgoing) {
      outgoing = o.outgoing.subscribe({
        next: (m) => {
          if (done) return;
          queue.push(typeof m === 'string' ? m : JSON.stringify(m, jsonReplacer));
          if (queue.length > o.maxQueuedMessages) {
            queue.shift();
            droppedTotal++;
            if (!call('onStatus', o.onStatus, { type: 'dropped', total: droppedTotal }, undefined)) return;
          }
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
  invalidInput: 'error' | 'skip';
  onError?: ErrorCallback<string | undefined>;
  reconnect: Required<ReconnectOptions> | false;
  completeOnCloseCodes: readonly number[];
  finalCloseCodes: readonly number[];
  outgoing?: Observable<unknown>;
  maxQueuedMessages: number;
  maxBufferedBytes: number;
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
          stableAfterMs: r.stableAfterMs ?? 5000,
        };
  const o: Resolved<T> = {
    parse: options.parse ?? 'json',
    invalidInput: options.invalidInput ?? 'error',
    onError: options.onError,
    reconnect,
    completeOnCloseCodes: options.completeOnCloseCodes ?? [1000],
    finalCloseCodes: options.finalCloseCodes ?? [4002, 4003, 1008, 1009],
    outgoing: options.outgoing,
    maxQueuedMessages: options.maxQueuedMessages ?? 1024,
    maxBufferedBytes: options.maxBufferedBytes ?? 1048576,
    maxPayload: options.maxPayload ?? 1048576,
    handshakeTimeoutMs: options.handshakeTimeoutMs ?? 10000,
    headers: options.headers,
    onStatus: options.onStatus,
    random: options.random ?? Math.random,
  };
  if (o.parse !== 'json' && o.parse !== 'text' && typeof o.parse !== 'function') throw new InvalidOptionError('parse', "'json', 'text' or a function", o.parse);
  oneOfOption('invalidInput', o.invalidInput, INVALID_INPUT, undefined);
  if (reconnect) {
    const pos = (name: keyof ReconnectOptions, v: number, min: number): void => {
      if (typeof v !== 'number' || !Number.isFinite(v) || v < min) throw new InvalidOptionError(`reconnect.${name}`, `a finite number >= ${min}`, v);
    };
    pos('initialDelayMs', reconnect.initialDelayMs, 0);
    pos('maxDelayMs', reconnect.maxDelayMs, reconnect.initialDelayMs);
    pos('factor', reconnect.factor, 1);
    pos('jitter', reconnect.jitter, 0);
    pos('stableAfterMs', reconnect.stableAfterMs, 0);
    if (reconnect.jitter > 1) throw new InvalidOptionError('reconnect.jitter', 'a number in [0, 1]', reconnect.jitter);
    if (!Number.isInteger(reconnect.maxAttempts) || reconnect.maxAttempts < 1) throw new InvalidOptionError('reconnect.maxAttempts', 'a positive integer', reconnect.maxAttempts);
  }
  for (const [name, v] of [['maxQueuedMessages', o.maxQueuedMessages], ['maxPayload', o.maxPayload], ['handshakeTimeoutMs', o.handshakeTimeoutMs], ['maxBufferedBytes', o.maxBufferedBytes]] as const) {
    integerOption(name, v, undefined, 1);
  }
  for (const [name, codes] of [['completeOnCloseCodes', o.completeOnCloseCodes], ['finalCloseCodes', o.finalCloseCodes]] as const) {
    if (!Array.isArray(codes) || !codes.every((c) => Number.isInteger(c))) throw new InvalidOptionError(name, 'an array of integer close codes', codes);
  }
  return o;
}
