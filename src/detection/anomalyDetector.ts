import { AnomalyLikelihood, type AnomalyLikelihoodJSON } from './anomalyLikelihood.js';
import { ContextMemory, type ContextMemoryJSON } from './contextMemory.js';
import { resolveDetectorOptions, type DetectorOptions, type ResolvedDetectorOptions } from './detectorOptions.js';
import { tailScore } from './gaussianTail.js';
import { LevelNovelty, type LevelNoveltyJSON } from './levelNovelty.js';
import { RecurrentForecaster, type RecurrentForecasterJSON } from './recurrentForecaster.js';
import { SeasonalProfile, type SeasonalProfileJSON } from './seasonalProfile.js';
import { SustainedDeviation, type SustainedDeviationJSON } from './sustainedDeviation.js';

/** What {@link AnomalyDetector.update} says about one reading. */
export interface Detection {
  /** Anomaly score in [0, 1): higher is more anomalous; log-scaled near 1 (see `tailScore`). */
  score: number;
  /** The raw anomaly score that went into the likelihood (forecast error, 1 for a range excursion). */
  raw: number;
  /** The recurrent model's forecast of this reading, on the normalised scale (NaN at first). */
  forecast: number;
  /** The reading on the normalised scale (0..1 over the known or seen range). */
  normalised: number;
  /** log10 of the tail probability behind the score (0 while learning). */
  log10Likelihood: number;
  /** True when the reading left the range seen so far (after the learning period). */
  excursion: boolean;
  /** True when no earlier reading came near this one's level (`LevelNovelty`, after the learning period). */
  novelLevel: boolean;
  /** The contextual member's score (`ContextMemory`, 0 when off or while learning); before the refractory damping the score is at least about this. */
  contextScore: number;
  /** Readings seen so far, this one included. */
  count: number;
}

/** Plain-JSON state of one {@link AnomalyDetector} (its options are not included). */
export interface AnomalyDetectorJSON {
  format: 'seqstream-anomaly-detector';
  version: 1;
  count: number;
  seenMin: number | null;
  seenMax: number | null;
  previous: number | null;
  peak: number;
  forecaster: RecurrentForecasterJSON;
  likelihood: AnomalyLikelihoodJSON;
  /** Visited levels (absent in snapshots from before level novelty: then every level counts as visited). */
  levels?: LevelNoveltyJSON | null;
  seasonal: { profile: SeasonalProfileJSON; likelihood: AnomalyLikelihoodJSON; fit: [number, number, number] } | null;
  /** Contextual member (absent in snapshots from before it: then it starts empty). */
  context?: ContextMemoryJSON | null;
  /** Sustained deviation from the profile (absent in snapshots from before it: then it starts empty). */
  sustained?: SustainedDeviationJSON | null;
}

const DAY_MS = 86_400_000;
/** The forecaster's input of one step, written in full by every update before use: shared by every detector (one thread). */
const CALENDAR_FEATURES = new Float64Array(5);
const VALUE_FEATURES = new Float64Array(1);
const WEEK_MS = 7 * DAY_MS;

/**
 * The anomaly detector of one stream: an online recurrent forecaster, its error turned into a
 * likelihood against the stream's own error history, and range excursions.
 *
 * Algorithm, per reading (value v, timestamp t):
 * 1. Normalise v to u on [0, 1] with the known range (`range`) or, without one, the range seen so far.
 * 2. Raw score: |u - forecast|^errorPower (squared by default, the loss the model learns), the forecast being the previous u plus the change predicted by
 *    the recurrent forecaster (seqstream's own GRU learning online by TBPTT), or 1 when u leaves the range seen so far by more than `excursionTolerance` of it
 *    (after `learningPeriod`): a new extreme is news whatever the forecast said. Likewise 1 for a
 *    reading inside the range at a level no earlier reading came near (`LevelNovelty`, `levelBins`).
 * 3. Anomaly likelihood of the raw score (short mean against the long-term distribution,
 *    `AnomalyLikelihood`); with `seasonalDays` > 0 also the likelihood of the error of a calendar
 *    profile (`SeasonalProfile`) and of the mean of its last `sustainedWindow` signed errors
 *    (`SustainedDeviation`); the strongest surprise is mapped to a score in [0, 1) on a log
 *    scale (`tailScore`). With `maxContexts` > 0 the contextual member's score (`ContextMemory`)
 *    counts when it is higher. The score is 0 during the learning period; below the decaying peak
 *    of recent scores (`refractory`) it is multiplied by `suppression`.
 * 4. The forecaster learns from the change u - previous u (target of its previous step) and steps
 *    on [u, time-of-day and day-of-week phases of t] to forecast the next change.
 * The state is bounded (a few KiB) whatever the stream's length and round-trips exactly through JSON.
 *
 * @example
 * ```ts
 * const detector = new AnomalyDetector({ range: { min: 0, max: 100 }, learningPeriod: 100 });
 * const { score } = detector.update(42, Date.parse('2024-01-01T00:00:00Z'));
 * ```
 */
export class AnomalyDetector {
  readonly options: ResolvedDetectorOptions;
  private readonly forecaster: RecurrentForecaster;
  private readonly likelihood: AnomalyLikelihood;
  private readonly levels: LevelNovelty | null;
  private readonly features: Float64Array;
  private readonly profile: SeasonalProfile | null;
  private readonly seasonalLikelihood: AnomalyLikelihood | null;
  private readonly context: ContextMemory | null;
  private readonly sustained: SustainedDeviation | null;
  private count = 0;
  private seenMin = Infinity;
  private seenMax = -Infinity;
  private previous = NaN;
  private peak = 0;
  private level = 0;
  private spread = 0;
  private seasonalError = 0;
  private readonly decay: number;

  constructor(options: DetectorOptions | ResolvedDetectorOptions = {}, restored?: AnomalyDetectorJSON) {
    this.options = 'resolved' in options ? (options as ResolvedDetectorOptions) : resolveDetectorOptions(options);
    const o = this.options;
    this.decay = o.refractory > 0 ? Math.exp(-1 / o.refractory) : 0;
    this.features = o.calendar ? CALENDAR_FEATURES : VALUE_FEATURES;
    this.forecaster = new RecurrentForecaster(
      { inputSize: this.features.length, cell: o.cell, hiddenSize: o.hiddenSize, window: o.window, learningRate: o.learningRate, clipGradNorm: o.clipGradNorm, seed: o.seed },
      restored?.forecaster,
    );
    this.likelihood = new AnomalyLikelihood({ averageWindow: o.averageWindow, historyWindow: o.historyWindow, minStd: o.minStd });
    this.levels = o.levelBins > 0 ? new LevelNovelty(o.levelBins, restored?.levels ?? undefined) : null;
    if (restored && this.levels && !restored.levels) this.levels.visitAll();
    this.context = o.maxContexts > 0 ? new ContextMemory({ bits: o.contextBits, rest: o.contextRest, maxContexts: o.maxContexts }, restored?.context ?? undefined) : null;
    this.profile = o.seasonalDays > 0 ? new SeasonalProfile({ binsPerDay: o.seasonalBins, days: o.seasonalDays, rate: o.seasonalRate }) : null;
    this.seasonalLikelihood = this.profile ? new AnomalyLikelihood({ averageWindow: o.seasonalAverage, historyWindow: o.historyWindow, minStd: o.minStd }) : null;
    this.sustained = this.profile && o.sustainedWindow > 0 ? new SustainedDeviation(o.sustainedWindow, o, restored?.sustained ?? undefined) : null;
    if (restored) {
      if (restored.seasonal && this.profile && this.seasonalLikelihood) {
        this.profile.restore(restored.seasonal.profile);
        this.seasonalLikelihood.restore(restored.seasonal.likelihood);
        [this.level, this.spread, this.seasonalError] = restored.seasonal.fit;
      }
      this.count = restored.count;
      this.seenMin = restored.seenMin ?? Infinity;
      this.seenMax = restored.seenMax ?? -Infinity;
      this.previous = restored.previous ?? NaN;
      this.peak = restored.peak;
      this.likelihood.restore(restored.likelihood);
    }
  }

  /** Scores one finite reading and learns from it. */
  update(value: number, timestamp: number): Detection {
    const o = this.options;
    this.count++;
    const learning = this.count <= o.learningPeriod;
    const lo = o.range ? o.range.min : this.seenMin;
    const hi = o.range ? o.range.max : this.seenMax;
    const span = hi - lo;
    const u = Number.isFinite(span) && span > 0 ? (value - lo) / span : 0.5;

    // The model forecasts the change from the previous reading: untrained it is persistence,
    // a strong baseline for sensor data, and learning only has to add what persistence misses.
    const forecast = Number.isNaN(this.previous) ? NaN : this.previous + this.forecaster.prediction;
    let raw = Number.isNaN(forecast) ? 0 : Math.pow(Math.min(1, Math.abs(u - forecast)), o.errorPower);
    let excursion = false;
    let novelLevel = false;
    if (!learning && this.count > 1) {
      const seenSpan = this.seenMax - this.seenMin;
      const tol = o.excursionTolerance * (seenSpan > 0 ? seenSpan : Math.abs(this.seenMax) || 1);
      excursion = value > this.seenMax + tol || value < this.seenMin - tol;
      if (excursion) raw = 1;
      novelLevel = !excursion && this.levels !== null && this.levels.isNovel(u);
      if (novelLevel) raw = 1;
    }
    let logQ = this.likelihood.update(raw);
    if (this.profile && this.seasonalLikelihood) {
      const expected = this.profile.expected(timestamp);
      const errS = Number.isNaN(expected) ? 0 : Math.pow(Math.min(1, Math.abs(u - expected)), o.errorPower);
      const logQs = this.seasonalLikelihood.update(errS);
      // How much of the stream's variation the profile explains (0: none, 1: all); its surprise
      // counts only that much, so an aperiodic stream is not judged by a calendar it does not keep.
      const a = Math.max(1 / this.count, 1 / o.historyWindow);
      this.level += a * (u - this.level);
      this.spread += a * (Math.abs(u - this.level) - this.spread);
      this.seasonalError += a * (errS - this.seasonalError);
      const strength = this.spread > 0 ? Math.max(0, 1 - this.seasonalError / this.spread) : 0;
      const weight = o.seasonalGate ? strength : 1;
      if (weight * logQs < logQ) logQ = weight * logQs;
      // A stream sitting above or below its usual level for this time for hours (the mean of
      // the signed residuals), where no single reading says much.
      if (this.sustained && !Number.isNaN(expected)) {
        const logQd = this.sustained.update(u - expected);
        if (logQd < logQ) logQ = logQd;
      }
      this.profile.learn(timestamp, u);
    }
    let score = learning ? 0 : tailScore(logQ, o.halfPoint);
    // The contextual member sees what a one-step forecaster cannot: a sequence of levels never seen
    // in this order. The stronger of the two scores counts; equal contextual scores (it often gives
    // exactly 1) are kept apart by the forecaster's own, so the score stays below 1.
    let contextScore = 0;
    if (this.context) {
      const c = this.context.score(u);
      contextScore = learning ? 0 : c * (1 - o.contextTieBreak * (1 - score));
      if (contextScore > score) score = contextScore;
    }
    // Refractory: once an incident has scored (through either member), lesser scores right after
    // it are damped, so one incident gives one alert instead of a run of them (a rising incident
    // still rises).
    if (o.refractory > 0) {
      const damped = score <= this.peak ? score * o.suppression : score;
      this.peak = Math.max(this.peak * this.decay, score);
      score = damped;
    }
    const [oldMin, oldMax] = [this.seenMin, this.seenMax];
    if (value < this.seenMin) this.seenMin = value;
    if (value > this.seenMax) this.seenMax = value;
    if (this.levels) {
      if (o.range) this.levels.visit(u);
      else {
        // Without a known range the scale is the range seen so far: when it grows, the marks
        // move with it, and the reading is marked where it sits on the new scale.
        if (this.seenMin !== oldMin || this.seenMax !== oldMax) this.levels.rescale(oldMin, oldMax, this.seenMin, this.seenMax);
        const seen = this.seenMax - this.seenMin;
        if (seen > 0) this.levels.visit((value - this.seenMin) / seen);
      }
    }
    const delta = Number.isNaN(this.previous) ? 0 : u - this.previous;
    this.previous = u;

    const f = this.features;
    f[0] = u;
    if (o.calendar) {
      const day = (2 * Math.PI * (((timestamp % DAY_MS) + DAY_MS) % DAY_MS)) / DAY_MS;
      const week = (2 * Math.PI * (((timestamp % WEEK_MS) + WEEK_MS) % WEEK_MS)) / WEEK_MS;
      f[1] = Math.sin(day);
      f[2] = Math.cos(day);
      f[3] = Math.sin(week);
      f[4] = Math.cos(week);
    }
    this.forecaster.observe(delta, f);
    return { score, raw, forecast, normalised: u, log10Likelihood: learning ? 0 : logQ / Math.LN10, excursion, novelLevel, contextScore, count: this.count };
  }

  /** Readings seen so far. */
  get events(): number {
    return this.count;
  }

  /** The state as plain JSON; `new AnomalyDetector(options, json)` continues exactly from it. */
  toJSON(): AnomalyDetectorJSON {
    return {
      format: 'seqstream-anomaly-detector',
      version: 1,
      count: this.count,
      seenMin: Number.isFinite(this.seenMin) ? this.seenMin : null,
      seenMax: Number.isFinite(this.seenMax) ? this.seenMax : null,
      previous: Number.isNaN(this.previous) ? null : this.previous,
      peak: this.peak,
      forecaster: this.forecaster.toJSON(),
      likelihood: this.likelihood.toJSON(),
      levels: this.levels ? this.levels.toJSON() : null,
      seasonal: this.profile && this.seasonalLikelihood ? { profile: this.profile.toJSON(), likelihood: this.seasonalLikelihood.toJSON(), fit: [this.level, this.spread, this.seasonalError] } : null,
      context: this.context ? this.context.toJSON() : null,
      sustained: this.sustained ? this.sustained.toJSON() : null,
    };
  }
}
