import { describe, expect, it } from 'vitest';
import { RealFft } from '../../src/features/fft.js';
import { createRng } from '../../src/random.js';

/**
 * The windowed-frame paths of RealFft (prime-factor FFT for N = 480, fused radix-16 first stage
 * for N = 512, windowing then Stockham otherwise) against a direct DFT of the windowed frame.
 */
function directDft(x: Float64Array): { re: Float64Array; im: Float64Array } {
  const n = x.length;
  const bins = Math.floor(n / 2) + 1;
  const re = new Float64Array(bins);
  const im = new Float64Array(bins);
  for (let k = 0; k < bins; k++) {
    let a = 0;
    let b = 0;
    for (let t = 0; t < n; t++) {
      const angle = (-2 * Math.PI * ((k * t) % n)) / n;
      a += x[t]! * Math.cos(angle);
      b += x[t]! * Math.sin(angle);
    }
    re[k] = a;
    im[k] = b;
  }
  return { re, im };
}

describe('RealFft windowed frames', () => {
  it.each([480, 512, 400, 30])('forwardWindowed and powerWindowed match the direct DFT for N = %i', (n) => {
    const rng = createRng(n);
    const signal = Float32Array.from({ length: n + 77 }, () => rng.uniform(-1, 1));
    const window = Float64Array.from({ length: n }, () => rng.uniform(0, 1));
    const start = 37;
    const windowed = Float64Array.from({ length: n }, (_, i) => signal[start + i]! * window[i]!);
    const ref = directDft(windowed);
    const plan = new RealFft(n);
    const re = new Float64Array(plan.bins);
    const im = new Float64Array(plan.bins);
    const power = new Float64Array(plan.bins);
    plan.forwardWindowed(signal, start, window, re, im);
    plan.powerWindowed(signal, start, window, power);
    let err = 0;
    let powerErr = 0;
    for (let k = 0; k < plan.bins; k++) {
      err = Math.max(err, Math.abs(re[k]! - ref.re[k]!), Math.abs(im[k]! - ref.im[k]!));
      const p = ref.re[k]! ** 2 + ref.im[k]! ** 2;
      powerErr = Math.max(powerErr, Math.abs(power[k]! - p) / Math.max(1, p));
    }
    expect(err).toBeLessThan(1e-9 * n);
    expect(powerErr).toBeLessThan(1e-9 * n);
  });

  it('gives the power of forwardWindowed (same untangling, squared in one pass)', () => {
    const rng = createRng(7);
    const signal = Float32Array.from({ length: 2000 }, () => rng.normal());
    const window = Float64Array.from(
      { length: 480 },
      (_, i) => 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / 480),
    );
    const plan = new RealFft(480);
    const re = new Float64Array(plan.bins);
    const im = new Float64Array(plan.bins);
    const power = new Float64Array(plan.bins);
    for (const start of [0, 160, 1520]) {
      plan.forwardWindowed(signal, start, window, re, im);
      plan.powerWindowed(signal, start, window, power);
      for (let k = 0; k < plan.bins; k++) expect(power[k]).toBeCloseTo(re[k]! ** 2 + im[k]! ** 2, 10);
    }
  });
});
