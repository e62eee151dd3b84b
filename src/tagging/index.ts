export { LogMelFeatures, NoiseFloor, featureSize, DEFAULT_LOG_MEL, checkLogMelSettings, type LogMelSettings } from './logMelFeatures.js';
export { logMelFrames } from './logMelFrames.js';
export { Segmenter, DEFAULT_SMOOTHING, resolveSmoothing, type Segment, type SmoothingOptions } from './segmenter.js';
export { taggerFromJSON, type Tagger, type TaggerJSON } from './taggerModel.js';
export { AudioTagger, TAG_RATE_RANGE, type AudioTaggerOptions, type TagEvent } from './audioTagger.js';
export { tagAudio } from './tagAudio.js';
export { voiceActivity } from './voiceActivity.js';
export { loadShippedVad, SHIPPED_VAD_URL } from './shippedVad.js';
export { countSegmentFrames, scoreFrameCounts, emptyFrameCounts, type FrameCounts, type SegmentScores } from './scoreSegments.js';
