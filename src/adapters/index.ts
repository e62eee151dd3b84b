export { audioFeatures, type AudioFeaturesOptions, type AudioFeaturesOperator, type AudioFrame, type AudioFeatureOptions, type WindowingFunction, type AudioSource } from './audioFeatures.js';
export { audioFeatureLayout, type AudioFeatureLayout, type FeatureLayoutEntry } from './audioFeatureLayout.js';
export { audioFromWav, DEFAULT_MAX_WAV_BYTES, type AudioFromWavOptions } from './audioFromWav.js';
export { audioFromPcm, type AudioFromPcmOptions, type PcmEncoding, type PcmReadable } from './audioFromPcm.js';
