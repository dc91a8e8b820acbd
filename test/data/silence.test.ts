import { describe, expect, it } from 'vitest';
import { cutNoise, fitClip, planNoiseCuts } from '../../src/data/index.js';

describe('planNoiseCuts / cutNoise', () => {
  const recordings = [
    new Float32Array(50_000).map((_, i) => i),
    new Float32Array(100),
    new Float32Array(16_000),
  ];

  it('cuts inside the recordings, skips those shorter than a clip, and is reproducible', () => {
    const cuts = planNoiseCuts(recordings, 200, 16_000, 4);
    expect(cuts).toEqual(planNoiseCuts(recordings, 200, 16_000, 4));
    expect(cuts).not.toEqual(planNoiseCuts(recordings, 200, 16_000, 5));
    for (const c of cuts) {
      expect(c.noiseIndex === 0 || c.noiseIndex === 2).toBe(true);
      expect(c.offset).toBeGreaterThanOrEqual(0);
      expect(c.offset + 16_000).toBeLessThanOrEqual((recordings[c.noiseIndex] as Float32Array).length);
      if (c.noiseIndex === 2) expect(c.offset).toBe(0);
    }
    const first = cuts.find((c) => c.noiseIndex === 0);
    if (first === undefined) throw new Error('no cut from recording 0');
    const clip = cutNoise(recordings, first, 16_000);
    expect(clip.length).toBe(16_000);
    expect(clip[0]).toBe(first.offset);
    expect(clip[15_999]).toBe(first.offset + 15_999);
  });

  it('throws DATASET_INVALID when no recording is long enough', () => {
    expect(() => planNoiseCuts([new Float32Array(10)], 1, 16_000)).toThrow(
      expect.objectContaining({ code: 'DATASET_INVALID' }),
    );
    expect(planNoiseCuts([], 0, 16_000)).toEqual([]);
  });
});

describe('fitClip', () => {
  it('zero-pads at the end and crops to the first samples', () => {
    expect([...fitClip(Float32Array.of(1, 2), 4)]).toEqual([1, 2, 0, 0]);
    expect([...fitClip(Float32Array.of(1, 2, 3, 4, 5), 3)]).toEqual([1, 2, 3]);
  });
});
