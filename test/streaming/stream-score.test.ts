import { describe, expect, it } from 'vitest';
import { KwsError } from '../../src/errors.js';
import { createRng } from '../../src/random.js';
import { detectKeywords, type TimedScores } from '../../src/streaming/detector.js';
import {
  bestKeywordSequence,
  frrAtFalseAlarmRate,
  type KeywordSpan,
  scoreDetections,
  sweepThresholds,
  type ThresholdPoint,
} from '../../src/streaming/stream-score.js';

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(KwsError);
    return (e as KwsError).code;
  }
  return undefined;
}

const spans: KeywordSpan[] = [
  { label: 'yes', startMs: 1000, endMs: 2000 },
  { label: 'no', startMs: 5000, endMs: 6000 },
  { label: 'yes', startMs: 9000, endMs: 10000 },
];
const hour = 3_600_000;

describe('scoreDetections', () => {
  it('counts hits inside [start, end + 500 ms], misses, and every kind of false alarm', () => {
    const detections = [
      { label: 'yes', timeMs: 2400 }, // hit span 0 (within 500 ms after its end)
      { label: 'yes', timeMs: 2450 }, // duplicate of span 0
      { label: 'yes', timeMs: 5500 }, // confusion inside the "no" span
      { label: 'no', timeMs: 7000 }, // late: 1000 ms after the end -> plain false alarm
      { label: 'yes', timeMs: 8999 }, // 1 ms before span 2 starts -> false alarm
      { label: 'yes', timeMs: 10500 }, // hit span 2 exactly at end + 500
    ];
    const s = scoreDetections(detections, spans, { durationMs: hour / 2 });
    expect(s).toEqual({
      keywords: 3,
      hits: 2,
      misses: 1,
      recall: 2 / 3,
      falseRejectionRate: 1 / 3,
      falseAlarms: 4,
      confusions: 1,
      duplicates: 1,
      falseAlarmsPerHour: 8,
      durationMs: hour / 2,
      hitBy: [0, -1, 5],
      falseAlarmIndices: [1, 2, 3, 4],
    });
  });

  it('takes detections in time order and honours the tolerances', () => {
    const detections = [
      { label: 'yes', timeMs: 9500 },
      { label: 'yes', timeMs: 900 },
    ];
    expect(scoreDetections(detections, spans, { durationMs: hour }).hitBy).toEqual([-1, -1, 0]);
    const early = scoreDetections(detections, spans, { durationMs: hour, beforeMs: 100, afterMs: 0 });
    expect(early.hitBy).toEqual([1, -1, 0]);
    expect(early.falseAlarms).toBe(0);
  });

  it('gives each of two overlapping same-label windows its own detection', () => {
    const close: KeywordSpan[] = [
      { label: 'go', startMs: 0, endMs: 1000 },
      { label: 'go', startMs: 1200, endMs: 2200 },
    ];
    const s = scoreDetections(
      [
        { label: 'go', timeMs: 1300 },
        { label: 'go', timeMs: 1400 },
      ],
      close,
      { durationMs: 3000 },
    );
    expect(s.hitBy).toEqual([0, 1]);
    expect(s.falseAlarms).toBe(0);
  });

  it('agrees with a brute-force matcher on random streams', () => {
    const rng = createRng(5);
    for (let trial = 0; trial < 30; trial++) {
      const randomSpans: KeywordSpan[] = Array.from({ length: rng.int(30) }, () => {
        const startMs = rng.uniform(0, 60000);
        return { label: rng.next() < 0.5 ? 'yes' : 'no', startMs, endMs: startMs + rng.uniform(0, 2000) };
      });
      const detections = Array.from({ length: rng.int(60) }, () => ({
        label: rng.next() < 0.5 ? 'yes' : 'no',
        timeMs: Math.round(rng.uniform(0, 62000)),
      }));
      const options = { durationMs: 62000, beforeMs: rng.uniform(0, 300), afterMs: rng.uniform(0, 800) };
      // Reference: every window checked for every detection, same greedy rule.
      const hitBy = randomSpans.map(() => -1);
      const byStart = randomSpans
        .map((_, i) => i)
        .sort((a, b) => randomSpans[a]!.startMs - randomSpans[b]!.startMs || a - b);
      const order = detections
        .map((_, i) => i)
        .sort((a, b) => detections[a]!.timeMs - detections[b]!.timeMs || a - b);
      let falseAlarms = 0;
      for (const i of order) {
        const d = detections[i]!;
        const j = byStart.find((k) => {
          const s = randomSpans[k]!;
          return (
            s.label === d.label &&
            hitBy[k] === -1 &&
            d.timeMs >= s.startMs - options.beforeMs &&
            d.timeMs <= s.endMs + options.afterMs
          );
        });
        if (j === undefined) falseAlarms++;
        else hitBy[j] = i;
      }
      const s = scoreDetections(detections, randomSpans, options);
      expect(s.hitBy).toEqual(hitBy);
      expect(s.falseAlarms).toBe(falseAlarms);
    }
  });

  it('handles no spans and no detections', () => {
    const none = scoreDetections([], [], { durationMs: 1000 });
    expect([none.keywords, none.recall, none.falseAlarms, none.falseAlarmsPerHour]).toEqual([0, 0, 0, 0]);
    expect(scoreDetections([{ label: 'x', timeMs: 1 }], [], { durationMs: hour }).falseAlarmsPerHour).toBe(1);
  });

  it('rejects malformed input', () => {
    expect(code(() => scoreDetections([], spans, { durationMs: 0 }))).toBe('INVALID_ARGUMENT');
    expect(code(() => scoreDetections([], spans, { durationMs: 1, afterMs: -1 }))).toBe('INVALID_ARGUMENT');
    expect(code(() => scoreDetections([], [{ label: 'a', startMs: 2, endMs: 1 }], { durationMs: 1 }))).toBe(
      'INVALID_ARGUMENT',
    );
    expect(code(() => scoreDetections([{ label: 'a', timeMs: Number.NaN }], [], { durationMs: 1 }))).toBe(
      'INVALID_ARGUMENT',
    );
    expect(code(() => scoreDetections(null as unknown as [], [], { durationMs: 1 }))).toBe(
      'INVALID_ARGUMENT',
    );
  });
});

const labels = ['_silence_', '_unknown_', 'yes', 'no'];

/** 100 ms steps over 12 s: "yes" rises to 0.9 in span 0, "no" to 0.6 in span 1, a 0.7 "no" blip at 7.5 s. */
function posteriors(): TimedScores[] {
  const out: TimedScores[] = [];
  for (let t = 100; t <= 12000; t += 100) {
    let yes = 0.02;
    let no = 0.02;
    if (t >= 1500 && t <= 2300) yes = 0.9;
    if (t >= 5400 && t <= 6200) no = 0.6;
    if (t === 7500) no = 0.7;
    if (t >= 9300 && t <= 9600) yes = 0.45;
    out.push({ timeMs: t, scores: Float32Array.from([1 - yes - no - 0.01, 0.01, yes, no]) });
  }
  return out;
}

describe('sweepThresholds', () => {
  it('scores the detector once per threshold', () => {
    const points = sweepThresholds(posteriors(), spans, {
      labels,
      thresholds: [0.95, 0.8, 0.65, 0.5, 0.4],
      durationMs: hour,
    });
    expect(points.map((p) => [p.threshold, p.hits, p.falseAlarms])).toEqual([
      [0.95, 0, 0],
      [0.8, 1, 0],
      [0.65, 1, 1],
      [0.5, 2, 1],
      [0.4, 3, 1],
    ]);
    expect(points[2]?.falseAlarmsPerHour).toBe(1);
    expect(points[4]?.recall).toBe(1);
  });

  it('gives the same points from the best-keyword compression as from full posteriors', () => {
    const rng = createRng(3);
    const sequence: TimedScores[] = [];
    for (let t = 0; t < 60000; t += 100) {
      const raw = labels.map(() => rng.next() ** 4);
      const sum = raw.reduce((a, b) => a + b, 0);
      sequence.push({ timeMs: t, scores: Float32Array.from(raw, (v) => v / sum) });
    }
    const randomSpans: KeywordSpan[] = Array.from({ length: 20 }, (_, i) => ({
      label: i % 2 === 0 ? 'yes' : 'no',
      startMs: i * 3000,
      endMs: i * 3000 + 1000,
    }));
    const best = detectKeywords(sequence, { labels, threshold: 0, refractoryMs: 0 });
    expect(best).toHaveLength(sequence.length);
    const thresholds = [0.3, 0.5, 0.7, 0.9];
    const options = { labels, thresholds, durationMs: 60000, refractoryMs: 700 };
    expect(sweepThresholds(bestKeywordSequence(best, labels.length), randomSpans, options)).toEqual(
      sweepThresholds(sequence, randomSpans, options),
    );
  });

  it('rejects an empty or out-of-range threshold list', () => {
    expect(code(() => sweepThresholds([], spans, { labels, thresholds: [], durationMs: 1 }))).toBe(
      'INVALID_ARGUMENT',
    );
    expect(code(() => sweepThresholds([], spans, { labels, thresholds: [1.5], durationMs: 1 }))).toBe(
      'INVALID_ARGUMENT',
    );
    expect(code(() => bestKeywordSequence([{ labelIndex: 4, score: 0.5, timeMs: 0 }], 4))).toBe(
      'INVALID_ARGUMENT',
    );
  });
});

function point(threshold: number, frr: number, faPerHour: number): ThresholdPoint {
  return {
    threshold,
    hits: 0,
    misses: 0,
    falseAlarms: 0,
    recall: 1 - frr,
    falseRejectionRate: frr,
    falseAlarmsPerHour: faPerHour,
  };
}

describe('frrAtFalseAlarmRate', () => {
  const curve = [point(0.9, 0.4, 0), point(0.8, 0.3, 0.5), point(0.7, 0.2, 2), point(0.5, 0.1, 12)];

  it('picks the lowest FRR within the budget and interpolates to the budget', () => {
    expect(frrAtFalseAlarmRate(curve, 1)).toEqual({
      targetPerHour: 1,
      threshold: 0.8,
      falseRejectionRate: 0.3,
      falseAlarmsPerHour: 0.5,
      interpolatedFrr: 0.3 + ((1 - 0.5) / (2 - 0.5)) * (0.2 - 0.3),
    });
    const at10 = frrAtFalseAlarmRate(curve, 10);
    expect([at10?.threshold, at10?.falseRejectionRate]).toEqual([0.7, 0.2]);
    expect(at10?.interpolatedFrr).toBeCloseTo(0.2 - (8 / 10) * 0.1, 12);
    expect(frrAtFalseAlarmRate(curve, 100)?.interpolatedFrr).toBe(0.1);
  });

  it('returns null when the budget is never met', () => {
    expect(frrAtFalseAlarmRate([point(0.9, 0.5, 3)], 1)).toBeNull();
    expect(frrAtFalseAlarmRate([], 1)).toBeNull();
    expect(code(() => frrAtFalseAlarmRate(curve, -1))).toBe('INVALID_ARGUMENT');
  });
});
