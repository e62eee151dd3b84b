import { describe, expect, it } from 'vitest';
import { filter, firstValueFrom, map, toArray, take } from 'rxjs';
import { websocketServer, WS_CLOSE, type WebSocketErrorContext } from '../../src/adapters/websocketServer.js';
import { RecurrentModel } from '../../src/cells/index.js';
import { SeqstreamError } from '../../src/errors.js';
import { closeAfterEach, expected, inputs, keyedModel, nextLifecycle, open, sid, start } from './websocketServerKit.js';

closeAfterEach();

describe('websocketServer: keyed streams', () => {
  it('serves 50 concurrent clients, each receiving exactly its own outputs in order', async () => {
    const server = await start({ inputSize: 2 });
    const model = RecurrentModel.create({ cell: 'gru', inputSize: 2, hiddenSize: 6, head: { outputSize: 2 }, seed: 11 });
    keyedModel(server, model);
    const N = 50;
    const T = 20;
    const cs = await Promise.all(Array.from({ length: N }, () => open(server.url)));
    // Interleave sends across clients so the server sees the streams mixed.
    for (let t = 0; t < T; t++) cs.forEach((c, i) => c.send({ x: inputs(i, T)[t] }));
    await Promise.all(
      cs.map(async (c, i) => {
        const msgs = await c.waitFor(T + 1);
        expect(msgs[0]).toMatchObject({ type: 'hello', resumed: false, seq: 0 });
        const outs = msgs.slice(1);
        expect(outs.map((m) => m.seq)).toEqual(Array.from({ length: T }, (_, t) => t + 1));
        expect(outs.every((m) => m.type === 'output')).toBe(true);
        const want = expected(model, inputs(i, T));
        outs.forEach((m, t) => (m.y as number[]).forEach((v, j) => expect(v).toBeCloseTo(want[t][j], 6)));
      }),
    );
    expect(server.stats()).toMatchObject({ connections: N, sessions: N, messagesIn: N * T });
  });

  it('parses plain text, {"text"}, {"x"} and the reset flag into typed events', async () => {
    const server = await start();
    const got = firstValueFrom(server.events.pipe(take(4), toArray()));
    const c = await open(server.url);
    const hello = await c.next();
    c.send('hello there');
    c.send({ text: '{not json' });
    c.send({ x: [1, 2.5, -3] });
    c.send({ x: [0], reset: true });
    const evs = await got;
    expect(evs.map(({ connectionId: _c, ...e }) => e)).toEqual([
      { key: hello.key, seq: 1, text: 'hello there' },
      { key: hello.key, seq: 2, text: '{not json' },
      { key: hello.key, seq: 3, x: [1, 2.5, -3] },
      { key: hello.key, seq: 4, x: [0], reset: true },
    ]);
    expect(evs[0].connectionId).toBe(hello.connectionId);
  });

  it('honours format "json" and "text"', async () => {
    const json = await start({ format: 'json' });
    const c = await open(json.url);
    await c.next();
    c.send('plain');
    expect(await c.next()).toMatchObject({ type: 'error', code: 'SEQ_WS_BAD_JSON' });
    const text = await start({ format: 'text' });
    const got = firstValueFrom(text.events);
    const d = await open(text.url);
    d.send({ x: [1] });
    expect((await got).text).toBe('{"x":[1]}');
  });

  it('send() to a key without a session returns false; typed arrays go out as arrays', async () => {
    const server = await start();
    expect(server.send('nobody', { y: 1 })).toBe(false);
    const c = await open(server.url);
    const hello = await c.next();
    expect(server.send(hello.key as string, { y: new Float32Array([0.5, 1]) })).toBe(true);
    expect(await c.next()).toEqual({ y: [0.5, 1] });
  });

  it('resumes a session by id: same key, seq and model state after a reconnect', async () => {
    const server = await start({ inputSize: 2 });
    const model = RecurrentModel.create({ cell: 'lstm', inputSize: 2, hiddenSize: 5, head: { outputSize: 1 }, seed: 2 });
    keyedModel(server, model);
    const xs = inputs(7, 6);
    const a = await open(`${server.url}/?session=${sid('alice-1234')}`);
    expect(await a.next()).toMatchObject({ type: 'hello', key: sid('alice-1234'), resumed: false });
    xs.slice(0, 3).forEach((x) => a.send({ x }));
    const first = (await a.waitFor(4)).slice(1);
    const gone = nextLifecycle(server, (e) => e.type === 'close');
    await a.close();
    await gone;
    const b = await open(`${server.url}/?session=${sid('alice-1234')}`);
    expect(await b.next()).toMatchObject({ type: 'hello', key: sid('alice-1234'), resumed: true, seq: 3 });
    xs.slice(3).forEach((x) => b.send({ x }));
    const second = (await b.waitFor(4)).slice(1);
    const want = expected(model, xs);
    expect([...first, ...second].map((m) => m.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    [...first, ...second].forEach((m, t) => expect((m.y as number[])[0]).toBeCloseTo(want[t][0], 6));
  });

  it('queues replies while a session waits for its reconnect and delivers them after the hello', async () => {
    const server = await start();
    const a = await open(`${server.url}/?session=${sid('erin')}`);
    await a.next();
    const gone = nextLifecycle(server, (e) => e.type === 'close');
    await a.close();
    await gone;
    expect(server.send(sid('erin'), { n: 1 })).toBe(true);
    expect(server.send(sid('erin'), { n: 2 })).toBe(true);
    const b = await open(`${server.url}/?session=${sid('erin')}`);
    expect(await b.waitFor(3)).toEqual([expect.objectContaining({ type: 'hello', resumed: true }), { n: 1 }, { n: 2 }]);
  });

  it('a reply that cannot be serialised fails only its own key', async () => {
    const errs: Array<[SeqstreamError, WebSocketErrorContext]> = [];
    const server = await start({ onError: (e, ctx) => errs.push([e, ctx]) });
    server.events.pipe(map((e) => ({ key: e.key, seq: e.seq, y: e.text === 'bad' ? BigInt(1) : e.text })), server.reply()).subscribe();
    const a = await open(server.url);
    const b = await open(server.url);
    await a.next();
    await b.next();
    a.send('bad');
    b.send('good');
    expect(await a.next()).toMatchObject({ type: 'error', code: 'SEQ_WS_REPLY_UNSERIALIZABLE' });
    expect(await b.next()).toMatchObject({ type: 'output', y: 'good' });
    expect(errs.map(([e]) => e.code)).toEqual(['SEQ_WS_REPLY_UNSERIALIZABLE']);
    expect(errs[0][1].key).toBe(errs[0][0].details.key);
    a.send('fine now');
    expect(await a.next()).toMatchObject({ type: 'output', seq: 2, y: 'fine now' });
  });

  it('a throwing onError is a process warning: the connection and the server carry on', async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error): number => warnings.push(w);
    process.on('warning', onWarning);
    try {
      const server = await start({ inputSize: 2, onError: () => { throw new Error('handler bug'); } });
      server.events.pipe(map((e) => ({ key: e.key, seq: e.seq, y: e.x })), server.reply()).subscribe();
      const a = await open(server.url);
      await a.next();
      a.send('{"x": [1,');
      expect(await a.next()).toMatchObject({ type: 'error', code: 'SEQ_WS_BAD_JSON' });
      a.send({ x: [1, 2] });
      expect(await a.next()).toMatchObject({ type: 'output', seq: 1, y: [1, 2] });
      await new Promise((r) => setImmediate(r));
      expect(warnings.map((w) => (w as Error & { code?: string }).code)).toContain('SEQ_WS_CALLBACK');
      expect(warnings.map((w) => w.message).join(' ')).toContain('handler bug');
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('events is hot: a late subscriber sees later messages; unsubscribing does not stop the server', async () => {
    const server = await start();
    const c = await open(server.url);
    await c.next();
    const first = server.events.subscribe();
    first.unsubscribe();
    const got = firstValueFrom(server.events);
    c.send('later');
    expect((await got).text).toBe('later');
  });

  it('ends a session after sessionHoldMs; a later reconnect starts fresh', async () => {
    const server = await start({ sessionHoldMs: 50 });
    const a = await open(`${server.url}/?session=${sid('bob')}`);
    await a.next();
    a.send('hi');
    await firstValueFrom(server.events);
    const ended = nextLifecycle(server, (e) => e.type === 'end');
    await a.close();
    expect(await ended).toEqual({ type: 'end', key: sid('bob'), reason: 'expired' });
    const b = await open(`${server.url}/?session=${sid('bob')}`);
    expect(await b.next()).toMatchObject({ resumed: false, seq: 0 });
  });

  it('moves a session to a newer connection and closes the old one with 4003', async () => {
    const server = await start();
    const a = await open(`${server.url}/?session=${sid('carol')}`);
    await a.next();
    const b = await open(`${server.url}/?session=${sid('carol')}`);
    expect(await b.next()).toMatchObject({ resumed: true });
    expect((await a.closed).code).toBe(WS_CLOSE.SESSION_TAKEN_OVER);
    server.send(sid('carol'), { to: 'b' });
    expect(await b.next()).toEqual({ to: 'b' });
  });

  it('closes every connection with 1001 on close() and completes its observables', async () => {
    const server = await websocketServer();
    const c = await open(server.url);
    await c.next();
    const done = firstValueFrom(server.events.pipe(toArray()));
    const ends = firstValueFrom(server.lifecycle.pipe(filter((e) => e.type === 'end'), toArray()));
    await server.close();
    expect((await c.closed).code).toBe(WS_CLOSE.GOING_AWAY);
    expect(await done).toEqual([]);
    expect((await ends).map((e) => e.type === 'end' && e.reason)).toEqual(['shutdown']);
  });
});

describe('websocketServer: bad input never disturbs other connections', () => {
  it('replies with stable codes and keeps the connection and its neighbours working', async () => {
    const errs: Array<[SeqstreamError, WebSocketErrorContext]> = [];
    const server = await start({ inputSize: 2, onError: (e, ctx) => errs.push([e, ctx]) });
    const model = RecurrentModel.create({ cell: 'rnn_tanh', inputSize: 2, hiddenSize: 3, seed: 5 });
    keyedModel(server, model);
    const bad = await open(server.url);
    const good = await open(server.url);
    await bad.next();
    await good.next();
    const cases: Array<[unknown, string]> = [
      ['{"x": [1, 2', 'SEQ_WS_BAD_JSON'],
      ['{}', 'SEQ_WS_BAD_MESSAGE'],
      [{ x: [1, 2], text: 'both' }, 'SEQ_WS_BAD_MESSAGE'],
      [{ text: 42 }, 'SEQ_WS_BAD_MESSAGE'],
      [{ x: [1, 2], reset: 'yes' }, 'SEQ_WS_BAD_MESSAGE'],
      [{ x: 'abc' }, 'SEQ_INPUT_TYPE'],
      [{ x: [1, 'a'] }, 'SEQ_INPUT_TYPE'],
      [{ x: [1, 2, 3] }, 'SEQ_INPUT_SHAPE'],
      ['{"x": [1e999, 0]}', 'SEQ_INPUT_NON_FINITE'],
      [Buffer.from([1, 2, 3]), 'SEQ_WS_BINARY'],
    ];
    for (const [msg] of cases) bad.send(msg);
    good.send({ x: [0.1, 0.2] });
    const replies = await bad.waitFor(1 + cases.length);
    expect(replies.slice(1).map((r) => r.code)).toEqual(cases.map(([, code]) => code));
    expect(replies.slice(1).every((r) => r.type === 'error' && typeof r.message === 'string')).toBe(true);
    expect(errs.map(([e]) => e.code)).toEqual(cases.map(([, code]) => code));
    expect(errs.every(([e, ctx]) => e instanceof SeqstreamError && ctx.connectionId.length > 0 && ctx.key.length > 0)).toBe(true);
    expect(await good.next()).toMatchObject({ type: 'output', seq: 1 });
    bad.send({ x: [0.1, 0.2] });
    expect(await bad.next()).toMatchObject({ type: 'output', seq: 1 });
    expect(server.stats().errorsReplied).toBe(cases.length);
  });
});
