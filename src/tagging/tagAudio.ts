import { Observable, type OperatorFunction } from 'rxjs';
import { AudioTagger, type AudioTaggerOptions, type TagEvent } from './audioTagger.js';
import type { Tagger } from './taggerModel.js';

/**
 * RxJS operator: blocks of mono samples (`Float32Array` or `number[]`, at `options.sampleRate`)
 * in, tag events out — `{ kind: 'segment', start, end, label }` as soon as each segment is
 * decided, and with `frames: true` `{ kind: 'frame', time, probabilities }` per frame.
 *
 * Algorithm: see {@link AudioTagger} (resample, log-mel every hop, one recurrent step, sigmoid
 * head, hysteresis smoothing). Each subscription has its own tagger state; on complete the last
 * frame is padded and open segments are decided. Bad samples (NaN) error the stream with
 * `SEQ_AUDIO_NON_FINITE`. Options (defaults): `sampleRate` (the model's), `frames` (false),
 * `smoothing` (the model's).
 *
 * @example
 * ```ts
 * import { from } from 'rxjs';
 * import { tagAudio, loadShippedVad } from 'seqstream/tagging';
 * from([new Float32Array(16000)]).pipe(tagAudio(loadShippedVad(), { sampleRate: 16000 }))
 *   .subscribe((e) => e.kind === 'segment' && console.log(e.start, e.end));
 * ```
 */
export function tagAudio(tagger: Tagger, options: AudioTaggerOptions = {}): OperatorFunction<ArrayLike<number>, TagEvent> {
  // checked at creation: bad options throw here, not at subscribe
  new AudioTagger(tagger, options);
  return (source) =>
    new Observable<TagEvent>((subscriber) => {
      const tagger$ = new AudioTagger(tagger, options);
      const emit = (events: TagEvent[]) => {
        for (const e of events) subscriber.next(e);
      };
      const sub = source.subscribe({
        next(block) {
          let events: TagEvent[];
          try {
            events = tagger$.push(block);
          } catch (err) {
            subscriber.error(err);
            return;
          }
          emit(events);
        },
        error: (err) => subscriber.error(err),
        complete() {
          emit(tagger$.end());
          subscriber.complete();
        },
      });
      return () => sub.unsubscribe();
    });
}
