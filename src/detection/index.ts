export { detectAnomalies, type AnomalyEvent, type DetectAnomaliesOptions, type DetectorCheckpointOptions, type DetectorEvictionReason, type SensorReading } from './detectAnomalies.js';
export { AnomalyDetector, type AnomalyDetectorJSON, type Detection } from './anomalyDetector.js';
export { AnomalyLikelihood, type AnomalyLikelihoodJSON, type AnomalyLikelihoodOptions } from './anomalyLikelihood.js';
export { RecurrentForecaster, type RecurrentForecasterJSON, type RecurrentForecasterOptions } from './recurrentForecaster.js';
export { resolveDetectorOptions, DETECTOR_DEFAULTS, type DetectorOptions, type ResolvedDetectorOptions, type ValueRange } from './detectorOptions.js';
export { DetectorControl, type DetectorStats } from './detectorControl.js';
export { MemoryDetectorStore, type DetectorCheckpoint, type DetectorStateStore } from './detectorCheckpoint.js';
export { logGaussianTail, tailScore } from './gaussianTail.js';
export { SeasonalProfile, type SeasonalProfileJSON } from './seasonalProfile.js';
