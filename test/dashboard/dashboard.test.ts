import { firstValueFrom, from, lastValueFrom, NEVER, Subject, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { dashboard } from '../../src/dashboard/dashboard.js';
import { httpStatus as status } from '../support/httpStatus.js';

describe('dashboard()', () => {
  it('checks its options when created', () => {
    expect(() => dashboard({ updateIntervalMs: 0 })).toThrow(expect.objectContaining({ code: 'SEQ_INVALID_OPTION' }));
    expect(() => dashboard({ historyPoints: 1 })).toThrow(expect.objectContaining({ code: 'SEQ_INVALID_OPTION' }));
    expect(() => dashboard({ maxChannels: 65 })).toThrow(expect.objectContaining({ code: 'SEQ_INVALID_OPTION' })); // widths are packed in 8 bits
    expect(() => dashboard({ maxChannels: 64 })).not.toThrow();
  });

  it('passes every event through (bad ones too) and serves the page while subscribed', async () => {
    const urls: string[] = [];
    const input = new Subject<{ key: string; x: number[] }>();
    const seen: unknown[] = [];
    const listening = new Promise<string>((resolve) => {
      input.pipe(dashboard({ onListening: (u) => { urls.push(u); resolve(u); } })).subscribe((e) => seen.push(e));
    });
    input.next({ key: 'a', x: [1] }); // before it listens: kept
    const url = await listening;
    input.next({ x: [2] } as never);
    expect(seen).toHaveLength(2);
    expect(await status(url)).toBe(200);
    input.complete();
    await new Promise((r) => setTimeout(r, 50));
    expect(await status(url)).toBe(-1); // closed with the stream
    expect(urls).toHaveLength(1);
  });

  it('completes and errors with its source; an empty source is fine', async () => {
    expect(await lastValueFrom(from([]).pipe(dashboard(), toArray()))).toEqual([]);
    expect(await lastValueFrom(from([{ key: 'a' }, { key: 'b' }]).pipe(dashboard(), toArray()))).toHaveLength(2);
    const failing = new Subject<{ key: string }>();
    const result = firstValueFrom(failing.pipe(dashboard()));
    failing.error(new Error('boom'));
    await expect(result).rejects.toThrow('boom');
  });

  it('errors with SEQ_DASHBOARD_LISTEN when its port is taken', async () => {
    let url = '';
    const first = NEVER.pipe(dashboard({ onListening: (u) => (url = u) })).subscribe();
    await new Promise((r) => setTimeout(r, 100));
    const port = Number(new URL(url).port);
    await expect(firstValueFrom(NEVER.pipe(dashboard({ port })))).rejects.toMatchObject({ code: 'SEQ_DASHBOARD_LISTEN' });
    first.unsubscribe();
  });
});
