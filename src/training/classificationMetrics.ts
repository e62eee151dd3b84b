/** Scores of predictions against targets, see {@link createMetricAccumulator}. */
export interface ClassificationMetrics {
  /** Scored rows (frames for tagging, sequences for classification). */
  count: number;
  /** Share of rows whose predicted class is the target's. */
  accuracy: number;
  /**
   * F1 score: of class 1 for two classes (one sigmoid output, or two outputs), else the macro
   * mean over classes. NaN when nothing was scored.
   */
  f1: number;
  /** Two classes: share of class-0 rows predicted 1 (false alarms). NaN otherwise. */
  falseAlarmRate: number;
  /** Two classes: share of class-1 rows predicted 0 (misses). NaN otherwise. */
  missRate: number;
}

/** Adds predicted/true class pairs and reports {@link ClassificationMetrics}. */
export interface MetricAccumulator {
  add(predicted: number, actual: number): void;
  result(): ClassificationMetrics;
}

/**
 * A confusion-matrix accumulator for `classes` classes.
 *
 * @example
 * ```ts
 * const m = createMetricAccumulator(2);
 * m.add(1, 1); m.add(0, 1); m.add(0, 0);
 * m.result().f1; // 0.666...
 * ```
 */
export function createMetricAccumulator(classes: number): MetricAccumulator {
  const confusion = new Float64Array(classes * classes);
  let count = 0;
  return {
    add(predicted, actual) {
      confusion[actual * classes + predicted]++;
      count++;
    },
    result() {
      let correct = 0;
      for (let c = 0; c < classes; c++) correct += confusion[c * classes + c];
      const f1Of = (c: number): number => {
        let predicted = 0;
        let actual = 0;
        for (let k = 0; k < classes; k++) {
          predicted += confusion[k * classes + c];
          actual += confusion[c * classes + k];
        }
        const tp = confusion[c * classes + c];
        return predicted + actual === 0 ? 1 : (2 * tp) / (predicted + actual);
      };
      let f1 = NaN;
      if (count > 0) {
        if (classes === 2) f1 = f1Of(1);
        else {
          f1 = 0;
          for (let c = 0; c < classes; c++) f1 += f1Of(c) / classes;
        }
      }
      const two = classes === 2;
      const negatives = two ? confusion[0] + confusion[1] : 0;
      const positives = two ? confusion[2] + confusion[3] : 0;
      return {
        count,
        accuracy: count > 0 ? correct / count : NaN,
        f1,
        falseAlarmRate: two && negatives > 0 ? confusion[1] / negatives : NaN,
        missRate: two && positives > 0 ? confusion[2] / positives : NaN,
      };
    },
  };
}
