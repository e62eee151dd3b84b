import { readFileSync } from 'node:fs';
import { from, lastValueFrom, NEVER, Subject, take, throwError, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { wavSamples } from '../../src/adapters/wavSamples.js';
import { loadShippedVad } from '../../src/tagging/shippedVad.js';
import { tagAudio } from '../../src/tagging/tagAudio.js';
import { voiceActivity } from '../../src/tagging/voiceActivity.js';
import { codeOf, errorOf } from '../support/errors.js';

const { samples } = wavSamples(readFileSync('test/fixtures/vad/valid_0005.wav'));
const blocks = Array.from({ length: Math.ceil(samples.length / 1600) }, (_, i) => samples.subarray(i * 1600, (i + 1) * 1600));

describe('tagAudio / voiceActivity', () => {
  it('emits speech segments; each subscription has its own state', async () => {
    const op = voiceActivity({ sampleRate: 16000 });
    const a = await lastValueFrom(from(blocks).pipe(op, toArray()));
    const b = await lastValueFrom(from(blocks).pipe(op, toArray()));
    expect(a.length).toBeGreaterThan(0);
    expect(b).toEqual(a);
    for (const e of a) expect(e).toMatchObject({ kind: 'segment', label: 'speech' });
  });

  it('empty source: nothing; source error: passed on; bad samples: SEQ_AUDIO_NON_FINITE', async () => {
    expect(await lastValueFrom(from([]).pipe(tagAudio(loadShippedVad()), toArray()))).toEqual([]);
    const err = await errorOf(throwError(() => new Error('boom')).pipe(tagAudio(loadShippedVad())));
    expect((err as Error).message).toBe('boom');
    expect((await errorOf(from([[0, NaN]]).pipe(tagAudio(loadShippedVad())))).code).toBe('SEQ_AUDIO_NON_FINITE');
  });

  it('live source: segments arrive before the end; early unsubscribe stops pulling', async () => {
    const live = new Subject<Float32Array>();
    const seen: unknown[] = [];
    const sub = live.pipe(voiceActivity({ frames: true }), take(5)).subscribe((e) => seen.push(e));
    for (const b of blocks) live.next(b);
    expect(seen.length).toBe(5);
    expect(sub.closed).toBe(true);
    expect(live.observed).toBe(false);
    const never = NEVER.pipe(voiceActivity()).subscribe();
    never.unsubscribe();
  });

  it('checks options when the operator is created', () => {
    expect(codeOf(() => tagAudio(loadShippedVad(), { sampleRate: 5 }))).toBe('SEQ_INVALID_OPTION');
    expect(codeOf(() => voiceActivity({ smoothing: { onThreshold: 2 } }))).toBe('SEQ_INVALID_OPTION');
  });
});
