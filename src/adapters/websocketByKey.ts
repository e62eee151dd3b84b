import { Observable, Subject } from 'rxjs';
import type { RecurrentModel } from '../cells/model.js';
import { validateInput } from '../cells/validateInput.js';
import { InvalidOptionError, type SeqstreamError } from '../errors.js';
import { KeyedRecurrentControl } from '../streams/keyedRecurrentControl.js';
import { recurrentByKey, type KeyedEvent, type KeyedOutput, type RecurrentByKeyOptions } from '../streams/recurrentByKey.js';
import type { WebSocketEvent, WebSocketTextServer } from './websocketTypes.js';
import { integerOption, functionOption } from '../options.js';

/** Options of {@link websocketByKey}. Every limit has a finite default. */
export interface WebsocketByKeyOptions {
  /**
   * Turns a text message into the model's input vectors, one per token (e.g. a tokenizer and an
   * embedding: `(t) => tokenizer.encode(t).map((id) => embedding.lookup(id))`). Without it, text
   * messages are refused with `SEQ_WS_BAD_MESSAGE`. Default none.
   */
  encodeText?: (text: string) => ArrayLike<number>[];
  /** Most model steps one message may cost; a text with more tokens is refused with `SEQ_WS_TOO_MANY_TOKENS` (nothing of it is stepped). Default 1024. */
  maxTokensPerMessage?: number;
  /** Most tokens a session may have waiting to be stepped; a message beyond it is refused with `SEQ_WS_BUSY`. Default 8192. */
  maxQueuedTokens?: number;
  /** Tokens each busy session feeds per turn; sessions take turns and the event loop is yielded between turns. Default 64. */
  tokensPerTurn?: number;
  /** Options for the `recurrentByKey` inside (`emit`, `maxBatch`, `maxKeys`, `checkpoint`, `control`, ...). Default `{}`. */
  keyed?: Omit<RecurrentByKeyOptions<string>, 'invalidInput' | 'onError'>;
}

/** One reply of {@link websocketByKey}: the model's answer after the whole message. */
export interface WebsocketKeyedOutput {
  /** The session's key. */
  key: string;
  /** The connection that sent the message. */
  connectionId: string;
  /** The message's `seq` (per session, continuing across reconnects). */
  seq: number;
  /** Model steps the message took (1 for `{"x"}`, its token count for text). */
  tokens: number;
  /** Output after the message's last step (`emit` decides which), or `null` for a text with no tokens. */
  y: Float32Array | null;
  /** The top layer's `h`, with `keyed.emit: 'all'`. */
  h?: Float32Array;
}

interface Message {
  event: WebSocketEvent;
  tokens: number;
  /** Steps of this message not yet emitted by the model. */
  outstanding: number;
}

interface KeyQueue {
  /** Input vectors not yet fed (each with its reset flag). */
  waiting: Array<{ x: ArrayLike<number>; reset: boolean }>;
  /** Messages whose steps are fed or waiting, in order. */
  messages: Message[];
  /** Steps fed to the model whose outputs have not come back. */
  inFlight: number;
  /** The session ended: feed nothing more, free the key once in-flight steps are back. */
  ended: boolean;
}

const DEFAULTS = { maxTokensPerMessage: 1024, maxQueuedTokens: 8192, tokensPerTurn: 64 };

/**
 * Runs one recurrent model per websocket session, batched across sessions by `recurrentByKey`,
 * and answers each message once its last step is done.
 *
 * 1. Each accepted message becomes input vectors: `{"x": [...]}` one (checked against the model's
 *    input size), text one per token through `encodeText`. A message over `maxTokensPerMessage`,
 *    or one that would take its session past `maxQueuedTokens`, is refused with a coded error
 *    reply and changes nothing.
 * 2. Sessions take turns: each turn feeds up to `tokensPerTurn` vectors of every busy session into
 *    `recurrentByKey` (so one turn is one batched step across sessions), then yields to the event
 *    loop. A long text therefore never stalls the other sessions.
 * 3. The output of a message's last step is emitted as `{ key, connectionId, seq, tokens, y }`;
 *    pipe it into `server.reply()`.
 * 4. When a session ends (`lifecycle` `end`), its waiting vectors are dropped and its key is
 *    deleted from the keyed state once its in-flight steps are back.
 * 5. Completes when the server closes.
 *
 * @example
 * ```ts
 * import { websocketServer } from 'seqstream/adapters/websocketServer';
 * import { websocketByKey } from 'seqstream/adapters/websocketByKey';
 * const server = await websocketServer({ port: 8080 });
 * websocketByKey(server, model, { encodeText: (t) => tokenizer.encode(t).map((id) => embedding.lookup(id)) })
 *   .pipe(server.reply(({ seq, y }) => ({ type: 'output', seq, next: argmax(y!) })))
 *   .subscribe();
 * ```
 */
export function websocketByKey(server: WebSocketTextServer, model: RecurrentModel, options: WebsocketByKeyOptions = {}): Observable<WebsocketKeyedOutput> {
  const o = resolveOptions(options);
  const inputSize = model.config.inputSize;
  return new Observable<WebsocketKeyedOutput>((subscriber) => {
    const control = options.keyed?.control ?? new KeyedRecurrentControl<string>();
    const queues = new Map<string, KeyQueue>();
    const busy = new Set<string>();
    const input = new Subject<KeyedEvent<string>>();
    let turn: NodeJS.Immediate | undefined;
    let sourceDone = false;

    const refuse = (e: WebSocketEvent, code: Parameters<WebSocketTextServer['refuse']>[1], message: string): void => server.refuse(e.key, code, message);

    const freeIfDone = (key: string, q: KeyQueue): void => {
      if (!q.ended || q.inFlight > 0) return;
      queues.delete(key);
      control.delete(key);
    };

    const onOutput = (out: KeyedOutput<string>): void => {
      const q = queues.get(out.key);
      if (!q) return;
      q.inFlight--;
      const m = q.messages[0];
      if (m && --m.outstanding === 0) {
        q.messages.shift();
        if (!q.ended) subscriber.next({ key: out.key, connectionId: m.event.connectionId, seq: m.event.seq, tokens: m.tokens, y: out.y, ...(out.h ? { h: out.h } : {}) });
      }
      freeIfDone(out.key, q);
      if (sourceDone && busy.size === 0 && [...queues.values()].every((x) => x.inFlight === 0)) input.complete();
    };

    const runTurn = (): void => {
      turn = undefined;
      for (const key of [...busy]) {
        const q = queues.get(key)!;
        const n = Math.min(o.tokensPerTurn, q.waiting.length);
        const fed = q.waiting.splice(0, n);
        q.inFlight += n;
        if (q.waiting.length === 0) busy.delete(key);
        for (const { x, reset } of fed) input.next(reset ? { key, x, reset } : { key, x });
      }
      if (busy.size > 0) turn = setImmediate(runTurn);
    };

    const onEvent = (e: WebSocketEvent): void => {
      let vectors: ArrayLike<number>[];
      if (e.x !== undefined) {
        try {
          validateInput(e.x, inputSize);
        } catch (err) {
          const error = err as SeqstreamError;
          return refuse(e, error.code as 'SEQ_INPUT_SHAPE', error.message);
        }
        vectors = [e.x];
      } else if (!o.encodeText) {
        return refuse(e, 'SEQ_WS_BAD_MESSAGE', 'This server takes {"x": [...]} vectors only (no encodeText for text messages)');
      } else {
        vectors = o.encodeText(e.text ?? '');
        if (vectors.length > o.maxTokensPerMessage) {
          return refuse(e, 'SEQ_WS_TOO_MANY_TOKENS', `Message has ${vectors.length} tokens; at most ${o.maxTokensPerMessage} per message`);
        }
      }
      let q = queues.get(e.key);
      if (q?.ended) {
        freeIfDone(e.key, q); // a new session under an old key: start it afresh
        q = queues.get(e.key);
        if (q) return refuse(e, 'SEQ_WS_BUSY', 'The previous session under this key is still finishing; retry');
      }
      if (!q) queues.set(e.key, (q = { waiting: [], messages: [], inFlight: 0, ended: false }));
      if (q.waiting.length + vectors.length > o.maxQueuedTokens) {
        return refuse(e, 'SEQ_WS_BUSY', `Session has ${q.waiting.length} tokens waiting; at most ${o.maxQueuedTokens}`);
      }
      if (vectors.length === 0) {
        if (e.reset) control.reset(e.key);
        subscriber.next({ key: e.key, connectionId: e.connectionId, seq: e.seq, tokens: 0, y: null });
        return;
      }
      vectors.forEach((x, i) => q!.waiting.push({ x, reset: i === 0 && e.reset === true }));
      q.messages.push({ event: e, tokens: vectors.length, outstanding: vectors.length });
      busy.add(e.key);
      if (!turn) turn = setImmediate(runTurn);
    };

    const keyedSub = input.pipe(recurrentByKey(model, { ...options.keyed, control, invalidInput: 'error' })).subscribe({
      next: onOutput,
      error: (err) => subscriber.error(err),
      complete: () => subscriber.complete(),
    });
    const lifeSub = server.lifecycle.subscribe((e) => {
      if (e.type !== 'end') return;
      const q = queues.get(e.key);
      if (!q) return;
      q.ended = true;
      q.waiting.length = 0;
      busy.delete(e.key);
      freeIfDone(e.key, q);
    });
    const eventSub = server.events.subscribe({
      next: onEvent,
      error: (err) => subscriber.error(err),
      complete: () => {
        sourceDone = true;
        if (busy.size === 0 && [...queues.values()].every((x) => x.inFlight === 0)) input.complete();
      },
    });
    return () => {
      if (turn) clearImmediate(turn);
      eventSub.unsubscribe();
      lifeSub.unsubscribe();
      keyedSub.unsubscribe();
    };
  });
}

function resolveOptions(options: WebsocketByKeyOptions): Required<Omit<WebsocketByKeyOptions, 'encodeText' | 'keyed'>> & Pick<WebsocketByKeyOptions, 'encodeText'> {
  const o = { ...DEFAULTS, ...options };
  for (const name of ['maxTokensPerMessage', 'maxQueuedTokens', 'tokensPerTurn'] as const) {
    integerOption(name, o[name], undefined, 1);
  }
  if (o.maxQueuedTokens < o.maxTokensPerMessage) throw new InvalidOptionError('maxQueuedTokens', `an integer >= maxTokensPerMessage (${o.maxTokensPerMessage})`, o.maxQueuedTokens);
  functionOption('encodeText', o.encodeText);
  return o;
}
