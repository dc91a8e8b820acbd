import { describe, expect, it } from 'vitest';
import { KwsError } from '../../src/errors.js';
import { learningRateSchedule } from '../../src/train/schedule.js';

describe('learningRateSchedule', () => {
  it('warms up linearly per step, then follows a half cosine (hand-computed values)', () => {
    const lr = learningRateSchedule({ peak: 0.1, totalSteps: 10, warmupSteps: 4 });
    // Warm-up: η·(s+1)/W.
    expect(lr(0)).toBeCloseTo(0.025, 15);
    expect(lr(1)).toBeCloseTo(0.05, 15);
    expect(lr(2)).toBeCloseTo(0.075, 15);
    expect(lr(3)).toBeCloseTo(0.1, 15);
    // Cosine over T − W = 6 steps: η·½·(1 + cos(π·(s − 4)/6)).
    expect(lr(4)).toBeCloseTo(0.1, 15);
    expect(lr(5)).toBeCloseTo(0.05 * (1 + Math.cos(Math.PI / 6)), 15); // 0.0933013
    expect(lr(7)).toBeCloseTo(0.05, 15);
    expect(lr(9)).toBeCloseTo(0.05 * (1 - Math.sqrt(3) / 2), 15); // 0.0066987, the last step
    // Past the end: clamped to the last step.
    expect(lr(25)).toBe(lr(9));
    // Monotone after the warm-up.
    for (let s = 4; s < 9; s++) expect(lr(s + 1)).toBeLessThan(lr(s));
  });

  it('without warm-up starts at the peak; a constant schedule stays there', () => {
    const cos = learningRateSchedule({ peak: 2, totalSteps: 4 });
    expect([0, 1, 2, 3].map(cos)).toEqual([2, 1 + Math.cos(Math.PI / 4), 1, 1 + Math.cos((3 * Math.PI) / 4)]);
    const flat = learningRateSchedule({ peak: 0.3, totalSteps: 6, warmupSteps: 3, kind: 'constant' });
    expect([0, 1, 2, 3, 4, 5].map(flat)).toEqual(
      [0.1, 0.2, 0.3, 0.3, 0.3, 0.3].map((v, i) => (i < 3 ? (0.3 * (i + 1)) / 3 : v)),
    );
    // A one-step run uses the peak.
    expect(learningRateSchedule({ peak: 0.5, totalSteps: 1 })(0)).toBe(0.5);
  });

  it('clamps a warm-up longer than the run', () => {
    const lr = learningRateSchedule({ peak: 1, totalSteps: 4, warmupSteps: 10 });
    expect([0, 1, 2, 3].map(lr)).toEqual([0.25, 0.5, 0.75, 1]);
  });

  it('rejects bad options', () => {
    const bad = [
      { peak: 0, totalSteps: 10 },
      { peak: 0.1, totalSteps: 0 },
      { peak: 0.1, totalSteps: 10, warmupSteps: -1 },
      { peak: 0.1, totalSteps: 10, warmupSteps: 1.5 },
      { peak: 0.1, totalSteps: 10, kind: 'linear' },
    ];
    for (const o of bad) {
      expect(() => learningRateSchedule(o as never)).toThrow(KwsError);
    }
  });
});
