import { describe, expect, it } from 'vitest';
import { KwsError } from '../../src/errors.js';
import {
  type DetectorOptions,
  detectKeywords,
  KeywordDetector,
  resolveDetectorOptions,
  type TimedScores,
} from '../../src/streaming/detector.js';

const labels = ['_silence_', '_unknown_', 'yes', 'no'];
const f = Math.fround;

/** Scores as float32, the way they come out of a model. */
function at(timeMs: number, scores: number[]): TimedScores {
  return { timeMs, scores: Float32Array.from(scores) };
}

function events(sequence: TimedScores[], options: Partial<DetectorOptions> = {}): string[] {
  return detectKeywords(sequence, { labels, ...options }).map((d) => `${d.label}@${d.timeMs}:${d.score}`);
}

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(KwsError);
    return (e as KwsError).code;
  }
  return undefined;
}

describe('resolveDetectorOptions', () => {
  it('reports every label but the fillers by default, with threshold 0.8 and 1 s refractory', () => {
    expect(resolveDetectorOptions({ labels })).toEqual({
      labels,
      keywords: ['yes', 'no'],
      fillers: [],
      thresholds: { yes: 0.8, no: 0.8 },
      refractoryMs: 1000,
    });
  });

  it('adds fillers with reportFiller, keeps label order, and merges per-label thresholds', () => {
    const config = resolveDetectorOptions({
      labels,
      keywords: ['no', 'yes'],
      reportFiller: true,
      threshold: { no: 0.6, _silence_: 0.95 },
      refractoryMs: 0,
    });
    expect(config.keywords).toEqual(['yes', 'no']);
    expect(config.fillers).toEqual(['_silence_', '_unknown_']);
    expect(config.thresholds).toEqual({ _silence_: 0.95, _unknown_: 0.8, yes: 0.8, no: 0.6 });
    expect(config.refractoryMs).toBe(0);
  });

  it('throws KwsError with stable codes for bad options', () => {
    expect(code(() => resolveDetectorOptions({ labels: [] }))).toBe('INVALID_ARGUMENT');
    expect(code(() => resolveDetectorOptions({ labels: ['a', 'a'] }))).toBe('INVALID_ARGUMENT');
    expect(code(() => resolveDetectorOptions({ labels: ['a', ''] }))).toBe('INVALID_ARGUMENT');
    expect(code(() => resolveDetectorOptions({ labels, keywords: ['maybe'] }))).toBe('NOT_FOUND');
    expect(code(() => resolveDetectorOptions({ labels, threshold: 1.5 }))).toBe('INVALID_ARGUMENT');
    expect(code(() => resolveDetectorOptions({ labels, threshold: -0.1 }))).toBe('INVALID_ARGUMENT');
    expect(code(() => resolveDetectorOptions({ labels, threshold: Number.NaN }))).toBe('INVALID_ARGUMENT');
    expect(code(() => resolveDetectorOptions({ labels, threshold: { yes: 2 } }))).toBe('INVALID_ARGUMENT');
    expect(code(() => resolveDetectorOptions({ labels, threshold: { maybe: 0.5 } }))).toBe('NOT_FOUND');
    // A filler that is not reported cannot have a threshold.
    expect(code(() => resolveDetectorOptions({ labels, threshold: { _silence_: 0.5 } }))).toBe(
      'INVALID_ARGUMENT',
    );
    expect(code(() => resolveDetectorOptions({ labels, refractoryMs: -1 }))).toBe('INVALID_ARGUMENT');
    expect(code(() => resolveDetectorOptions({ labels: ['_silence_', '_unknown_'] }))).toBe(
      'INVALID_ARGUMENT',
    );
    expect(code(() => resolveDetectorOptions({ labels, keywords: [] }))).toBe('INVALID_ARGUMENT');
  });
});

describe('KeywordDetector', () => {
  it('fires at the threshold and suppresses keywords for the refractory period', () => {
    const sequence = [
      at(100, [0.1, 0, 0.9, 0]), // yes
      at(200, [0, 0, 0.95, 0]), // refractory
      at(300, [0.2, 0, 0.79, 0]), // below threshold
      at(1100, [0, 0.2, 0.8, 0]), // 1000 ms after the last event: fires (threshold inclusive)
      at(1200, [0, 0.1, 0, 0.9]), // "no" shares the keywords' refractory period
      at(2099, [0, 0.1, 0, 0.9]),
      at(2100, [0, 0.1, 0, 0.9]), // no
    ];
    expect(events(sequence)).toEqual([`yes@100:${f(0.9)}`, `yes@1100:${f(0.8)}`, `no@2100:${f(0.9)}`]);
    expect(events(sequence, { refractoryMs: 0 })).toEqual([
      `yes@100:${f(0.9)}`,
      `yes@200:${f(0.95)}`,
      `yes@1100:${f(0.8)}`,
      `no@1200:${f(0.9)}`,
      `no@2099:${f(0.9)}`,
      `no@2100:${f(0.9)}`,
    ]);
  });

  it('applies per-keyword thresholds and reports only the chosen keywords', () => {
    const sequence = [at(100, [0, 0, 0.6, 0.4]), at(1200, [0, 0, 0.4, 0.6]), at(2300, [0, 0, 0.1, 0.85])];
    expect(events(sequence, { threshold: { yes: 0.5 } })).toEqual([
      `yes@100:${f(0.6)}`,
      `no@2300:${f(0.85)}`,
    ]);
    expect(events(sequence, { threshold: 0.55 })).toEqual([
      `yes@100:${f(0.6)}`,
      `no@1200:${f(0.6)}`,
      `no@2300:${f(0.85)}`,
    ]);
    expect(events(sequence, { threshold: 0.55, keywords: ['no'] })).toEqual([
      `no@1200:${f(0.6)}`,
      `no@2300:${f(0.85)}`,
    ]);
  });

  it('fires the best keyword when several cross at once (lowest index on ties)', () => {
    const sequence = [at(0, [0, 0, 0.45, 0.45]), at(1000, [0, 0.2, 0.35, 0.45])];
    expect(events(sequence, { threshold: 0.3 })).toEqual([`yes@0:${f(0.45)}`, `no@1000:${f(0.45)}`]);
  });

  it('reports fillers on request, each with its own refractory period that never blocks keywords', () => {
    const sequence = [
      at(100, [0.9, 0.1, 0, 0]), // silence
      at(200, [0.85, 0, 0.15, 0]), // silence in its refractory period
      at(300, [0, 0.1, 0.9, 0]), // yes: not blocked by the silence event
      at(400, [0, 0.9, 0.1, 0]), // unknown: its own group
      at(500, [0.1, 0, 0, 0.9]), // no: blocked by yes
      at(1100, [0.9, 0, 0.1, 0]), // silence again, 1000 ms after the first
    ];
    expect(events(sequence, { reportFiller: true })).toEqual([
      `_silence_@100:${f(0.9)}`,
      `yes@300:${f(0.9)}`,
      `_unknown_@400:${f(0.9)}`,
      `_silence_@1100:${f(0.9)}`,
    ]);
    expect(events(sequence)).toEqual([`yes@300:${f(0.9)}`]);
    // A filler and a keyword crossing at one instant both fire, in label order.
    expect(
      events([at(0, [0.5, 0, 0.5, 0])], { reportFiller: true, threshold: 0.5 }).map((e) => e.split('@')[0]),
    ).toEqual(['_silence_', 'yes']);
  });

  it('carries label, index, score and time; reset forgets the refractory state', () => {
    const detector = new KeywordDetector({ labels });
    expect(detector.step(1030, Float32Array.from([0.05, 0.05, 0.9, 0]))).toEqual([
      { label: 'yes', labelIndex: 2, score: f(0.9), timeMs: 1030 },
    ]);
    expect(detector.step(1130, [0, 0, 0.9, 0])).toEqual([]);
    detector.reset();
    expect(detector.step(0, [0, 0, 0, 1])).toEqual([{ label: 'no', labelIndex: 3, score: 1, timeMs: 0 }]);
  });

  it('throws KwsError for scores of the wrong length, non-finite scores and time going backwards', () => {
    const detector = new KeywordDetector({ labels });
    expect(code(() => detector.step(0, [0.5, 0.5]))).toBe('SHAPE_MISMATCH');
    expect(code(() => detector.step(0, [0, Number.NaN, 0, 0]))).toBe('NON_FINITE_INPUT');
    expect(code(() => detector.step(Number.NaN, [1, 0, 0, 0]))).toBe('INVALID_ARGUMENT');
    detector.step(100, [1, 0, 0, 0]);
    expect(code(() => detector.step(99, [1, 0, 0, 0]))).toBe('INVALID_ARGUMENT');
    expect(detector.step(100, [1, 0, 0, 0])).toEqual([]);
  });
});
