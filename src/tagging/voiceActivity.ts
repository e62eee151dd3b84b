import type { OperatorFunction } from 'rxjs';
import type { AudioTaggerOptions, TagEvent } from './audioTagger.js';
import { loadShippedVad } from './shippedVad.js';
import { tagAudio } from './tagAudio.js';

/**
 * Voice-activity detection: {@link tagAudio} with the shipped model. Sample blocks in,
 * `{ kind: 'segment', start, end, label: 'speech' }` out (plus frames with `frames: true`).
 * Options as for `tagAudio` (`sampleRate` default 16000, the model's rate).
 *
 * @example
 * ```ts
 * import { voiceActivity } from 'seqstream/tagging';
 * micBlocks$.pipe(voiceActivity({ sampleRate: 48000 })).subscribe((s) => console.log(s));
 * ```
 */
export function voiceActivity(options: AudioTaggerOptions = {}): OperatorFunction<ArrayLike<number>, TagEvent> {
  return tagAudio(loadShippedVad(), options);
}
