import { afterEach, describe, expect, it } from 'vitest';
import { filter, firstValueFrom } from 'rxjs';
import { websocketByKey, type WebsocketKeyedOutput } from '../../src/adapters/websocketByKey.js';
import { websocketServer, type WebSocketServerOptions, type WebSocketTextServer } from '../../src/adapters/websocketServer.js';
import { RecurrentModel } from '../../src/cells/index.js';
import { KeyedRecurrentControl } from '../../src/streams/index.js';
import { codeOf } from '../support/errors.js';
import { connect, type TestClient } from './wsTestClient.js';

const sid = (name: string): string => `${name}-0123456789abcdef`;
const servers: WebSocketTextServer[] = [];
const clients: TestClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

const model = RecurrentModel.create({ cell: 'gru', inputSize: 3, hiddenSize: 6, head: { outputSize: 2 }, seed: 4 });
/** One input vector per character: a toy tokenizer + embedding. */
const encodeText = (text: string): number[][] => [...text].map((ch) => [Math.sin(ch.charCodeAt(0)), Math.cos(ch.charCodeAt(0)), ch.charCodeAt(0) / 128]);
/** What stepping the key's messages one character at a time alone gives after each message. */
function alone(messages: string[]): number[][] {
  const state = model.createState();
  return messages.map((m) => {
    let y: Float32Array = new Float32Array(0);
    for (const x of encodeText(m)) y = model.step(state, x);
    return Array.from(y);
  });
}

async function start(options: WebSocketServerOptions = {}): Promise<WebSocketTextServer> {
  const server = await websocketServer({ sessionHoldMs: 0, ...options });
  servers.push(server);
  return server;
}
async function open(url: string): Promise<TestClient> {
  const c = await connect(url);
  clients.push(c);
  await c.next(); // hello
  return c;
}

describe('websocketByKey', () => {
  it('steps each session on its own state, batched across sessions, and answers after a message\'s last token', async () => {
    const server = await start();
    websocketByKey(server, model, { encodeText }).pipe(server.reply()).subscribe();
    const a = await open(`${server.url}/?session=${sid('a')}`);
    const b = await open(`${server.url}/?session=${sid('b')}`);
    const aLines = ['hello', ' there', '!'];
    const bLines = ['pack my box', ' with'];
    aLines.forEach((l) => a.send(l));
    bLines.forEach((l) => b.send(l));
    const aOut = await a.waitFor(aLines.length + 1);
    const bOut = await b.waitFor(bLines.length + 1);
    expect(aOut.slice(1).map((m) => [m.seq, m.tokens])).toEqual([[1, 5], [2, 6], [3, 1]]);
    const want = alone(aLines);
    aOut.slice(1).forEach((m, i) => (m.y as number[]).forEach((v, j) => expect(v).toBeCloseTo(want[i][j], 5)));
    const wantB = alone(bLines);
    bOut.slice(1).forEach((m, i) => (m.y as number[]).forEach((v, j) => expect(v).toBeCloseTo(wantB[i][j], 5)));
  });

  it('yields the event loop between turns, so a long text never stalls other sessions', async () => {
    const server = await start();
    const outputs: WebsocketKeyedOutput[] = [];
    websocketByKey(server, model, { encodeText, tokensPerTurn: 1 }).subscribe((o) => outputs.push(o));
    const long = await open(`${server.url}/?session=${sid('long')}`);
    const short = await open(`${server.url}/?session=${sid('short')}`);
    let ticks = 0;
    let ticking = true;
    const tick = (): void => {
      ticks++;
      if (ticking) setImmediate(tick);
    };
    // The short message is sent the moment the long one has been accepted.
    void firstValueFrom(server.events.pipe(filter((e) => e.key === sid('long')))).then(() => {
      setImmediate(tick);
      short.send('hi');
    });
    long.send('x'.repeat(1000));
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        if (outputs.length === 2) resolve(clearInterval(poll));
      }, 5);
    });
    ticking = false;
    expect(outputs.map((o) => o.key)).toEqual([sid('short'), sid('long')]);
    expect(ticks).toBeGreaterThanOrEqual(900); // one turn per token: the loop turned between them
  });

  it('refuses a text over maxTokensPerMessage with SEQ_WS_TOO_MANY_TOKENS, stepping none of it', async () => {
    const server = await start();
    websocketByKey(server, model, { encodeText, maxTokensPerMessage: 8 }).pipe(server.reply()).subscribe();
    const a = await open(`${server.url}/?session=${sid('a')}`);
    const b = await open(`${server.url}/?session=${sid('b')}`);
    a.send('far too long a line');
    b.send('ok');
    expect(await a.next()).toMatchObject({ type: 'error', code: 'SEQ_WS_TOO_MANY_TOKENS' });
    expect(await b.next()).toMatchObject({ type: 'output', seq: 1, tokens: 2 });
    a.send('short');
    const reply = await a.next();
    expect(reply).toMatchObject({ type: 'output', seq: 2, tokens: 5 });
    (reply.y as number[]).forEach((v, j) => expect(v).toBeCloseTo(alone(['short'])[0][j], 5));
    expect(server.stats().errorsReplied).toBe(1);
  });

  it('refuses work beyond maxQueuedTokens with SEQ_WS_BUSY', async () => {
    const server = await start();
    websocketByKey(server, model, { encodeText, maxTokensPerMessage: 4, maxQueuedTokens: 6, tokensPerTurn: 1 }).pipe(server.reply()).subscribe();
    const a = await open(`${server.url}/?session=${sid('a')}`);
    a.send('abcd');
    a.send('efgh');
    const replies = (await a.waitFor(3)).slice(1);
    expect(replies.map((r) => r.type === 'error' ? r.code : r.seq).sort()).toEqual([1, 'SEQ_WS_BUSY'].sort());
  });

  it('checks {"x"} vectors against the model and refuses text without encodeText', async () => {
    const server = await start();
    websocketByKey(server, model).pipe(server.reply()).subscribe();
    const a = await open(`${server.url}/?session=${sid('a')}`);
    a.send(JSON.stringify({ x: [1, 2] }));
    expect(await a.next()).toMatchObject({ type: 'error', code: 'SEQ_INPUT_SHAPE' });
    a.send('text');
    expect(await a.next()).toMatchObject({ type: 'error', code: 'SEQ_WS_BAD_MESSAGE' });
    a.send(JSON.stringify({ x: [1, 2, 3] }));
    expect(await a.next()).toMatchObject({ type: 'output', seq: 3, tokens: 1 });
  });

  it('deletes a session\'s key from the keyed state when the session ends', async () => {
    const server = await start();
    const control = new KeyedRecurrentControl<string>();
    websocketByKey(server, model, { encodeText, keyed: { control } }).pipe(server.reply()).subscribe();
    const a = await open(`${server.url}/?session=${sid('a')}`);
    const b = await open(`${server.url}/?session=${sid('b')}`);
    a.send('abc');
    b.send('def');
    await a.next();
    await b.next();
    expect(control.keys().sort()).toEqual([sid('a'), sid('b')]);
    const ended = firstValueFrom(server.lifecycle.pipe(filter((e) => e.type === 'end')));
    await a.close();
    await ended;
    expect(control.keys()).toEqual([sid('b')]);
  });

  it('completes when the server closes, and throws SEQ_INVALID_OPTION on bad options', async () => {
    const server = await websocketServer();
    const done = firstValueFrom(websocketByKey(server, model), { defaultValue: 'completed' });
    await server.close();
    expect(await done).toBe('completed');
    expect(codeOf(() => websocketByKey(server, model, { tokensPerTurn: 0 }))).toBe('SEQ_INVALID_OPTION');
    expect(codeOf(() => websocketByKey(server, model, { maxTokensPerMessage: 10, maxQueuedTokens: 5 }))).toBe('SEQ_INVALID_OPTION');
  });
});
