/**
 * Scoring a keyword spotter on a long stream with known keyword positions: hits, misses and false
 * alarms per hour, the trade-off curve over the detection threshold, and the false-rejection rate
 * at a fixed false-alarm rate (the usual way streaming KWS is compared, e.g. FRR at 1 FA/h).
 * Pure logic on detections and posteriors, no tfjs.
 *
 * @packageDocumentation
 */
import { KwsError } from '../errors.js';
import { checkInt, checkNumber, checkOptions } from '../validate.js';
import { type DetectorOptions, detectKeywords, type TimedScores } from './detector.js';

/** Default tolerance after a keyword's end, in ms. */
export const DEFAULT_AFTER_MS = 500;

/** Where a keyword truly is in a stream. */
export interface KeywordSpan {
  /** The keyword's label (as the detector reports it). */
  label: string;
  /** Start, in ms from the stream start. */
  startMs: number;
  /** End, in ms from the stream start (≥ startMs). */
  endMs: number;
}

/** A detection as far as scoring is concerned (a {@link Detection} fits). */
export interface ScoredDetection {
  label: string;
  /** When it fired, in ms from the stream start. */
  timeMs: number;
}

/** Options of {@link scoreDetections}. */
export interface StreamScoreOptions {
  /** Length of the stream in ms (> 0), for the false-alarm rate. Required. */
  durationMs: number;
  /**
   * A detection counts for a span from `startMs − beforeMs`, in ms ≥ 0. Default 0: a detector
   * cannot know a word before it starts.
   */
  beforeMs?: number;
  /**
   * …until `endMs + afterMs`, in ms ≥ 0. Default 500: a windowed detector fires after the word,
   * once enough of it has been smoothed over.
   */
  afterMs?: number;
}

/** What {@link scoreDetections} found. */
export interface StreamScore {
  /** Keyword spans in the stream. */
  keywords: number;
  /** Spans with a detection of their label inside their tolerance window. */
  hits: number;
  /** Spans without one. */
  misses: number;
  /** hits / keywords (0 when there are no keywords). */
  recall: number;
  /** misses / keywords (0 when there are no keywords). */
  falseRejectionRate: number;
  /** Detections that are not hits: the three kinds below plus those outside every span. */
  falseAlarms: number;
  /** False alarms inside a keyword's window with another label (confusions). */
  confusions: number;
  /** False alarms repeating the label of a keyword already hit, inside its window. */
  duplicates: number;
  /** falseAlarms per hour of stream: `falseAlarms · 3.6e6 / durationMs`. */
  falseAlarmsPerHour: number;
  durationMs: number;
  /** For each span (input order), the index of the detection that hit it, or -1. */
  hitBy: number[];
  /** Indices of the false-alarm detections, in time order. */
  falseAlarmIndices: number[];
}

interface Window {
  label: string;
  from: number;
  to: number;
  start: number;
  index: number;
}

function checkSpans(spans: unknown): KeywordSpan[] {
  if (!Array.isArray(spans))
    throw new KwsError('INVALID_ARGUMENT', 'spans must be an array of { label, startMs, endMs }');
  return spans.map((s: KeywordSpan, i) => {
    if (s === null || typeof s !== 'object' || typeof s.label !== 'string') {
      throw new KwsError('INVALID_ARGUMENT', `spans[${i}] must be { label: string, startMs, endMs }`);
    }
    const startMs = checkNumber(`spans[${i}].startMs`, s.startMs);
    const endMs = checkNumber(`spans[${i}].endMs`, s.endMs, startMs);
    return { label: s.label, startMs, endMs };
  });
}

function checkDetections(detections: unknown): ScoredDetection[] {
  if (!Array.isArray(detections))
    throw new KwsError('INVALID_ARGUMENT', 'detections must be an array of { label, timeMs }');
  return detections.map((d: ScoredDetection, i) => {
    if (d === null || typeof d !== 'object' || typeof d.label !== 'string') {
      throw new KwsError('INVALID_ARGUMENT', `detections[${i}] must be { label: string, timeMs }`);
    }
    return { label: d.label, timeMs: checkNumber(`detections[${i}].timeMs`, d.timeMs) };
  });
}

function resolveScoreOptions(options: StreamScoreOptions): Required<StreamScoreOptions> {
  const o = checkOptions('options', options);
  return {
    durationMs: checkNumber('durationMs', o.durationMs, 0, Number.POSITIVE_INFINITY, true),
    beforeMs: checkNumber('beforeMs', o.beforeMs ?? 0, 0),
    afterMs: checkNumber('afterMs', o.afterMs ?? DEFAULT_AFTER_MS, 0),
  };
}

/**
 * Matches detections to keyword spans and counts hits, misses and false alarms.
 *
 * Rules (detections taken in time order, ties in input order):
 * - a detection is a **hit** for the earliest-starting span of its label that is not hit yet and
 *   whose window `[startMs − beforeMs, endMs + afterMs]` contains its time; each span is hit at
 *   most once;
 * - every other detection is a **false alarm**: a *duplicate* if it repeats the label of an
 *   already-hit span whose window contains it, a *confusion* if it falls in the window of a span
 *   with another label, plain otherwise;
 * - a span no detection hit is a **miss**.
 *
 * Greedy matching is optimal when the windows of same-label spans do not overlap (spans at least
 * `beforeMs + afterMs` apart), as in glued-clip test streams.
 *
 * @throws KwsError `INVALID_ARGUMENT` for malformed detections, spans (endMs < startMs) or
 *   options (durationMs ≤ 0, negative tolerances).
 */
export function scoreDetections(
  detections: readonly ScoredDetection[],
  spans: readonly KeywordSpan[],
  options: StreamScoreOptions,
): StreamScore {
  const dets = checkDetections(detections);
  const checkedSpans = checkSpans(spans);
  const { durationMs, beforeMs, afterMs } = resolveScoreOptions(options);
  const windows: Window[] = checkedSpans
    .map((s, index) => ({
      label: s.label,
      from: s.startMs - beforeMs,
      to: s.endMs + afterMs,
      start: s.startMs,
      index,
    }))
    .sort((a, b) => a.start - b.start || a.index - b.index);
  // Sorted by start, the windows are sorted by `from` too; a window holds time t only if
  // from ∈ [t − longest, t] (widened by a rounding margin; the filter decides exactly), so two
  // binary searches bound the candidates and hour-long streams with thousands of detections stay cheap.
  const longest = windows.reduce((m, w) => Math.max(m, w.to - w.from), 0);
  /** First window index whose `from` is ≥ x (strict: > x). */
  const bound = (x: number, strict: boolean): number => {
    let lo = 0;
    let hi = windows.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const from = (windows[mid] as Window).from;
      if (strict ? from > x : from >= x) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  };
  const windowsAt = (t: number): Window[] =>
    windows
      .slice(bound(t - longest - 1e-9 * (1 + Math.abs(t)), false), bound(t, true))
      .filter((w) => t >= w.from && t <= w.to);
  const hitBy = new Array<number>(checkedSpans.length).fill(-1);
  const order = dets
    .map((_, i) => i)
    .sort((a, b) => (dets[a] as ScoredDetection).timeMs - (dets[b] as ScoredDetection).timeMs || a - b);
  const falseAlarmIndices: number[] = [];
  let confusions = 0;
  let duplicates = 0;
  for (const i of order) {
    const d = dets[i] as ScoredDetection;
    const inside = windowsAt(d.timeMs);
    const target = inside.find((w) => w.label === d.label && hitBy[w.index] === -1);
    if (target !== undefined) {
      hitBy[target.index] = i;
      continue;
    }
    falseAlarmIndices.push(i);
    if (inside.some((w) => w.label === d.label)) duplicates++;
    else if (inside.length > 0) confusions++;
  }
  const keywords = checkedSpans.length;
  const hits = hitBy.filter((h) => h >= 0).length;
  return {
    keywords,
    hits,
    misses: keywords - hits,
    recall: keywords === 0 ? 0 : hits / keywords,
    falseRejectionRate: keywords === 0 ? 0 : (keywords - hits) / keywords,
    falseAlarms: falseAlarmIndices.length,
    confusions,
    duplicates,
    falseAlarmsPerHour: (falseAlarmIndices.length * 3_600_000) / durationMs,
    durationMs,
    hitBy,
    falseAlarmIndices,
  };
}

/** One operating point of {@link sweepThresholds}. */
export interface ThresholdPoint {
  /** The threshold every reported keyword used. */
  threshold: number;
  hits: number;
  misses: number;
  falseAlarms: number;
  recall: number;
  falseRejectionRate: number;
  falseAlarmsPerHour: number;
}

/** Options of {@link sweepThresholds}. */
export interface ThresholdSweepOptions extends StreamScoreOptions, Omit<DetectorOptions, 'threshold'> {
  /** Thresholds to try, each in [0, 1]. Required, non-empty. */
  thresholds: readonly number[];
}

/**
 * Runs the keyword detector ({@link detectKeywords}: one threshold for every keyword, the
 * given refractory period) over a sequence of smoothed posteriors once per threshold, and scores
 * each run with {@link scoreDetections}: the FRR / false-alarm trade-off of a spotter from one
 * pass of its model.
 *
 * @param sequence smoothed class probabilities in time order (what `StreamingKWS` feeds its detector).
 * @returns one point per threshold, in the given order.
 * @throws KwsError as {@link detectKeywords} and {@link scoreDetections}; `INVALID_ARGUMENT` for
 *   an empty threshold list or a threshold outside [0, 1].
 */
export function sweepThresholds(
  sequence: readonly TimedScores[],
  spans: readonly KeywordSpan[],
  options: ThresholdSweepOptions,
): ThresholdPoint[] {
  const o = checkOptions('options', options);
  if (!Array.isArray(o.thresholds) || o.thresholds.length === 0) {
    throw new KwsError('INVALID_ARGUMENT', 'thresholds must be a non-empty array of numbers in [0, 1]');
  }
  const thresholds = o.thresholds.map((t, i) => checkNumber(`thresholds[${i}]`, t, 0, 1));
  const scoreOptions = resolveScoreOptions(options);
  const checkedSpans = checkSpans(spans);
  const detector: DetectorOptions = {
    labels: o.labels as readonly string[],
    keywords: o.keywords,
    refractoryMs: o.refractoryMs,
    reportFiller: o.reportFiller,
  };
  return thresholds.map((threshold) => {
    const s = scoreDetections(
      detectKeywords(sequence, { ...detector, threshold }),
      checkedSpans,
      scoreOptions,
    );
    return {
      threshold,
      hits: s.hits,
      misses: s.misses,
      falseAlarms: s.falseAlarms,
      recall: s.recall,
      falseRejectionRate: s.falseRejectionRate,
      falseAlarmsPerHour: s.falseAlarmsPerHour,
    };
  });
}

/** The FRR a spotter reaches at a false-alarm budget ({@link frrAtFalseAlarmRate}). */
export interface FrrAtRate {
  /** The false-alarm budget, per hour. */
  targetPerHour: number;
  /** The threshold of the chosen operating point. */
  threshold: number;
  /** Its false-rejection rate: the lowest FRR among points within the budget. */
  falseRejectionRate: number;
  /** Its false alarms per hour (≤ the budget). */
  falseAlarmsPerHour: number;
  /**
   * FRR linearly interpolated at exactly the budget, between the chosen point and the point just
   * over the budget (lowest FA rate above it): what randomly switching between those two
   * thresholds achieves on average. Equals `falseRejectionRate` when no point is over the budget.
   */
  interpolatedFrr: number;
}

/**
 * The operating point of a threshold sweep that meets a false-alarm budget: among points with
 * `falseAlarmsPerHour ≤ targetPerHour`, the one with the lowest FRR (ties: the higher
 * threshold). `null` when no point meets the budget ("not reached").
 *
 * Note the resolution: one false alarm in a stream of D hours is 1/D per hour, so budgets below
 * that can only be met with zero false alarms.
 *
 * @throws KwsError `INVALID_ARGUMENT` for a negative or non-finite budget or malformed points.
 */
export function frrAtFalseAlarmRate(
  points: readonly ThresholdPoint[],
  targetPerHour: number,
): FrrAtRate | null {
  checkNumber('targetPerHour', targetPerHour, 0);
  if (!Array.isArray(points))
    throw new KwsError('INVALID_ARGUMENT', 'points must be an array of ThresholdPoint');
  points.forEach((p, i) => {
    checkNumber(`points[${i}].falseAlarmsPerHour`, p?.falseAlarmsPerHour, 0);
    checkNumber(`points[${i}].falseRejectionRate`, p?.falseRejectionRate, 0, 1);
    checkNumber(`points[${i}].threshold`, p?.threshold);
  });
  let best: ThresholdPoint | undefined;
  let over: ThresholdPoint | undefined;
  for (const p of points) {
    if (p.falseAlarmsPerHour <= targetPerHour) {
      if (
        best === undefined ||
        p.falseRejectionRate < best.falseRejectionRate ||
        (p.falseRejectionRate === best.falseRejectionRate && p.threshold > best.threshold)
      ) {
        best = p;
      }
    } else if (
      over === undefined ||
      p.falseAlarmsPerHour < over.falseAlarmsPerHour ||
      (p.falseAlarmsPerHour === over.falseAlarmsPerHour && p.falseRejectionRate < over.falseRejectionRate)
    ) {
      over = p;
    }
  }
  if (best === undefined) return null;
  let interpolatedFrr = best.falseRejectionRate;
  if (over !== undefined && over.falseRejectionRate < best.falseRejectionRate) {
    const t = (targetPerHour - best.falseAlarmsPerHour) / (over.falseAlarmsPerHour - best.falseAlarmsPerHour);
    interpolatedFrr = best.falseRejectionRate + t * (over.falseRejectionRate - best.falseRejectionRate);
  }
  return {
    targetPerHour,
    threshold: best.threshold,
    falseRejectionRate: best.falseRejectionRate,
    falseAlarmsPerHour: best.falseAlarmsPerHour,
    interpolatedFrr,
  };
}

/**
 * Compresses what a detector needs from a sequence of posteriors when every keyword shares one
 * threshold: at each instant only the best keyword and its score matter (a keyword fires iff the
 * best one reaches the threshold, and then the best one fires). Keeps, per instant, that score
 * at its label and zeros elsewhere, so {@link sweepThresholds} over the result gives the same
 * detections as over the full posteriors for every threshold > 0.
 *
 * This is also what a `StreamingKWS` created with `threshold: 0, refractoryMs: 0` reports: one
 * detection per model run, the best keyword with its smoothed score. Pass those detections here
 * to sweep thresholds after a single pass of the model.
 *
 * @param best per instant, the best keyword's label index (in `labels` order), score and time.
 * @param classes the number of labels.
 * @throws KwsError `INVALID_ARGUMENT` for a label index outside [0, classes) or a bad score/time.
 */
export function bestKeywordSequence(
  best: readonly { labelIndex: number; score: number; timeMs: number }[],
  classes: number,
): TimedScores[] {
  checkInt('classes', classes, 1);
  if (!Array.isArray(best)) throw new KwsError('INVALID_ARGUMENT', 'best must be an array of detections');
  return best.map((d, i) => {
    const index = checkInt(`best[${i}].labelIndex`, d?.labelIndex, 0, classes - 1);
    const scores = new Float32Array(classes);
    scores[index] = checkNumber(`best[${i}].score`, d.score, 0, 1);
    return { timeMs: checkNumber(`best[${i}].timeMs`, d.timeMs), scores };
  });
}
