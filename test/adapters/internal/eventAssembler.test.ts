import { describe, expect, it } from 'vitest';
import { EventAssembler } from '../../../src/adapters/internal/eventAssembler.js';
import { resolveMapping, type SensorEvent, type SensorMappingOptions } from '../../../src/adapters/internal/sensorOptions.js';
import type { SeqstreamError } from '../../../src/errors.js';

function assembler(options: SensorMappingOptions, keyLimit?: 'reject' | 'evict') {
  const events: SensorEvent[] = [];
  const errors: SeqstreamError[] = [];
  const a = new EventAssembler(resolveMapping({ invalidInput: 'skip', onError: (e) => errors.push(e), ...options }, { timestamp: 'timestamp', invalidInput: 'skip' }), (e) => events.push(e), (e) => { throw e; }, { keyLimit });
  const at = (line: number, defaultKey = 'd') => ({ source: 's', line, byteOffset: 0, defaultKey });
  return { a, events, errors, at };
}

describe('EventAssembler key state', () => {
  it('endInput flushes and frees the input default key once, and only when no other input feeds a key', () => {
    const { a, events, at } = assembler({ order: { reorderWindow: 10 }, maxKeys: 1 });
    const one = a.openInput('one');
    a.accept({ timestamp: 2, value: 2 }, { ...at(1, 'one'), input: one });
    a.accept({ timestamp: 1, value: 1 }, { ...at(2, 'one'), input: one });
    a.endInput(one);
    a.endInput(one);
    expect(events.map((e) => e.timestamp)).toEqual([1, 2]);
    // The freed key made room: maxKeys 1 admits the next input's key.
    const two = a.openInput('two');
    a.accept({ timestamp: 5, value: 5 }, { ...at(1, 'two'), input: two });
    a.endInput(two);
    expect(events.map((e) => [e.key, e.timestamp])).toEqual([['one', 1], ['one', 2], ['two', 5]]);
  });

  it("keyLimit 'evict' forgets the least recently used key; 'reject' (default) reports SEQ_SENSOR_TOO_MANY_KEYS", () => {
    const evicting = assembler({ key: 'k', missing: 'fill-previous', maxKeys: 2 }, 'evict');
    const send = (t: ReturnType<typeof assembler>, k: string, value: number | null) => t.a.accept({ k, timestamp: 1, value }, t.at(1));
    send(evicting, 'a', 1);
    send(evicting, 'b', 2);
    send(evicting, 'a', null); // a used again: b is now the oldest
    send(evicting, 'c', 3); // evicts b
    send(evicting, 'a', null); // a kept its previous value
    send(evicting, 'b', null); // b was forgotten: nothing to fill in
    expect(evicting.events.map((e) => [e.key, e.x[0]])).toEqual([['a', 1], ['b', 2], ['a', 1], ['c', 3], ['a', 1]]);
    expect(evicting.errors.map((e) => [e.code, e.details.noPrevious])).toEqual([['SEQ_SENSOR_MISSING_VALUE', true]]);

    const rejecting = assembler({ key: 'k', order: 'drop', maxKeys: 1 });
    send(rejecting, 'a', 1);
    send(rejecting, 'b', 2);
    expect(rejecting.errors.map((e) => e.code)).toEqual(['SEQ_SENSOR_TOO_MANY_KEYS']);
  });
});
