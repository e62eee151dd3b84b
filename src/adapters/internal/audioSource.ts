import type { Observable } from 'rxjs';
import type { AudioFeatureLayout } from './featureExtractor.js';
import type { AudioFrame } from './featurePipeline.js';

/** An Observable of analysed frames that also tells the layout of their feature vectors. */
export type AudioSource = Observable<AudioFrame> & {
  /** Layout of every frame's `x`; `layout.length` is the model's `inputSize`. */
  readonly layout: AudioFeatureLayout;
};
