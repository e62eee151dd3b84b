import { describe, expect, it } from 'vitest';
import { checkUpgrade, hostAllowed, LOOPBACK_HOSTS, originAllowed, sessionIdAllowed, type GatePolicy } from '../../../../src/adapters/internal/websocket/upgradeGate.js';
import { parseMessage } from '../../../../src/adapters/internal/websocket/messageParser.js';
import { SeqstreamError } from '../../../../src/errors.js';

const policy: GatePolicy = { allowedHosts: LOOPBACK_HOSTS, allowedOrigins: 'same-host', minSessionIdLength: 16 };

describe('upgradeGate (pure request checks)', () => {
  it('checks in order: URL, path, Host, Origin, session id', () => {
    const ok = { host: 'localhost:8080' };
    expect(checkUpgrade({ url: '/x', headers: ok }, { ...policy, path: '/ws' })).toMatchObject({ status: 404, code: 'SEQ_WS_NOT_FOUND' });
    expect(checkUpgrade({ url: '/', headers: { host: 'attacker.example' } }, policy)).toMatchObject({ status: 403, code: 'SEQ_WS_HOST' });
    expect(checkUpgrade({ url: '/', headers: { ...ok, origin: 'http://attacker.example' } }, policy)).toMatchObject({ status: 403, code: 'SEQ_WS_ORIGIN' });
    expect(checkUpgrade({ url: '/?session=1', headers: ok }, policy)).toMatchObject({ status: 400, code: 'SEQ_WS_BAD_SESSION' });
    const pass = checkUpgrade({ url: '/?session=abcdefghijklmnop&token=t', headers: { ...ok, origin: 'http://localhost:8080' } }, policy);
    expect(pass).toMatchObject({ session: 'abcdefghijklmnop', token: 't', origin: 'http://localhost:8080' });
  });

  it('prefers the Authorization header to the token query parameter', () => {
    const pass = checkUpgrade({ url: '/?token=query', headers: { host: '127.0.0.1', authorization: 'Bearer header' } }, policy);
    expect(pass).toMatchObject({ token: 'header' });
  });

  it('needs session ids long enough to be secrets, of safe characters only', () => {
    expect(sessionIdAllowed('a'.repeat(15), 16)).toBe(false);
    expect(sessionIdAllowed('a'.repeat(16), 16)).toBe(true);
    expect(sessionIdAllowed('a'.repeat(129), 16)).toBe(false);
    expect(sessionIdAllowed('a b/c-0123456789abcdef', 16)).toBe(false);
  });

  it('normalises Host names and treats a missing Host as refused', () => {
    expect(hostAllowed('LOCALHOST.:8080', LOOPBACK_HOSTS)).toBe(true);
    expect(hostAllowed('[::1]:80', LOOPBACK_HOSTS)).toBe(true);
    expect(hostAllowed(null, LOOPBACK_HOSTS)).toBe(false);
    expect(hostAllowed(null, '*')).toBe(true);
  });

  it('lets non-browser clients (no Origin) through and matches browser origins exactly', () => {
    expect(originAllowed(null, 'localhost', 'same-host')).toBe(true);
    expect(originAllowed('http://localhost:1', 'localhost:2', 'same-host')).toBe(false);
    expect(originAllowed('https://app.example', 'x', ['https://app.example'])).toBe(true);
    expect(originAllowed('not a url', 'x', 'same-host')).toBe(false);
  });
});

describe('parseMessage', () => {
  it('reads text, JSON text and vectors, with the reset flag', () => {
    expect(parseMessage('hi', { format: 'auto' })).toEqual({ text: 'hi' });
    expect(parseMessage('{"text":"hi","reset":true}', { format: 'auto' })).toEqual({ text: 'hi', reset: true });
    expect(parseMessage('{"x":[1,2]}', { format: 'json', inputSize: 2 })).toEqual({ x: [1, 2] });
    expect(parseMessage('{"x":[1,2]}', { format: 'text' })).toEqual({ text: '{"x":[1,2]}' });
  });

  it('returns coded errors for bad JSON, shapes and non-finite values', () => {
    const code = (raw: string, inputSize?: number): string => (parseMessage(raw, { format: 'auto', inputSize }) as SeqstreamError).code;
    expect(code('{nope')).toBe('SEQ_WS_BAD_JSON');
    expect(code('{"x":[1],"text":"a"}')).toBe('SEQ_WS_BAD_MESSAGE');
    expect(code('{"x":[1,2,3]}', 2)).toBe('SEQ_INPUT_SHAPE');
    expect(code('{"x":[1,"a"]}')).toBe('SEQ_INPUT_TYPE');
    expect(code('{"x":[1e999]}')).toBe('SEQ_INPUT_NON_FINITE');
    expect(code('{"x":[1],"reset":"yes"}')).toBe('SEQ_WS_BAD_MESSAGE');
  });
});
