/**
 * Keyword events from a sequence of (smoothed) class probabilities: per-label thresholds and a
 * refractory period, so that one utterance gives one event. Pure logic on numbers, no tfjs.
 *
 * @packageDocumentation
 */
import { KwsError } from '../errors.js';
import { checkBoolean, checkNumber, checkOptions } from '../validate.js';

/** Label of the "no speech" class in Speech Commands label sets. */
export const SILENCE_LABEL = '_silence_';
/** Label of the "some other word" class in Speech Commands label sets. */
export const UNKNOWN_LABEL = '_unknown_';
/** Filler labels: not reported unless asked for (`reportFiller`), each with its own refractory period. */
export const FILLER_LABELS: readonly string[] = Object.freeze([SILENCE_LABEL, UNKNOWN_LABEL]);
/** Default detection threshold on the smoothed probability (the REFERENCE streaming recipe). */
export const DEFAULT_THRESHOLD = 0.8;
/** Default refractory period in ms. */
export const DEFAULT_REFRACTORY_MS = 1000;

/** One keyword event. */
export interface Detection {
  /** Class name, one of the model's labels. */
  label: string;
  /** Index of `label` in the label list (the model's output index). */
  labelIndex: number;
  /** The score that crossed the threshold: the smoothed probability, in [0, 1]. */
  score: number;
  /**
   * When the event happened, in ms from the start of the stream: the end of the analysis window
   * whose smoothed score crossed the threshold.
   */
  timeMs: number;
}

/** Class probabilities at one instant. */
export interface TimedScores {
  /** Time in ms from the start of the stream (non-decreasing along a sequence). */
  timeMs: number;
  /** One probability per label, in label order. */
  scores: ArrayLike<number>;
}

/** Options of {@link KeywordDetector} and {@link detectKeywords}. */
export interface DetectorOptions {
  /** Class names in the model's output order; unique, non-empty strings. Required. */
  labels: readonly string[];
  /**
   * Labels to report. Default: every label except {@link FILLER_LABELS}. Each must be in `labels`.
   */
  keywords?: readonly string[];
  /**
   * Score (smoothed probability) at or above which a label fires, in [0, 1]: one number for
   * every reported label, or a record `{ label: threshold }` (labels left out keep
   * {@link DEFAULT_THRESHOLD}). Default 0.8.
   */
  threshold?: number | Readonly<Record<string, number>>;
  /**
   * After an event at time t, no event of the same group before t + refractoryMs, in ms ≥ 0.
   * The keywords form one group (so a confusable utterance cannot fire two different keywords);
   * each reported filler label is a group of its own (so reporting `_silence_` never blocks a
   * keyword). Default 1000.
   */
  refractoryMs?: number;
  /** Also report `_silence_` and `_unknown_` (those in `labels`). Default false. */
  reportFiller?: boolean;
}

/** Resolved, validated {@link DetectorOptions}. */
export interface DetectorConfig {
  labels: readonly string[];
  /** Reported labels that are not fillers; they share one refractory period. */
  keywords: readonly string[];
  /** Reported filler labels; each has its own refractory period. */
  fillers: readonly string[];
  /** Threshold of every reported label. */
  thresholds: Readonly<Record<string, number>>;
  refractoryMs: number;
}

function checkLabelList(name: string, value: unknown): string[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw new KwsError('INVALID_ARGUMENT', `${name} must be a non-empty array of class names`);
  }
  const seen = new Set<string>();
  for (const [i, label] of value.entries()) {
    if (typeof label !== 'string' || label.length === 0) {
      throw new KwsError(
        'INVALID_ARGUMENT',
        `${name}[${i}] must be a non-empty string; got ${String(label)}`,
      );
    }
    if (seen.has(label)) {
      throw new KwsError(
        'INVALID_ARGUMENT',
        `${name} lists ${JSON.stringify(label)} twice; names must be unique`,
      );
    }
    seen.add(label);
  }
  return value as string[];
}

/**
 * Validates {@link DetectorOptions} and fills in the defaults.
 *
 * @throws KwsError `INVALID_ARGUMENT` for a bad label list, threshold outside [0, 1], negative
 *   refractory period or nothing to report; `NOT_FOUND` for a keyword or threshold key that is
 *   not a label.
 */
export function resolveDetectorOptions(options: DetectorOptions): DetectorConfig {
  const o = checkOptions('options', options);
  const labels = checkLabelList('labels', o.labels);
  const reportFiller = checkBoolean('reportFiller', o.reportFiller ?? false);
  const isFiller = (label: string): boolean => FILLER_LABELS.includes(label);
  let reported: string[];
  if (o.keywords === undefined) {
    reported = labels.filter((label) => !isFiller(label));
  } else {
    if (!Array.isArray(o.keywords)) {
      throw new KwsError('INVALID_ARGUMENT', 'keywords must be an array of labels');
    }
    reported = o.keywords.length === 0 ? [] : checkLabelList('keywords', o.keywords);
    for (const keyword of reported) {
      if (!labels.includes(keyword)) {
        throw new KwsError(
          'NOT_FOUND',
          `keyword ${JSON.stringify(keyword)} is not one of the labels (${labels.join(', ')})`,
        );
      }
    }
  }
  if (reportFiller) {
    for (const label of labels) if (isFiller(label) && !reported.includes(label)) reported.push(label);
  }
  if (reported.length === 0) {
    throw new KwsError(
      'INVALID_ARGUMENT',
      'nothing to report: no keywords (labels other than _silence_/_unknown_), and reportFiller is false',
    );
  }
  // Label order, so that events of one instant come out in the model's output order.
  reported = labels.filter((label) => reported.includes(label));
  const thresholds: Record<string, number> = {};
  const t = o.threshold ?? DEFAULT_THRESHOLD;
  if (typeof t === 'number') {
    checkNumber('threshold', t, 0, 1);
    for (const label of reported) thresholds[label] = t;
  } else if (t !== null && typeof t === 'object' && !Array.isArray(t)) {
    for (const label of reported) thresholds[label] = DEFAULT_THRESHOLD;
    for (const [label, value] of Object.entries(t)) {
      if (!labels.includes(label)) {
        throw new KwsError('NOT_FOUND', `threshold names ${JSON.stringify(label)}, which is not a label`);
      }
      if (!reported.includes(label)) {
        throw new KwsError(
          'INVALID_ARGUMENT',
          `threshold names ${JSON.stringify(label)}, which is not reported; add it to keywords (or set reportFiller)`,
        );
      }
      thresholds[label] = checkNumber(`threshold[${JSON.stringify(label)}]`, value, 0, 1);
    }
  } else {
    throw new KwsError(
      'INVALID_ARGUMENT',
      'threshold must be a number in [0, 1] or a record { label: number in [0, 1] }',
    );
  }
  return {
    labels: [...labels],
    keywords: reported.filter((label) => !isFiller(label)),
    fillers: reported.filter(isFiller),
    thresholds,
    refractoryMs: checkNumber('refractoryMs', o.refractoryMs ?? DEFAULT_REFRACTORY_MS, 0),
  };
}

interface Watched {
  label: string;
  index: number;
  threshold: number;
  /** Refractory group: 0 = the keywords, 1 + i = filler i. */
  group: number;
}

/**
 * Turns a stream of per-instant class probabilities into {@link Detection} events.
 *
 * At each {@link KeywordDetector.step}, for time t and scores s:
 * - among the keywords with `s[k] ≥ threshold[k]`, the one with the highest score fires (lowest
 *   label index on ties), unless a keyword fired at some t₀ with `t − t₀ < refractoryMs`;
 * - every reported filler label f with `s[f] ≥ threshold[f]` fires unless f itself fired within
 *   the refractory period.
 *
 * Events of one step come out in label order.
 *
 * @example
 * ```ts
 * const detector = new KeywordDetector({ labels: ['_silence_', '_unknown_', 'yes', 'no'] });
 * detector.step(1100, [0.05, 0.05, 0.9, 0]); // [{ label: 'yes', labelIndex: 2, score: 0.9, timeMs: 1100 }]
 * ```
 */
export class KeywordDetector {
  /** The resolved options. */
  readonly config: DetectorConfig;
  private readonly watched: Watched[];
  /** Time of the last event of each group (−∞: none yet). */
  private readonly lastEvent: number[];
  private lastTime = Number.NEGATIVE_INFINITY;

  /** @throws KwsError as {@link resolveDetectorOptions}. */
  constructor(options: DetectorOptions) {
    this.config = resolveDetectorOptions(options);
    const { labels, fillers, thresholds } = this.config;
    this.watched = [];
    for (const [index, label] of labels.entries()) {
      const threshold = thresholds[label];
      if (threshold === undefined) continue;
      const filler = fillers.indexOf(label);
      this.watched.push({ label, index, threshold, group: filler < 0 ? 0 : 1 + filler });
    }
    this.lastEvent = new Array<number>(1 + fillers.length).fill(Number.NEGATIVE_INFINITY);
  }

  /**
   * Feeds the scores of one instant and returns the events it fires (often none).
   *
   * @param timeMs time in ms from the start of the stream, finite and not before the previous step.
   * @param scores one probability per label.
   * @throws KwsError `SHAPE_MISMATCH` for the wrong number of scores, `NON_FINITE_INPUT` for a
   *   NaN/±Infinity score, `INVALID_ARGUMENT` for a time that is not finite or goes backwards.
   */
  step(timeMs: number, scores: ArrayLike<number>): Detection[] {
    const { labels, refractoryMs } = this.config;
    checkNumber('timeMs', timeMs);
    if (timeMs < this.lastTime) {
      throw new KwsError(
        'INVALID_ARGUMENT',
        `timeMs must not go backwards; got ${timeMs} after ${this.lastTime}`,
      );
    }
    if (scores.length !== labels.length) {
      throw new KwsError(
        'SHAPE_MISMATCH',
        `scores has ${scores.length} values; one per label (${labels.length}) was expected`,
      );
    }
    for (let i = 0; i < scores.length; i++) {
      if (!Number.isFinite(scores[i])) {
        throw new KwsError(
          'NON_FINITE_INPUT',
          `score of ${JSON.stringify(labels[i])} is ${scores[i]}; scores must be finite probabilities`,
        );
      }
    }
    this.lastTime = timeMs;
    const ready = (group: number): boolean => timeMs - (this.lastEvent[group] as number) >= refractoryMs;
    const events: Detection[] = [];
    let best: Watched | undefined;
    let bestScore = Number.NEGATIVE_INFINITY;
    for (const w of this.watched) {
      const score = scores[w.index] as number;
      if (score < w.threshold) continue;
      if (w.group === 0) {
        if (score > bestScore) {
          best = w;
          bestScore = score;
        }
      } else if (ready(w.group)) {
        this.lastEvent[w.group] = timeMs;
        events.push({ label: w.label, labelIndex: w.index, score, timeMs });
      }
    }
    if (best !== undefined && ready(0)) {
      this.lastEvent[0] = timeMs;
      events.push({ label: best.label, labelIndex: best.index, score: bestScore, timeMs });
      events.sort((a, b) => a.labelIndex - b.labelIndex);
    }
    return events;
  }

  /** Forgets past events and times: a new stream starts. */
  reset(): void {
    this.lastEvent.fill(Number.NEGATIVE_INFINITY);
    this.lastTime = Number.NEGATIVE_INFINITY;
  }
}

/**
 * {@link KeywordDetector} over a whole sequence of timed scores (e.g. smoothed offline posteriors):
 * the events, in time order.
 *
 * @throws KwsError as {@link KeywordDetector}.
 */
export function detectKeywords(sequence: readonly TimedScores[], options: DetectorOptions): Detection[] {
  const detector = new KeywordDetector(options);
  return sequence.flatMap(({ timeMs, scores }) => detector.step(timeMs, scores));
}
