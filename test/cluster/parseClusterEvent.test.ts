import { describe, expect, it } from 'vitest';
import { parseClusterEvent } from '../../src/cluster/parseClusterEvent.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('parseClusterEvent', () => {
  it('reads key, x and reset; a number key becomes a string; the subject key fills in', () => {
    expect(parseClusterEvent(enc('{"key":"a","x":[1,2],"reset":true}'))).toEqual({ key: 'a', x: [1, 2], reset: true });
    expect(parseClusterEvent(enc('{"key":7,"x":[1]}'))).toEqual({ key: '7', x: [1], reset: false });
    expect(parseClusterEvent(enc('[1,2,3]'), 'sensor-1')).toEqual({ key: 'sensor-1', x: [1, 2, 3], reset: false });
    expect(parseClusterEvent(enc('{"x":[1]}'), 'sensor-1')).toEqual({ key: 'sensor-1', x: [1], reset: false });
  });
  it('rejects what cannot be an event with SEQ_CLUSTER_MALFORMED and a reason', () => {
    for (const bad of ['{nope', 'null', '3', '{"x":[1]}', '{"key":"","x":[1]}', '{"key":{},"x":[1]}', '{"key":"a","x":[1],"reset":"yes"}']) {
      const r = parseClusterEvent(enc(bad));
      expect(r, bad).toMatchObject({ code: 'SEQ_CLUSTER_MALFORMED' });
      expect((r as { message: string }).message.length).toBeGreaterThan(0);
    }
    expect(parseClusterEvent(Uint8Array.from([0xff, 0xfe]))).toMatchObject({ code: 'SEQ_CLUSTER_MALFORMED' });
  });
});
